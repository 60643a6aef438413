// Configuration: every mistake is named by its variable; production refuses dev defaults.

import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfig, parseRedisUrl } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { generateSigningKeys } from '../../src/config/keys.ts';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { accountSource } from '../../src/login/claims.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { MemoryCounters } from '../../src/storage/counters.ts';
import { createLogger } from '../../src/log.ts';
import { tempDir } from '../helpers/temp.ts';

const dir = tempDir('broker-config');
const file = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const CLIENT = { client_id: 'app', client_secret: 'app-secret-0123456789abcdef0123456789', redirect_uris: ['https://app.example/cb'] };
const COOKIE_KEYS = '3f9a1c7e5b2d8064af3c9e1b7d5f2a8c';
const SAFE = { REDIS_URL: 'redis://127.0.0.1:6379', ISSUER: 'https://login.example.com' };

async function failsWith(t: import('ava').ExecutionContext, env: Record<string, string>, variable: RegExp, problem: RegExp) {
  const error = await t.throwsAsync(loadConfig(env), { instanceOf: ConfigError });
  t.regex(error!.variable, variable);
  t.regex(error!.message, problem);
}

test('dev mode with nothing set: the simulator, the demo, fresh keys, and warnings that say so', async (t) => {
  const config = await loadConfig({});
  t.is(config.mode, 'development');
  t.is(config.logFormat, process.stdout.isTTY ? 'pretty' : 'json', 'LOG_FORMAT=auto: JSON through a pipe (as here), pretty at a terminal');
  t.is((await loadConfig({ LOG_FORMAT: 'pretty' })).logFormat, 'pretty');
  t.is((await loadConfig({ LOG_FORMAT: 'json' })).logFormat, 'json');
  t.is(config.issuer, 'http://localhost:3000');
  t.deepEqual(config.simulator, { port: 3001 });
  t.is(config.clients, undefined);
  t.deepEqual(config.keys.keys.map((key) => key.alg), ['RS256', 'ES256']);
  t.is(config.wechat.qrMode, 'embedded');
  t.true(config.warnings.some((warning) => /simulator/.test(warning)));
  t.true(config.warnings.some((warning) => /COOKIE_KEYS/.test(warning)));
});

test('WeChat credentials switch the simulator off', async (t) => {
  const config = await loadConfig({ WECHAT_OPEN_APPID: 'wx1234567890abcdef', WECHAT_OPEN_SECRET: 'a'.repeat(32) });
  t.is(config.simulator, undefined);
  t.deepEqual(config.apps.map((app) => app.kind), ['open']);
  t.is(config.apps[0]?.name, undefined, 'pages then say what kind of app it is');
  const named = await loadConfig({ WECHAT_OPEN_APPID: 'wx1234567890abcdef', WECHAT_OPEN_SECRET: 'a'.repeat(32), WECHAT_OPEN_NAME: '示例官网' });
  t.is(named.apps[0]?.name, '示例官网');
  await failsWith(t, { WECHAT_MP_NAME: '长'.repeat(61) }, /^WECHAT_MP_NAME$/, /at most 60/);
});

test('production refuses to start without COOKIE_KEYS, JWKS_FILE, CLIENTS_FILE and a WeChat app', async (t) => {
  await failsWith(t, { NODE_ENV: 'production' }, /COOKIE_KEYS, JWKS_FILE, CLIENTS_FILE/, /required when NODE_ENV=production/);
  const jwks = file('jwks.json', await generateSigningKeys());
  const clients = file('clients.json', [CLIENT]);
  await failsWith(t, { NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: clients }, /WECHAT_MP_APPID/, /simulator never runs in production/);
  const config = await loadConfig({
    NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: clients,
    WECHAT_MP_APPID: 'wx1234567890abcdef', WECHAT_MP_SECRET: 'b'.repeat(32), ...SAFE,
  });
  t.is(config.simulator, undefined);
  t.true(config.trustProxy, 'an https issuer sits behind a TLS proxy');
});

test('each bad value is named with what is wrong', async (t) => {
  await failsWith(t, { PORT: 'eighty' }, /^PORT$/, /whole number/);
  await failsWith(t, { ISSUER: 'not a url' }, /^ISSUER$/, /not a URL/);
  await failsWith(t, { ISSUER: 'https://x.example/path' }, /^ISSUER$/, /without a path/);
  await failsWith(t, { WECHAT_QR_MODE: 'popup' }, /^WECHAT_QR_MODE$/, /embedded, redirect/);
  await failsWith(t, { WECHAT_MP_APPID: 'wx1234567890abcdef' }, /^WECHAT_MP_SECRET$/, /required when WECHAT_MP_APPID/);
  await failsWith(t, { WECHAT_OPEN_SECRET: 'a'.repeat(32) }, /^WECHAT_OPEN_APPID$/, /required/);
  await failsWith(t, { WECHAT_MP_APPID: 'wx 1', WECHAT_MP_SECRET: 'a'.repeat(32) }, /^WECHAT_MP_APPID$/, /not a WeChat appid/);
  await failsWith(t, { WECHAT_MP_APPID: 'wx1', WECHAT_MP_SECRET: 'short' }, /^WECHAT_MP_SECRET$/, /AppSecret/);
  await failsWith(t, { COOKIE_KEYS: 'short' }, /^COOKIE_KEYS$/, /32 characters/);
  await failsWith(t, { WECHAT_API_URL: 'ftp://x' }, /^WECHAT_API_URL$/, /http/);
  await failsWith(t, { LOG_LEVEL: 'loud' }, /^LOG_LEVEL$/, /info/);
  const credentials = await t.throwsAsync(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://ops:s3cret-pw@otel.example:4318' }), { instanceOf: ConfigError });
  t.regex(credentials!.message, /must not carry credentials/);
  t.notRegex(credentials!.message, /s3cret-pw/, 'never echoed');
});

test('CLIENTS_FILE mistakes name the file, the client and the field', async (t) => {
  await failsWith(t, { CLIENTS_FILE: join(dir, 'missing.json') }, /CLIENTS_FILE/, /no such file/);
  await failsWith(t, { CLIENTS_FILE: file('bad.json', '[{') }, /CLIENTS_FILE/, /not valid JSON/);
  await failsWith(t, { CLIENTS_FILE: file('obj.json', {}) }, /CLIENTS_FILE/, /JSON array/);
  await failsWith(t, { CLIENTS_FILE: file('noid.json', [{}]) }, /CLIENTS_FILE/, /entry 0: client_id is required/);
  await failsWith(t, { CLIENTS_FILE: file('dup.json', [CLIENT, CLIENT]) }, /CLIENTS_FILE/, /client app: client_id is used twice/);
  await failsWith(t, { CLIENTS_FILE: file('own.json', [{ ...CLIENT, client_id: '_console' }]) }, /CLIENTS_FILE/, /client _console: a client_id beginning with "_" is the broker's own/);
  await failsWith(t, { CLIENTS_FILE: file('fp.json', [{ ...CLIENT, first_party: 'yes' }]) }, /CLIENTS_FILE/, /client app: first_party/);
});

test('pairwise subjects (OIDC Core 8.1): PAIRWISE_SECRET, strong, whenever a client is pairwise; its scope registered, without wechat', async (t) => {
  const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const pairwise = { ...CLIENT, subject_type: 'pairwise', scope: 'openid profile' };
  await failsWith(t, { CLIENTS_FILE: file('pw.json', [pairwise]) }, /^PAIRWISE_SECRET$/, /required: client app has subject_type "pairwise"/);
  await failsWith(t, { PAIRWISE_SECRET: 'k'.repeat(40) }, /^PAIRWISE_SECRET$/, /about 128 bits/);
  await failsWith(t, { PAIRWISE_SECRET: secret, CLIENTS_FILE: file('pw-wechat.json', [{ ...pairwise, scope: 'openid wechat' }]) }, /CLIENTS_FILE/, /client app: a pairwise client must register a scope without wechat/);
  await failsWith(t, { PAIRWISE_SECRET: secret, CLIENTS_FILE: file('pw-any.json', [{ ...pairwise, scope: undefined }]) }, /CLIENTS_FILE/, /without wechat/);
  await failsWith(t, { CLIENTS_FILE: file('pw-typo.json', [{ ...CLIENT, subject_type: 'pairwize' }]) }, /CLIENTS_FILE/, /subject_type must be "public" or "pairwise"/);
  t.is((await loadConfig({ PAIRWISE_SECRET: secret, CLIENTS_FILE: file('pw-ok.json', [pairwise]) })).pairwiseSecret, secret);
});

test('oidc-provider checks every client at start: a bad one stops the broker with its name', async (t) => {
  const config = await loadConfig({ CLIENTS_FILE: file('noredirect.json', [{ ...CLIENT, redirect_uris: ['not a url'] }]) });
  const error = await t.throwsAsync(createProvider({
    issuer: config.issuer, clients: config.clients!, keys: config.keys, cookieKeys: config.cookieKeys,
    storage: new MemoryStorage(), accounts: accountSource(new MemoryAccountStore(), config.apps, config.wecomApps), sessions: config.sessions,
    device: { counters: new MemoryCounters(), log: createLogger('error') }, apis: new Map(),
  }), { instanceOf: ConfigError });
  t.regex(error!.message, /^CLIENTS_FILE: client app: redirect_uris/);
  const events = await loadConfig({ CLIENTS_FILE: file('bad-events.json', [{ ...CLIENT, security_events_uri: 'ftp://app.example/events' }]) });
  const refused = await t.throwsAsync(createProvider({
    issuer: events.issuer, clients: events.clients!, keys: events.keys, cookieKeys: events.cookieKeys,
    storage: new MemoryStorage(), accounts: accountSource(new MemoryAccountStore(), events.apps, events.wecomApps), sessions: events.sessions,
    device: { counters: new MemoryCounters(), log: createLogger('error') }, apis: new Map(),
  }), { instanceOf: ConfigError });
  t.regex(refused!.message, /^CLIENTS_FILE: client app: security_events_uri must be an http\(s\) URL/);
});

test('JWKS_FILE must hold usable private keys with kids, an RS256 one among them (the default algorithm)', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const priv = { ...(await exportJWK(privateKey)), kid: 'k1' };
  await failsWith(t, { JWKS_FILE: file('empty.json', { keys: [] }) }, /JWKS_FILE/, /JWK set/);
  await failsWith(t, { JWKS_FILE: file('public.json', { keys: [{ ...(await exportJWK(publicKey)), kid: 'p' }] }) }, /JWKS_FILE/, /not a private key/);
  await failsWith(t, { JWKS_FILE: file('nokid.json', { keys: [{ ...priv, kid: undefined }] }) }, /JWKS_FILE/, /has no kid/);
  await failsWith(t, { JWKS_FILE: file('dupkid.json', { keys: [priv, priv] }) }, /JWKS_FILE/, /kid is used twice/);
  const es256 = (await generateSigningKeys()).keys.filter((key) => key.alg === 'ES256');
  await failsWith(t, { JWKS_FILE: file('esonly.json', { keys: es256 }) }, /JWKS_FILE/, /needs an RS256 key/);
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
  await failsWith(t, { JWKS_FILE: file('weak.json', { keys: [{ ...weak, kid: 'w' }] }) }, /JWKS_FILE/, /kid w\) is an RSA key of 1024 bits/);
  const p384 = await generateKeyPair('ES384', { extractable: true });
  await failsWith(t, { JWKS_FILE: file('p384.json', { keys: [priv, { ...(await exportJWK(p384.privateKey)), kid: 'c' }] }) }, /JWKS_FILE/, /kid c\) is a EC P-384 key/);
  await failsWith(t, { JWKS_FILE: file('mismatch.json', { keys: [{ ...priv, alg: 'ES256' }] }) }, /JWKS_FILE/, /says alg ES256/);
  const loaded = await loadConfig({ JWKS_FILE: file('good.json', { keys: [priv, ...es256] }) });
  t.deepEqual(loaded.keys.keys.map((key) => key.alg), ['RS256', 'ES256'], 'an RSA key without alg signs RS256');
});

test('storage: memory by default; REDIS_URL in its three forms; MONGODB_URI', async (t) => {
  const none = await loadConfig({});
  t.is(none.storage.redis, undefined);
  t.is(none.storage.mongodbUri, undefined);
  t.deepEqual(parseRedisUrl('REDIS_URL', 'rediss://:p%40ss@redis.example:6380/2'), { kind: 'standalone', url: 'rediss://:p%40ss@redis.example:6380/2' });
  t.deepEqual(parseRedisUrl('REDIS_URL', 'redis-sentinel://:secret@s1:26379,s2/mymaster/3'), {
    kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster', password: 'secret', tls: false, db: 3,
  });
  t.deepEqual(parseRedisUrl('REDIS_URL', 'rediss-cluster://n1:7000,n2:7001'), {
    kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], password: undefined, tls: true,
  });
  const both = await loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', MONGODB_URI: 'mongodb://m1,m2/broker?replicaSet=rs0', REDIS_PREFIX: 'sso:' });
  t.is(both.storage.redisPrefix, 'sso:');
  t.is(both.storage.mongodbUri, 'mongodb://m1,m2/broker?replicaSet=rs0');
  t.false(both.warnings.some((warning) => /in memory/.test(warning)));
  await failsWith(t, { REDIS_URL: 'http://redis' }, /^REDIS_URL$/, /redis:\/\//);
  await failsWith(t, { REDIS_URL: 'redis://a,b' }, /^REDIS_URL$/, /redis-sentinel:\/\/ or redis-cluster/);
  await failsWith(t, { REDIS_URL: 'redis-sentinel://s1:26379' }, /^REDIS_URL$/, /master name/);
  await failsWith(t, { REDIS_URL: 'redis-cluster://n1:7000/0' }, /^REDIS_URL$/, /no databases/);
  await failsWith(t, { REDIS_URL: 'redis://:50%-off@redis' }, /^REDIS_URL$/, /not well percent-encoded: write %, @/);
  t.false((await t.throwsAsync(loadConfig({ REDIS_URL: 'redis://:50%-off@redis' })))!.message.includes('50%-off'), 'the password is not in the error');
  await failsWith(t, { MONGODB_URI: 'postgres://x' }, /^MONGODB_URI$/, /mongodb:\/\//);
  await failsWith(t, { STORAGE_TIMEOUT_MS: '0' }, /^STORAGE_TIMEOUT_MS$/, /whole number/);
});

test('metrics: open in dev mode; in production only behind METRICS_TOKEN or on METRICS_PORT', async (t) => {
  t.deepEqual((await loadConfig({})).metrics, { token: undefined, port: undefined, enabled: true });
  const jwks = file('jwks-m.json', await generateSigningKeys());
  const production = {
    NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: file('clients-m.json', [CLIENT]),
    WECHAT_MP_APPID: 'wx1234567890abcdef', WECHAT_MP_SECRET: 'b'.repeat(32), ...SAFE,
  };
  const closed = await loadConfig(production);
  t.false(closed.metrics.enabled);
  t.true(closed.warnings.some((warning) => /METRICS_TOKEN or METRICS_PORT/.test(warning)));
  t.true((await loadConfig({ ...production, METRICS_TOKEN: 'x'.repeat(16) })).metrics.enabled);
  t.deepEqual((await loadConfig({ ...production, METRICS_PORT: '9100', HOST: '127.0.0.1' })).metrics, { token: undefined, port: 9100, enabled: true });
  await failsWith(t, { METRICS_TOKEN: 'short' }, /^METRICS_TOKEN$/, /16 characters/);
});

test('each of the broker\'s servers needs a port of its own: METRICS_PORT or WECHAT_SIMULATOR_PORT on another\'s is named; 0 (any free port) never clashes', async (t) => {
  await failsWith(t, { METRICS_PORT: '3000' }, /^METRICS_PORT$/, /3000 is already used by PORT/);
  await failsWith(t, { PORT: '4000', WECHAT_SIMULATOR_PORT: '4000' }, /^WECHAT_SIMULATOR_PORT$/, /4000 is already used by PORT/);
  await failsWith(t, { PORT: '4000', METRICS_PORT: '4001' }, /^METRICS_PORT$/, /4001 is already used by the simulator \(PORT \+ 1 while WECHAT_SIMULATOR_PORT is unset\)/);
  t.is((await loadConfig({ PORT: '4000', METRICS_PORT: '4001', WECHAT_SIMULATOR_PORT: '4002' })).metrics.port, 4001);
  t.is((await loadConfig({ PORT: '0', WECHAT_SIMULATOR_PORT: '0' })).simulator?.port, 0);
  const withWeChat = { WECHAT_MP_APPID: 'wx1234567890abcdef', WECHAT_MP_SECRET: 'b'.repeat(32) };
  t.is((await loadConfig({ ...withWeChat, PORT: '4000', METRICS_PORT: '4001' })).metrics.port, 4001, 'no simulator, no port of its own');
});

test('production refuses unsafe settings, each with one line naming the variable; INSECURE_LAB allows http alone', async (t) => {
  const jwks = file('jwks-p.json', await generateSigningKeys());
  const safe = {
    NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: file('clients-p.json', [CLIENT]),
    WECHAT_MP_APPID: 'wx1234567890abcdef', WECHAT_MP_SECRET: 'b'.repeat(32), ...SAFE,
  };
  await t.notThrowsAsync(loadConfig(safe));
  await failsWith(t, { ...safe, ISSUER: 'http://login.example.com' }, /^ISSUER$/, /must be https in production/);
  await failsWith(t, { ...safe, WECHAT_API_URL: 'http://api.weixin.qq.com' }, /^WECHAT_API_URL$/, /app secret/);
  await failsWith(t, { ...safe, COOKIE_KEYS: 'k'.repeat(32) }, /^COOKIE_KEYS$/, /too predictable/);
  await failsWith(t, { ...safe, COOKIE_KEYS: `${COOKIE_KEYS},${'ab'.repeat(20)}` }, /^COOKIE_KEYS$/, /too predictable/);
  await failsWith(t, { ...safe, CLIENTS_FILE: file('weak-secret.json', [{ ...CLIENT, client_secret: 'a' }]) }, /^CLIENTS_FILE$/, /client app: client_secret is too short/);
  await failsWith(t, { ...safe, CLIENTS_FILE: file('http-uri.json', [{ ...CLIENT, redirect_uris: ['http://app.example/cb'] }]) }, /^CLIENTS_FILE$/, /http:\/\/app\.example\/cb is not https/);
  await t.notThrowsAsync(loadConfig({ ...safe, CLIENTS_FILE: file('loopback.json', [{ ...CLIENT, redirect_uris: ['http://127.0.0.1:8080/cb'] }]) }), 'loopback redirect URIs stay allowed (RFC 8252)');
  await failsWith(t, { ...safe, REDIS_URL: '' }, /^REDIS_URL\/MONGODB_URI$/, /lost at every restart/);
  await failsWith(t, { ...safe, METRICS_PORT: '9100' }, /^METRICS_TOKEN$/, /every interface/);
  const lab = await loadConfig({ ...safe, ISSUER: 'http://lab.example', WECHAT_API_URL: 'http://sim.example', INSECURE_LAB: 'true' });
  t.true(lab.warnings.some((warning) => /INSECURE_LAB/.test(warning)), 'the banner says so');
  await failsWith(t, { ...safe, INSECURE_LAB: 'true', COOKIE_KEYS: 'k'.repeat(32) }, /^COOKIE_KEYS$/, /too predictable/);
  t.truthy(await loadConfig({ COOKIE_KEYS: 'k'.repeat(32), ISSUER: 'http://localhost:3000' }), 'dev mode keeps its conveniences');
});

test('branding: a colour no text can sit on with AA contrast is refused; a logo must be an image', async (t) => {
  await failsWith(t, { BRAND_COLOR: '#7a7a7a' }, /^BRAND_COLOR$/, /neither white nor near-black text at the 4.5:1 contrast/);
  await failsWith(t, { BRAND_COLOR: 'green' }, /^BRAND_COLOR$/, /#rrggbb/);
  t.deepEqual((await loadConfig({ BRAND_COLOR: '#FFD700' })).brand.color, { background: '#ffd700', text: '#111111' }, 'dark text on a light colour');
  t.deepEqual((await loadConfig({})).brand.color, { background: '#067d3f', text: '#ffffff' }, 'the default keeps white text at AA');
  await failsWith(t, { BRAND_COLOR: '#1677ff', BRAND_BUTTON_TEXT: 'white' }, /^BRAND_BUTTON_TEXT$/, /white text on #1677ff has a contrast of 4\.10:1, under the 4\.5:1 .*#1570f0 is the nearest shade/);
  await failsWith(t, { BRAND_COLOR: '#067d3f', BRAND_BUTTON_TEXT: 'black' }, /^BRAND_BUTTON_TEXT$/, /black text on #067d3f has a contrast of/);
  t.deepEqual((await loadConfig({ BRAND_COLOR: '#1570f0', BRAND_BUTTON_TEXT: 'white' })).brand.color, { background: '#1570f0', text: '#ffffff' });
  t.deepEqual((await loadConfig({ BRAND_COLOR: '#ffd700', BRAND_BUTTON_TEXT: 'black' })).brand.color, { background: '#ffd700', text: '#111111' });
  await failsWith(t, { BRAND_BUTTON_TEXT: 'blue' }, /^BRAND_BUTTON_TEXT$/, /auto|white|black/);
  await failsWith(t, { BRAND_LOGO_FILE: file('logo.txt', 'not an image') }, /^BRAND_LOGO_FILE$/, /not a PNG, JPEG, WebP or SVG/);
  await failsWith(t, { PSB_LICENSE: '京公网安备' }, /^PSB_LICENSE$/, /record number/);
});

test('ACCOUNT_RETENTION_DAYS: a whole number of days from 1, or unset (kept until erased on request)', async (t) => {
  t.is((await loadConfig({})).retentionDays, undefined);
  t.is((await loadConfig({ ACCOUNT_RETENTION_DAYS: '730' })).retentionDays, 730);
  for (const bad of ['0', '-5', '1.5', 'forever']) await failsWith(t, { ACCOUNT_RETENTION_DAYS: bad }, /^ACCOUNT_RETENTION_DAYS$/, /./);
});

test('CONSOLE_OPERATORS: account subs, each :read or :write; unset, nobody (no console)', async (t) => {
  t.is((await loadConfig({})).consoleOperators.size, 0);
  t.deepEqual([...(await loadConfig({ CONSOLE_OPERATORS: ' 3f2c-a_1:write , -k3Xq9:read ' })).consoleOperators], [['3f2c-a_1', 'write'], ['-k3Xq9', 'read']]);
  await failsWith(t, { CONSOLE_OPERATORS: 'alice' }, /^CONSOLE_OPERATORS$/, /"alice" is not <sub>:read or <sub>:write/);
  await failsWith(t, { CONSOLE_OPERATORS: 'alice:admin' }, /^CONSOLE_OPERATORS$/, /not <sub>:read/);
  await failsWith(t, { CONSOLE_OPERATORS: 'a b:read' }, /^CONSOLE_OPERATORS$/, /not <sub>:read/);
  await failsWith(t, { CONSOLE_OPERATORS: 'alice:read,alice:write' }, /^CONSOLE_OPERATORS$/, /alice is named twice/);
  await failsWith(t, { CONSOLE_OPERATORS: ',' }, /^CONSOLE_OPERATORS$/, /names no operator/);
});

test('session lifetimes: 14 days idle and 30 days at most by default, in whole hours; SESSION_MAX_HOURS=0 is no maximum', async (t) => {
  t.deepEqual((await loadConfig({})).sessions, { idleS: 14 * 24 * 3600, maxS: 30 * 24 * 3600 });
  t.deepEqual((await loadConfig({ SESSION_IDLE_HOURS: '8', SESSION_MAX_HOURS: '10' })).sessions, { idleS: 8 * 3600, maxS: 10 * 3600 });
  t.is((await loadConfig({ SESSION_MAX_HOURS: '0' })).sessions.maxS, undefined);
  for (const bad of ['0', '-1', '1.5', '8761', 'a day']) await failsWith(t, { SESSION_IDLE_HOURS: bad }, /^SESSION_IDLE_HOURS$/, /./);
  for (const bad of ['-1', '2.5', '87601']) await failsWith(t, { SESSION_MAX_HOURS: bad }, /^SESSION_MAX_HOURS$/, /./);
});

test('a secret may come from the file <NAME>_FILE names (Docker and Kubernetes secrets), its trailing newline dropped; never both; an unreadable or empty file is named', async (t) => {
  const keys = `${COOKIE_KEYS},${'9'.repeat(8)}${COOKIE_KEYS.slice(8)}`;
  const fromFiles = await loadConfig({
    COOKIE_KEYS_FILE: file('cookie-keys', `${keys}\n`), REDIS_URL_FILE: file('redis-url', 'redis://:s3cret@127.0.0.1:6380/2\n'),
    METRICS_TOKEN_FILE: file('metrics-token', 'metrics-token-0123456789'),
  });
  t.deepEqual(fromFiles.cookieKeys, keys.split(','));
  t.deepEqual(fromFiles.storage.redis, { kind: 'standalone', url: 'redis://:s3cret@127.0.0.1:6380/2' });
  t.is(fromFiles.metrics.token, 'metrics-token-0123456789');
  await failsWith(t, { COOKIE_KEYS: COOKIE_KEYS, COOKIE_KEYS_FILE: file('cookie-keys-2', COOKIE_KEYS) }, /^COOKIE_KEYS$/, /set either COOKIE_KEYS or COOKIE_KEYS_FILE, not both/);
  await failsWith(t, { PAIRWISE_SECRET_FILE: join(dir, 'missing') }, /^PAIRWISE_SECRET_FILE$/, /cannot read .*missing \(ENOENT\)/);
  await failsWith(t, { WECHAT_MP_SECRET_FILE: file('empty', '\n') }, /^WECHAT_MP_SECRET_FILE$/, /is empty/);
  await failsWith(t, { METRICS_TOKEN_FILE: file('short-token', 'short') }, /^METRICS_TOKEN$/, /at least 16 characters/);
  t.is((await loadConfig({ ISSUER_FILE: file('issuer', 'https://elsewhere.example') })).issuer, 'http://localhost:3000', 'only secrets: any other variable is what it says');
});

test('forward_url: only on a follow-to-login Official Account with its own secret; https in production', async (t) => {
  const jwks = file('jwks-f.json', await generateSigningKeys());
  const keys = { S: 'b'.repeat(32), T: 'token123', K: 'a'.repeat(43) };
  const account = { id: 'brand', kind: 'mp', appid: 'wx1234567890abcdef', secret_env: 'S', follow_login: true, token_env: 'T', aes_key_env: 'K' };
  const apps = (entry: Record<string, unknown>) => ({ WECHAT_APPS_FILE: file(`apps-${Math.random()}.json`, [entry]), ...keys });
  const dev = await loadConfig(apps({ ...account, forward_url: 'http://127.0.0.1:8080/wechat' }));
  t.is(dev.apps[0]?.forwardUrl, 'http://127.0.0.1:8080/wechat');
  await failsWith(t, apps({ id: 'web', kind: 'open', appid: 'wx1234567890abcdef', secret_env: 'S', forward_url: 'https://crm.example/wechat' }), /WECHAT_APPS_FILE/, /app web: forward_url belongs to an mp with follow_login/);
  await failsWith(t, apps({ ...account, forward_url: 'ftp://crm.example/wechat' }), /WECHAT_APPS_FILE/, /app brand: forward_url must be an http\(s\) URL/);
  const production = { NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: file('clients-f.json', [CLIENT]), ...SAFE };
  await failsWith(t, { ...production, ...apps({ ...account, forward_url: 'http://crm.example/wechat' }) }, /WECHAT_APPS_FILE/, /app brand: forward_url must be https in production/);
  await t.notThrowsAsync(loadConfig({ ...production, ...apps({ ...account, forward_url: 'https://crm.example/wechat' }) }));
});

test('sheet_consent_for: client_ids on an Official Account only; a client CLIENTS_FILE lacks is a warning at start', async (t) => {
  const account = { id: 'partner-mp', kind: 'mp', appid: 'wx1234567890abcdef', secret_env: 'S' };
  const apps = (entry: Record<string, unknown>) => ({ WECHAT_APPS_FILE: file(`apps-${Math.random()}.json`, [entry]), S: 'b'.repeat(32) });
  const withClients = { CLIENTS_FILE: file('clients-s.json', [CLIENT]) };
  const config = await loadConfig({ ...withClients, ...apps({ ...account, sheet_consent_for: [CLIENT.client_id] }) });
  t.deepEqual(config.apps[0]?.sheetConsentFor, [CLIENT.client_id]);
  t.false(config.warnings.some((warning) => /sheet_consent_for/.test(warning)));
  const typo = await loadConfig({ ...withClients, ...apps({ ...account, sheet_consent_for: ['parnter'] }) });
  t.true(typo.warnings.includes('app partner-mp: sheet_consent_for names parnter, which is not in CLIENTS_FILE; that client keeps the consent page'));
  await failsWith(t, apps({ ...account, kind: 'open', sheet_consent_for: ['x'] }), /WECHAT_APPS_FILE/, /app partner-mp: sheet_consent_for belongs to an mp/);
  await failsWith(t, apps({ ...account, sheet_consent_for: 'partner' }), /WECHAT_APPS_FILE/, /app partner-mp: sheet_consent_for must be a list of client_id values/);
  await failsWith(t, apps({ ...account, sheet_consent_for: [] }), /WECHAT_APPS_FILE/, /app partner-mp: sheet_consent_for/);
});

test('DATA_KEYS: required in production with a third-party platform, and never predictable', async (t) => {
  const jwks = file('jwks-d.json', await generateSigningKeys());
  const platformApps = file('apps-d.json', [
    { id: 'web', kind: 'open', appid: 'wx1234567890abcdef', secret_env: 'S' },
    { id: 'isv', kind: 'component', appid: 'wx0234567890abcdef', secret_env: 'S', token_env: 'T', aes_key_env: 'K' },
  ]);
  const production = {
    NODE_ENV: 'production', COOKIE_KEYS, JWKS_FILE: jwks, CLIENTS_FILE: file('clients-d.json', [CLIENT]), ...SAFE,
    WECHAT_APPS_FILE: platformApps, S: 'b'.repeat(32), T: 'token123', K: 'a'.repeat(43),
  };
  await failsWith(t, production, /^DATA_KEYS$/, /required in production when a third-party platform is configured/);
  await failsWith(t, { ...production, DATA_KEYS: 'd'.repeat(40) }, /^DATA_KEYS$/, /too predictable/);
  const config = await loadConfig({ ...production, DATA_KEYS: `${'9f3a1c7e5b2d8064af3c9e1b7d5f2a8c'},${'0b1c2d3e4f5a69788796a5b4c3d2e1f0'}` });
  t.is(config.dataKeys.length, 2);
  t.is((await loadConfig({})).dataKeys.length, 1, 'dev mode: a random key');
});

test('the apps file: each mistake is one line naming the app and the field; both forms at once is refused', async (t) => {
  const apps = (entries: unknown[], env: Record<string, string> = {}) => ({ WECHAT_APPS_FILE: file(`apps-${Math.random()}.json`, entries), ...env });
  const isv = { id: 'isv', kind: 'component', appid: 'wx9', secret_env: 'S', token_env: 'T', aes_key_env: 'K' };
  const keys = { S: 'b'.repeat(32), T: 'token', K: 'a'.repeat(43) };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [apps([{ id: 'a b', kind: 'mp', appid: 'wx1', secret_env: 'X' }]), /app a b: id must be 1 to 32 letters/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret: 'inline' }]), /app x: .*secret/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'NOT_SET' }]), /app x: secret_env names NOT_SET, which is not set/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', token_env: 'T' }], { S: 'b'.repeat(32), T: 'token' }), /app x: token_env and aes_key_env belong to a component/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', via: 'nobody' }, isv], keys), /app x: via names nobody, which is not a component entry of this file/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', via: 'isv', secret_env: 'S' }, isv], keys), /app x: an app reached via a platform has no secret of its own/],
    [apps([{ id: 'x', kind: 'open', appid: 'wx1', via: 'isv' }, isv], keys), /app x: via belongs to an mp \(Official Account\) entry/],
    [apps([{ id: 'x', kind: 'open', appid: 'wx1', secret_env: 'S', follow_login: true }], keys), /app x: follow_login belongs to an mp/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', follow_login: true }], keys), /app x: token_env must name a variable holding the message token/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', follow_login: true, token_env: 'T', aes_key_env: 'NOPE' }], keys), /app x: aes_key_env must name a variable holding the 43-character EncodingAESKey/],
    // Plaintext mode would let anyone who saw one signed push log in as any follower.
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', follow_login: true, token_env: 'T' }], keys), /app x: follow_login needs safe mode \(安全模式\): set aes_key_env/],
    [apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', follow_login: 'yes' }], keys), /app x: follow_login must be true or false/],
  ];
  for (const [env, problem] of cases) await failsWith(t, env, /^WECHAT_APPS_FILE$/, problem);
  await failsWith(t, apps([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S' }], { WECHAT_MP_APPID: 'wx2', WECHAT_MP_SECRET: 'a'.repeat(32), S: 'b'.repeat(32) }), /^WECHAT_APPS_FILE$/, /set either WECHAT_APPS_FILE or WECHAT_MP_\*/);
});

test('a WeCom app in the apps file: corpid, agentid, its Secret, snsapi_base or snsapi_privateinfo, members only unless said; each mistake named', async (t) => {
  const apps = (entries: unknown[]) => ({ WECHAT_APPS_FILE: file(`apps-${Math.random()}.json`, entries), S: 'b'.repeat(32), W: 'Ab3_-'.repeat(8) + 'xyz' });
  const staff = { id: 'staff', kind: 'wecom', corpid: 'ww1234567890abcdef', agentid: 1000002, secret_env: 'W', name: '员工门户' };
  const config = await loadConfig(apps([{ id: 'web', kind: 'open', appid: 'wx1234567890abcdef', secret_env: 'S' }, staff]));
  t.deepEqual(config.wecomApps, [{
    kind: 'wecom', id: 'staff', corpid: 'ww1234567890abcdef', agentid: '1000002', secret: 'Ab3_-'.repeat(8) + 'xyz', scope: 'snsapi_base',
    name: '员工门户', configuredBy: 'WECHAT_APPS_FILE (app staff)', allowNonMembers: false,
  }]);
  t.deepEqual(config.apps.map((app) => app.id), ['web'], 'a WeCom app is not a WeChat app');
  t.is(config.simulator, undefined, 'a WeCom app alone switches the simulator off');
  t.like((await loadConfig(apps([{ ...staff, scope: 'snsapi_base', allow_non_members: true }]))).wecomApps[0], { scope: 'snsapi_base', allowNonMembers: true });
  t.like((await loadConfig(apps([{ ...staff, scope: 'snsapi_privateinfo' }]))).wecomApps[0], { scope: 'snsapi_privateinfo' });
  t.deepEqual((await loadConfig({ ...apps([{ ...staff, token_env: 'T', aes_key_env: 'K' }]), T: 'token123', K: 'a'.repeat(43) })).wecomApps[0]?.messageKeys, { token: 'token123', aesKey: 'a'.repeat(43) });
  const cases: Array<[unknown, RegExp]> = [
    [{ ...staff, corpid: 'wx1' }, /app staff: corpid is not a WeCom corpid/],
    [{ ...staff, agentid: 'main' }, /app staff: agentid must be the app's AgentId/],
    [{ ...staff, scope: 'snsapi_userinfo' }, /app staff: scope must be snsapi_base or snsapi_privateinfo/],
    [{ ...staff, appid: 'wx1234567890abcdef' }, /app staff: .*appid/],
    [{ ...staff, secret_env: 'NOT_SET' }, /app staff: secret_env names NOT_SET, which is not set/],
    [{ ...staff, allow_non_members: 'yes' }, /app staff: allow_non_members must be true or false/],
    // WeCom's events (a userid change) need both of the receive-message server's keys.
    [{ ...staff, aes_key_env: 'W' }, /app staff: token_env must name a variable holding the message token/],
  ];
  for (const [entry, problem] of cases) await failsWith(t, apps([entry]), /^WECHAT_APPS_FILE$/, problem);
  await failsWith(t, apps([staff, { ...staff, corpid: 'ww0234567890abcdef' }]), /^WECHAT_APPS_FILE$/, /app staff: id is used twice/);
});
