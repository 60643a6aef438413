// The broker's own side: the ISSUER (its host is the domain to register with WeChat), the
// clock against WeChat's (push timestamps are checked to ±10 minutes), the signing keys
// (algorithms, sizes, and the age of each signing key: a year at most),
// the cookie keys and every client's redirect URIs.

import type { JWK } from 'jose';
import type { ClientMetadata, Config } from '../config/config.ts';
import { keyMadeAt, signingKeys } from '../config/keys.ts';
import { fail, networkReason, ok, unknown, type Check, type Finding } from './findings.ts';

/** Beyond this, WeChat's signed pushes (checked to ±10 minutes) are at risk. */
const CLOCK_SKEW_LIMIT_S = 5 * 60;

function issuerCheck(issuer: string): Check {
  return {
    name: 'issuer',
    run: async () => {
      const url = new URL(issuer);
      if (url.protocol === 'https:') return [ok('issuer', 'ISSUER', `${issuer}: register ${url.host} as the callback domain (网页授权域名, 授权回调域, 可信域名)`)];
      const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      const advice = { zh: 'ISSUER 要用 https（微信只跳转到已备案、已登记的域名）：设置 ISSUER=https://<域名>。', en: 'ISSUER must be https (WeChat only redirects to a registered, ICP-filed domain): set ISSUER=https://<domain>.' };
      return [local ? unknown('issuer', 'ISSUER', `${issuer}: fine for trying things out on this machine, not for WeChat`, advice) : fail('issuer', 'ISSUER', `${issuer} is not https`, advice)];
    },
  };
}

/** WeChat's API host did not answer: the clock is not compared (and every call to WeChat would fail the same way; the simulator of dev mode needs none). */
function unreachable(apiUrl: string, reason: string): Finding {
  return unknown('clock', 'clock', `${apiUrl} cannot be reached (${reason}): the clock is not compared`, {
    zh: `配置了自己的微信应用后，本服务要能经 HTTPS 访问 ${apiUrl}（域名解析、防火墙、出站代理）：每次调用微信都经过它。`,
    en: `Once it has WeChat apps of its own, the broker must reach ${apiUrl} over HTTPS (DNS, firewall, outbound proxy): every call to WeChat goes there.`,
  });
}

/** The clock against the Date header of WeChat's API host. */
function clockCheck(apiUrl: string, timeoutMs: number): Check {
  return {
    name: 'clock',
    run: async () => {
      const response = await fetch(apiUrl, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) }).catch((error: unknown) => error as Error);
      if (response instanceof Error) return [unreachable(apiUrl, networkReason(response, timeoutMs))];
      const theirs = Date.parse(response.headers.get('date') ?? '');
      const advice = { zh: '用 NTP 校准服务器时间（chrony 或 systemd-timesyncd）。', en: 'Set the server\'s clock by NTP (chrony or systemd-timesyncd).' };
      if (Number.isNaN(theirs)) return [unknown('clock', 'clock', `${apiUrl} sent no Date header to compare with`, advice)];
      const skew = Math.round((Date.now() - theirs) / 1000);
      const detail = `this server's clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} WeChat's`;
      return [Math.abs(skew) <= CLOCK_SKEW_LIMIT_S ? ok('clock', 'clock', detail) : fail('clock', 'clock', `${detail}: WeChat's pushes carry timestamps checked to ±10 minutes`, advice)];
    },
  };
}

/** A signing key older than this should be rotated out (a year: what a leaked key could sign is bounded by it). */
const KEY_MAX_AGE_DAYS = 365;
const DAY_MS = 86_400_000;

/** How old a signing key is, by the `iat` that `npm run keys` writes into it. */
function ageFinding(key: JWK): Finding {
  const subject = `${key.kid} ${key.alg}`;
  const rotate = { zh: '按 README“签名密钥”一节轮换：npm run keys -- add，等一天，promote，再 retire 旧密钥。', en: 'Rotate it as the README\'s "Signing keys" says: npm run keys -- add, wait a day, promote, then retire the old key.' };
  const made = keyMadeAt(key);
  if (!made) return unknown('key-age', subject, 'made elsewhere than npm run keys (no iat): its age is unknown', rotate);
  const days = Math.floor((Date.now() - made.getTime()) / DAY_MS);
  return days > KEY_MAX_AGE_DAYS
    ? fail('key-age', subject, `made ${days} days ago (${made.toISOString().slice(0, 10)}): older than a year`, rotate)
    : ok('key-age', subject, `made ${days} days ago (${made.toISOString().slice(0, 10)})`);
}

function keysCheck(config: Pick<Config, 'keys' | 'cookieKeys'>): Check {
  return {
    name: 'keys',
    run: async () => {
      const findings: Finding[] = [];
      const described = config.keys.keys.map((key) => `${key.kid ?? '?'} ${key.alg ?? key.kty}${key.kty === 'RSA' && typeof key.n === 'string' ? ` ${Buffer.from(key.n, 'base64url').length * 8} bit` : key.crv ? ` ${key.crv}` : ''}`);
      const weak = config.keys.keys.some((key) => key.kty === 'RSA' && typeof key.n === 'string' && Buffer.from(key.n, 'base64url').length * 8 < 2048);
      findings.push(weak
        ? fail('signing-keys', 'JWKS_FILE', `${described.join(', ')}: an RSA key under 2048 bits`, { zh: '用 npm run keys 生成新的密钥并轮换。', en: 'Make new keys with npm run keys and rotate them in.' })
        : ok('signing-keys', 'JWKS_FILE', described.join(', ')));
      findings.push(...signingKeys(config.keys.keys).map(ageFinding));
      findings.push(ok('cookie-keys', 'COOKIE_KEYS', `${config.cookieKeys.length} key${config.cookieKeys.length > 1 ? 's (the first signs; the others still verify)' : ''}`));
      return findings;
    },
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function clientsCheck(clients: readonly ClientMetadata[]): Check {
  return {
    name: 'clients',
    run: async () => clients.map((client) => {
      const uris = [...(client.redirect_uris as string[] | undefined) ?? []];
      const plain = uris.filter((uri) => { const url = new URL(uri); return url.protocol === 'http:' && !LOOPBACK.has(url.hostname); });
      return plain.length
        ? fail('redirect-uris', String(client.client_id), `http redirect URIs: ${plain.join(' ')}`, { zh: '回调地址要用 https（本机回环地址除外）：改 CLIENTS_FILE。', en: 'Redirect URIs must be https (loopback aside): correct CLIENTS_FILE.' })
        : ok('redirect-uris', String(client.client_id), uris.length ? `${uris.length} redirect URI${uris.length > 1 ? 's' : ''}, all https or loopback` : 'no redirect URIs (a device or a service)');
    }),
  };
}

export function brokerChecks(config: Pick<Config, 'issuer' | 'keys' | 'cookieKeys' | 'wechat'> & { readonly clients: readonly ClientMetadata[] }): Check[] {
  return [issuerCheck(config.issuer), clockCheck(config.wechat.apiUrl, config.wechat.timeoutMs), keysCheck(config), clientsCheck(config.clients)];
}

/**
 * Redis, when it holds what must not be lost (the accounts, or a platform's authorizations,
 * when MongoDB does not): persistence on (`appendonly yes`) and no eviction
 * (`maxmemory-policy noeviction`), or a full Redis silently drops people.
 */
export function redisCheck(setting: (name: string) => Promise<string | undefined>): Check {
  return {
    name: 'redis',
    run: async () => {
      const [appendonly, policy] = await Promise.all([setting('appendonly'), setting('maxmemory-policy')]);
      const byHand = { zh: '在 Redis 上执行 CONFIG GET appendonly 和 CONFIG GET maxmemory-policy，应为 yes 和 noeviction（托管 Redis 在控制台里查看）。', en: 'Run CONFIG GET appendonly and CONFIG GET maxmemory-policy on Redis: they should be yes and noeviction (a managed Redis shows them in its console).' };
      if (appendonly === undefined || policy === undefined) return [unknown('redis', 'REDIS_URL', 'CONFIG GET is not allowed here', byHand)];
      const findings: Finding[] = [appendonly === 'yes'
        ? ok('redis', 'persistence', 'appendonly yes')
        : fail('redis', 'persistence', `appendonly ${appendonly}: a restart loses the accounts kept in Redis`, { zh: '在 redis.conf 中设置 appendonly yes（或 CONFIG SET appendonly yes 后 CONFIG REWRITE）。', en: 'Set appendonly yes in redis.conf (or CONFIG SET appendonly yes, then CONFIG REWRITE).' })];
      findings.push(policy === 'noeviction'
        ? ok('redis', 'eviction', 'maxmemory-policy noeviction')
        : fail('redis', 'eviction', `maxmemory-policy ${policy}: a full Redis may drop accounts`, { zh: '在 redis.conf 中设置 maxmemory-policy noeviction。', en: 'Set maxmemory-policy noeviction in redis.conf.' }));
      return findings;
    },
  };
}

/** Redis's refusal of a command to this user (its ACL): NOPERM, as Redis words it. */
const refusedByAcl = (error: unknown) => error instanceof Error && error.message.includes('NOPERM');

/** Why the stores do not answer, with what to do: a Redis ACL that refuses scripts, or the rest. */
function notAnswering(kinds: string, error: unknown): Finding {
  if (refusedByAcl(error)) {
    return fail('storage', kinds, 'the Redis user may not run scripts (NOPERM): every login writes through them', {
      zh: '本服务的写入和限流计数用 Lua 脚本（EVALSHA，必要时 EVAL）：在 Redis 的 ACL 中允许这两条命令，例如 ACL SETUSER <用户> +evalsha +eval（托管 Redis 在控制台的账号权限里设置）。',
      en: 'The broker writes and counts its rate limits with Lua scripts (EVALSHA, and EVAL when needed): allow both in Redis\'s ACL, e.g. ACL SETUSER <user> +evalsha +eval (a managed Redis sets this in its console\'s account permissions).',
    });
  }
  return fail('storage', kinds, 'does not answer, or MongoDB is not a replica set with its indexes made', {
    zh: '检查 REDIS_URL / MONGODB_URI 能否从本机连通；MongoDB 必须是副本集（单机版可用 --replSet 启动为单节点副本集）。',
    en: 'Check REDIS_URL / MONGODB_URI can be reached from here; MongoDB must be a replica set (a single server can run as a one-node replica set with --replSet).',
  });
}

/**
 * The stores answer (`answers` rejects with why when they do not): Redis, running the
 * broker's scripts, and MongoDB connected as a replica set (a standalone server is refused:
 * merging accounts is a transaction) with its indexes made.
 */
export function storageCheck(kinds: string, answers: () => Promise<void>): Check {
  return {
    name: 'storage',
    run: async () => [await answers().then(
      () => ok('storage', kinds, kinds.includes('mongodb') ? 'answers; MongoDB is a replica set and its indexes are made' : 'answers'),
      (error: unknown) => notAnswering(kinds, error),
    )],
  };
}
