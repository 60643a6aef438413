// REDIS_URL's forms:
//   redis://[:password@]host[:port][/db]              one server (rediss:// for TLS)
//   redis-sentinel://[:password@]h1:26379,h2:26379/mymaster[/db]   Sentinel (rediss-sentinel:// for TLS)
//   redis-cluster://[:password@]h1:6379,h2:6379       Cluster seed nodes (rediss-cluster:// for TLS)

import { ConfigError } from './errors.ts';

/** Where Redis is: one server, Sentinels naming a master, or Cluster seed nodes. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly password?: string; readonly tls: boolean; readonly db: number }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly password?: string; readonly tls: boolean };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

function hostPorts(variable: string, list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((item) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(item.trim());
    if (!match?.[1]) throw new ConfigError(variable, `"${item}" is not host:port`);
    return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
  });
}

function sentinel(variable: string, hosts: string, path: string, password: string | undefined, tls: boolean): RedisTarget {
  const [name, db = '0'] = path.split('/');
  if (!name) throw new ConfigError(variable, 'redis-sentinel:// needs the master name as its path: redis-sentinel://h1:26379,h2:26379/mymaster');
  if (!/^\d+$/.test(db)) throw new ConfigError(variable, `database "${db}" is not a number`);
  return { kind: 'sentinel', sentinels: hostPorts(variable, hosts, 26379), name, password, tls, db: Number(db) };
}

/** The URL's percent-encoded password (RFC 3986 3.2.1), decoded; never echoed in the error. */
function passwordOf(variable: string, encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new ConfigError(variable, 'the password is not well percent-encoded: write %, @, : and / in it as %25, %40, %3A and %2F');
  }
}

/** The target a REDIS_URL names; ConfigError naming `variable` when it names none. */
export function parseRedisUrl(variable: string, raw: string): RedisTarget {
  const match = /^(rediss?)(-sentinel|-cluster)?:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)(?:\/(.*))?$/.exec(raw);
  if (!match) throw new ConfigError(variable, 'expected redis://, rediss://, redis-sentinel:// or redis-cluster:// (see README)');
  const [, scheme, variant, password, hosts = '', path = ''] = match;
  const tls = scheme === 'rediss';
  const secret = password ? passwordOf(variable, password) : undefined;
  if (variant === '-sentinel') return sentinel(variable, hosts, path, secret, tls);
  if (variant === '-cluster') {
    if (path) throw new ConfigError(variable, 'Redis Cluster has no databases: remove the path');
    return { kind: 'cluster', nodes: hostPorts(variable, hosts, 6379), password: secret, tls };
  }
  if (hosts.includes(',')) throw new ConfigError(variable, 'several hosts need redis-sentinel:// or redis-cluster://');
  if (path && !/^\d+$/.test(path)) throw new ConfigError(variable, `database "${path}" is not a number`);
  return { kind: 'standalone', url: raw };
}
