// Environment → one validated Config. The only module that reads process.env.
// Defaults live here, in one place; README.md documents every variable.

import { randomBytes } from 'node:crypto';
import type { AppId, AppKind, WeChatApp } from '../wechat/types.ts';
import { isWeChatId } from '../wechat/types.ts';
import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';
import { generateSigningKeys, loadJwksFile, type SigningKeys } from './keys.ts';

export type Mode = 'production' | 'development';
export type QrMode = 'embedded' | 'redirect';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** OIDC client metadata as written in CLIENTS_FILE (checked in full by oidc-provider at start). */
export type ClientMetadata = Record<string, unknown> & { client_id: string };

export interface WeChatSettings {
  readonly connectUrl: string;
  readonly apiUrl: string;
  readonly loginJsUrl: string;
  readonly qrMode: QrMode;
  readonly timeoutMs: number;
}

/** Where Redis is: one server, Sentinels naming a master, or Cluster seed nodes. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly password?: string; readonly tls: boolean; readonly db: number }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly password?: string; readonly tls: boolean };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface StorageSettings {
  readonly redis: RedisTarget | undefined;
  /** Prefix of every Redis key, so several brokers (or other apps) can share a Redis. */
  readonly redisPrefix: string;
  readonly mongodbUri: string | undefined;
  /** How long one storage operation may take before the request fails. */
  readonly timeoutMs: number;
}

export interface Config {
  readonly mode: Mode;
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). */
  readonly trustProxy: boolean;
  readonly logLevel: LogLevel;
  /** Upstream WeChat apps, in order of preference within a kind. */
  readonly apps: readonly WeChatApp[];
  readonly wechat: WeChatSettings;
  /** Undefined in dev mode without CLIENTS_FILE: the demo client is used. */
  readonly clients: readonly ClientMetadata[] | undefined;
  readonly keys: SigningKeys;
  readonly storage: StorageSettings;
  /** /metrics: a bearer token, a separate port, or (dev mode only) open on the main port. */
  readonly metrics: { readonly token: string | undefined; readonly port: number | undefined; readonly enabled: boolean };
  /** SIGTERM: how long to keep serving while not ready, then how long in-flight requests get. */
  readonly shutdown: { readonly delayMs: number; readonly timeoutMs: number };
  readonly cookieKeys: readonly string[];
  /** Dev mode without WeChat credentials: the built-in simulator plays WeChat. */
  readonly simulator: { readonly port: number } | undefined;
  /** Things the operator should know, printed in the startup banner. */
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const WECHAT_DEFAULTS = {
  connectUrl: 'https://open.weixin.qq.com',
  apiUrl: 'https://api.weixin.qq.com',
  loginJsUrl: 'https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js',
  timeoutMs: 5000,
};

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = text(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(name, 'must be an http(s) URL');
  if (url.search || url.hash) throw new ConfigError(name, 'must not have a query or fragment');
  return url.href.replace(/\/$/, '');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function wechatApp(env: Env, kind: AppKind, prefix: string): WeChatApp | undefined {
  const appidVar = `${prefix}_APPID`;
  const secretVar = `${prefix}_SECRET`;
  const appid = text(env, appidVar);
  const secret = text(env, secretVar);
  if (appid === undefined && secret === undefined) return undefined;
  if (appid === undefined) throw new ConfigError(appidVar, `is required when ${secretVar} is set`);
  if (secret === undefined) throw new ConfigError(secretVar, `is required when ${appidVar} is set`);
  if (!isWeChatId(appid)) throw new ConfigError(appidVar, 'is not a WeChat appid (letters, digits, _ and -)');
  if (!/^[A-Za-z0-9]{16,64}$/.test(secret)) throw new ConfigError(secretVar, 'is not a WeChat AppSecret (16 to 64 letters and digits)');
  return { kind, appid: appid as AppId, secret };
}

export function clientsFile(name: string, path: string): ClientMetadata[] {
  const value = readJsonFile(name, path);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(name, `${path}: expected a non-empty JSON array of client metadata`);
  const ids = new Set<string>();
  return value.map((client: unknown, index) => {
    if (typeof client !== 'object' || client === null || Array.isArray(client)) {
      throw new ConfigError(name, `entry ${index} is not an object`);
    }
    const { client_id: id, first_party: firstParty } = client as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') throw new ConfigError(name, `entry ${index}: client_id is required`);
    if (ids.has(id)) throw new ConfigError(name, `client ${id}: client_id is used twice`);
    if (firstParty !== undefined && typeof firstParty !== 'boolean') throw new ConfigError(name, `client ${id}: first_party must be true or false`);
    ids.add(id);
    return client as ClientMetadata;
  });
}

function hostPorts(variable: string, list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((item) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(item.trim());
    if (!match?.[1]) throw new ConfigError(variable, `"${item}" is not host:port`);
    return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
  });
}

/**
 * REDIS_URL forms:
 *   redis://[:password@]host[:port][/db]              one server (rediss:// for TLS)
 *   redis-sentinel://[:password@]h1:26379,h2:26379/mymaster[/db]   Sentinel (rediss-sentinel:// for TLS)
 *   redis-cluster://[:password@]h1:6379,h2:6379       Cluster seed nodes (rediss-cluster:// for TLS)
 */
export function parseRedisUrl(variable: string, raw: string): RedisTarget {
  const match = /^(rediss?)(-sentinel|-cluster)?:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)(?:\/(.*))?$/.exec(raw);
  if (!match) throw new ConfigError(variable, 'expected redis://, rediss://, redis-sentinel:// or redis-cluster:// (see README)');
  const [, scheme, variant, password, hosts = '', path = ''] = match;
  const tls = scheme === 'rediss';
  const secret = password ? decodeURIComponent(password) : undefined;
  if (!variant) {
    if (hosts.includes(',')) throw new ConfigError(variable, 'several hosts need redis-sentinel:// or redis-cluster://');
    if (path && !/^\d+$/.test(path)) throw new ConfigError(variable, `database "${path}" is not a number`);
    return { kind: 'standalone', url: raw };
  }
  if (variant === '-cluster') {
    if (path) throw new ConfigError(variable, 'Redis Cluster has no databases: remove the path');
    return { kind: 'cluster', nodes: hostPorts(variable, hosts, 6379), password: secret, tls };
  }
  const [name, db = '0'] = path.split('/');
  if (!name) throw new ConfigError(variable, 'redis-sentinel:// needs the master name as its path: redis-sentinel://h1:26379,h2:26379/mymaster');
  if (!/^\d+$/.test(db)) throw new ConfigError(variable, `database "${db}" is not a number`);
  return { kind: 'sentinel', sentinels: hostPorts(variable, hosts, 26379), name, password: secret, tls, db: Number(db) };
}

function mongodbUri(env: Env): string | undefined {
  const raw = text(env, 'MONGODB_URI');
  if (raw === undefined) return undefined;
  if (!/^mongodb(\+srv)?:\/\/[^/]+/.test(raw)) throw new ConfigError('MONGODB_URI', 'expected mongodb:// or mongodb+srv://');
  return raw;
}

function cookieKeys(env: Env): string[] | undefined {
  const raw = text(env, 'COOKIE_KEYS');
  if (raw === undefined) return undefined;
  const keys = raw.split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.length === 0 || keys.some((key) => key.length < 32)) {
    throw new ConfigError('COOKIE_KEYS', 'each comma-separated secret must have at least 32 characters');
  }
  return keys;
}

/**
 * The configuration with CLIENTS_FILE and JWKS_FILE read again (SIGHUP). Everything else
 * (ports, storage, WeChat apps) needs a restart.
 */
export async function reloadFiles(config: Config, env: Env = process.env): Promise<Config> {
  const clientsPath = text(env, 'CLIENTS_FILE');
  const jwksPath = text(env, 'JWKS_FILE');
  return {
    ...config,
    clients: clientsPath ? clientsFile('CLIENTS_FILE', clientsPath) : config.clients,
    keys: jwksPath ? loadJwksFile('JWKS_FILE', jwksPath) : config.keys,
  };
}

export async function loadConfig(env: Env = process.env): Promise<Config> {
  const mode: Mode = text(env, 'NODE_ENV') === 'production' ? 'production' : 'development';
  const production = mode === 'production';
  const warnings: string[] = [];

  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = text(env, 'HOST') ?? (production ? '0.0.0.0' : 'localhost');
  const issuer = httpUrl(env, 'ISSUER', `http://localhost:${port}`);
  if (new URL(issuer).pathname !== '/') throw new ConfigError('ISSUER', 'must be an origin without a path (WeChat checks the callback domain)');

  const apps = [wechatApp(env, 'mp', 'WECHAT_MP'), wechatApp(env, 'open', 'WECHAT_OPEN')]
    .filter((app): app is WeChatApp => app !== undefined);

  const clientsPath = text(env, 'CLIENTS_FILE');
  const jwksPath = text(env, 'JWKS_FILE');
  const keys = cookieKeys(env);

  if (production) {
    const missing = [
      keys ? undefined : 'COOKIE_KEYS',
      jwksPath ? undefined : 'JWKS_FILE',
      clientsPath ? undefined : 'CLIENTS_FILE',
    ].filter(Boolean);
    if (missing.length) throw new ConfigError(missing.join(', '), 'required when NODE_ENV=production');
    if (apps.length === 0) {
      throw new ConfigError('WECHAT_MP_APPID/WECHAT_OPEN_APPID', 'NODE_ENV=production needs at least one WeChat app (the simulator never runs in production)');
    }
    if (!issuer.startsWith('https:')) warnings.push('ISSUER is not https: browsers will drop the broker\'s cookies on cross-site returns');
  }

  const simulator = apps.length === 0 ? { port: integer(env, 'WECHAT_SIMULATOR_PORT', port === 0 ? 0 : port + 1, 0, 65535) } : undefined;
  if (simulator) warnings.push('no WeChat credentials: the built-in WeChat simulator plays WeChat (dev mode only)');
  if (!keys) warnings.push('COOKIE_KEYS not set: random cookie keys, sessions end when the broker restarts');
  if (!jwksPath) warnings.push('JWKS_FILE not set: fresh signing keys, tokens stop verifying when the broker restarts');
  if (!clientsPath) warnings.push('CLIENTS_FILE not set: only the demo client is registered');
  const metricsToken = text(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must have at least 16 characters');
  const metricsPort = text(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 1, 65535);
  const metricsEnabled = !production || metricsToken !== undefined || metricsPort !== undefined;
  if (!metricsEnabled) warnings.push('/metrics is off: set METRICS_TOKEN or METRICS_PORT to expose it');

  const redisUrl = text(env, 'REDIS_URL');
  const storage: StorageSettings = {
    redis: redisUrl === undefined ? undefined : parseRedisUrl('REDIS_URL', redisUrl),
    redisPrefix: text(env, 'REDIS_PREFIX') ?? 'wechat-broker:',
    mongodbUri: mongodbUri(env),
    timeoutMs: integer(env, 'STORAGE_TIMEOUT_MS', 2000, 50, 60_000),
  };
  if (!storage.redis && !storage.mongodbUri) {
    if (production) warnings.push('neither REDIS_URL nor MONGODB_URI: storage is in memory, one instance only, everything is lost on restart');
    else warnings.push('storage is in memory: logins, sessions and accounts are lost when the broker stops');
  }

  return {
    mode,
    port,
    host,
    issuer,
    trustProxy: text(env, 'TRUST_PROXY') === undefined ? issuer.startsWith('https:') : oneOf(env, 'TRUST_PROXY', ['true', 'false'], 'false') === 'true',
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    apps,
    wechat: {
      connectUrl: httpUrl(env, 'WECHAT_CONNECT_URL', WECHAT_DEFAULTS.connectUrl),
      apiUrl: httpUrl(env, 'WECHAT_API_URL', WECHAT_DEFAULTS.apiUrl),
      loginJsUrl: httpUrl(env, 'WECHAT_LOGIN_JS_URL', WECHAT_DEFAULTS.loginJsUrl),
      qrMode: oneOf<QrMode>(env, 'WECHAT_QR_MODE', ['embedded', 'redirect'], 'embedded'),
      timeoutMs: integer(env, 'WECHAT_TIMEOUT_MS', WECHAT_DEFAULTS.timeoutMs, 100, 60_000),
    },
    clients: clientsPath ? clientsFile('CLIENTS_FILE', clientsPath) : undefined,
    keys: jwksPath ? loadJwksFile('JWKS_FILE', jwksPath) : await generateSigningKeys(),
    storage,
    metrics: { token: metricsToken, port: metricsPort, enabled: metricsEnabled },
    shutdown: {
      delayMs: integer(env, 'SHUTDOWN_DELAY_MS', 0, 0, 120_000),
      timeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    },
    cookieKeys: keys ?? [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
    simulator,
    warnings,
  };
}
