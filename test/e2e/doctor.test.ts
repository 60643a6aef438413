// `npm run doctor` as an operator runs it, beside a broker on Redis, against the simulated
// WeChat playing each misconfiguration: a secret reset, an IP not whitelisted, a platform
// without tickets, an account that no longer authorizes the platform, apps bound to
// different Open Platform accounts; and a configuration where everything is ✓.

import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSigningKeys } from '../../src/config/keys.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import { randomCorp } from '../../src/simulator/wecom-corp.ts';
import type { SimApp } from '../../src/simulator/world.ts';
import { startBroker, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/ports.ts';
import { CHILD_ENV } from '../helpers/process.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { injectFaults, pushTicketNow, setPlatformUrls, simApp, simPlatform } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';
import { USER_AGENTS } from '../helpers/user-agents.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const mp = simApp('mp');
const web = simApp('open');
const mini = simApp('miniprogram');
const phone = simApp('app');
const shop = simApp('mp');
const platform = simPlatform(shop);
const corp = randomCorp();
const OPS_SECRET = 'ops-secret-0123456789abcdef0123456789ab';
let simulator: RunningSimulator;
let redis: RedisServer;
let broker: RunningBroker;

interface Finding { check: string; subject: string; verdict: 'ok' | 'fail' | 'unknown'; detail: string; advice?: { zh: string; en: string } }

/** The apps file and the secrets for `apps` (each entry's id is its key here). */
function environment(entries: Record<string, object>, secrets: Record<string, string> = {}): Record<string, string> {
  const file = join(tempDir('doctor'), 'apps.json');
  writeFileSync(file, JSON.stringify(Object.entries(entries).map(([id, entry]) => ({ id, ...entry }))));
  return {
    WECHAT_APPS_FILE: file, REDIS_URL: redis.url, ISSUER: 'https://login.example.com', COOKIE_KEYS: 'k'.repeat(64),
    WECHAT_API_URL: simulator.url, WECHAT_CONNECT_URL: simulator.url, WECHAT_MP_URL: simulator.url, WECOM_API_URL: simulator.url, WECOM_LOGIN_URL: simulator.url,
    MP_SECRET: mp.secret, WEB_SECRET: web.secret, MINI_SECRET: mini.secret, PHONE_SECRET: phone.secret, PLATFORM_SECRET: platform.secret, PLATFORM_TOKEN: platform.token,
    PLATFORM_AES_KEY: platform.aesKey, STAFF_SECRET: corp.secret, ...secrets,
  };
}

const ESTATE = {
  mp: { kind: 'mp', appid: mp.appid, secret_env: 'MP_SECRET' },
  web: { kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
  mini: { kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET' },
  phone: { kind: 'app', appid: phone.appid, secret_env: 'PHONE_SECRET' },
  shop: { kind: 'mp', appid: shop.appid, via: 'platform' },
  platform: { kind: 'component', appid: platform.appid, secret_env: 'PLATFORM_SECRET', token_env: 'PLATFORM_TOKEN', aes_key_env: 'PLATFORM_AES_KEY' },
  staff: { kind: 'wecom', corpid: corp.corpid, agentid: corp.agentid, secret_env: 'STAFF_SECRET' },
};

/** `npm run doctor -- <args>`: its exit code and what it printed. */
async function doctor(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', 'src/cli/doctor.ts', ...args], {
      cwd: ROOT, env: { ...CHILD_ENV, ...env }, timeout: 120_000,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const findings = async (env: Record<string, string>) => {
  const { code, out } = await doctor(env, '--json');
  return { code, findings: (JSON.parse(out) as { findings: Finding[] }).findings };
};
const line = (all: Finding[], check: string, subject: string) => all.find((finding) => finding.check === check && finding.subject === subject);

test.before(async () => {
  const other: SimApp = { ...simApp('mp'), otherOpenAccount: 'wx0ther0pen0account' };
  [simulator, redis] = await Promise.all([startSimulator({ apps: [mp, web, mini, phone, shop, other], platforms: [platform], corps: [corp], callbackHosts: [], host: '127.0.0.1', port: 0 }), startRedis({ appendonly: true })]);
  // The broker WeChat pushes the platform's tickets to; the doctor reads them where it keeps them.
  const { ISSUER: _issuer, ...brokerEnv } = environment(ESTATE);
  broker = await startBroker({
    ...brokerEnv,
    CLIENTS_FILE: writeClientsFile([{ client_id: 'ops', client_secret: OPS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'diagnostics:read' }]),
  });
  await setPlatformUrls(simulator.url, platform.appid, { auth_events_url: `${broker.origin}/wechat/platform/platform/auth-events` });
  pushed = await pushTicketNow(simulator.url, platform.appid);
  await authorizeShop(true);
  otherApp = { kind: 'mp', appid: other.appid, secret_env: 'OTHER_SECRET' };
  otherSecret = other.secret;
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), simulator?.close()]);
  await redis?.stop();
});
let pushed: { status: number };

/** The shop's administrator authorizes the platform (or withdraws), granting `permissions` (all when not said): WeChat tells the broker. */
async function authorizeShop(authorized: boolean, permissions?: number[]): Promise<void> {
  const response = await fetch(`${simulator.url}/_sim/platforms/authorize`, { method: 'POST', body: JSON.stringify({ appid: platform.appid, account: shop.appid, authorized, permissions }) });
  if (!response.ok) throw new Error(`authorize: ${response.status}`);
}
/** An Official Account bound to another company's Open Platform account. */
let otherApp: object;
let otherSecret = '';

test.serial('everything right: every line ✓ (a website app\'s binding is "?", to check by hand), exit code 0', async (t) => {
  t.is(pushed.status, 200, 'the platform\'s ticket reached the broker');
  const { code, findings: all } = await findings(environment(ESTATE));
  t.deepEqual(all.filter((finding) => finding.verdict === 'fail'), []);
  t.is(code, 0);
  for (const id of ['mp', 'web', 'mini', 'phone', 'staff']) t.is(line(all, 'credentials', id)?.verdict, 'ok', id);
  t.like(line(all, 'platform-ticket', 'platform'), { verdict: 'ok' });
  t.like(line(all, 'authorization', 'shop'), { verdict: 'ok' });
  t.like(line(all, 'web-authorization', 'shop'), { verdict: 'ok' });
  t.like(line(all, 'bound', 'mp'), { verdict: 'ok', detail: 'bound to Open Platform account wx0pen0platform0000' });
  t.like(line(all, 'bound', 'web'), { verdict: 'unknown' });
  t.like(line(all, 'bound', 'phone'), { verdict: 'unknown', detail: 'a mobile app cannot be asked which Open Platform account it belongs to' });
  t.like(line(all, 'issuer', 'ISSUER'), { verdict: 'ok' });
  t.like(line(all, 'clock', 'clock'), { verdict: 'ok' });
  t.like(line(all, 'storage', 'redis'), { verdict: 'ok' });
  const { out } = await doctor(environment(ESTATE), '--lang', 'zh');
  t.regex(out, /^✓ credentials mp/m);
  t.regex(out, /项检查：0 项有问题/);
});

test.serial('a secret reset by a colleague, for an Official Account, a website app and a WeCom app: ✗ naming the variable and the console page; exit code 1', async (t) => {
  const { code, findings: all } = await findings(environment(ESTATE, { MP_SECRET: 'f'.repeat(32), WEB_SECRET: 'e'.repeat(32), PHONE_SECRET: 'd'.repeat(32), STAFF_SECRET: 'Wrong-Secret-0123456789abcdefghijklmnopqrs' }));
  t.is(code, 1);
  t.like(line(all, 'credentials', 'mp'), { verdict: 'fail' });
  t.regex(line(all, 'credentials', 'mp')!.advice!.zh, /AppSecret 不对.*设置与开发 → 基本配置.*WECHAT_APPS_FILE/);
  t.like(line(all, 'credentials', 'web'), { verdict: 'fail' });
  t.regex(line(all, 'credentials', 'phone')!.advice!.zh, /AppSecret 不对.*管理中心 → 移动应用/, 'a mobile app: where its secret is');
  t.like(line(all, 'credentials', 'staff'), { verdict: 'fail' });
  t.like(line(all, 'credentials', 'mini'), { verdict: 'ok' }, 'the others are still right');
  const { out } = await doctor(environment(ESTATE, { MP_SECRET: 'f'.repeat(32) }), '--lang', 'en');
  t.regex(out, /^✗ credentials mp .*\n.*→ The secret is wrong/m);
});

test.serial('the server\'s IP not whitelisted (40164): ✗ with the IP WeChat saw and where to add it', async (t) => {
  await injectFaults(simulator.url, '/cgi-bin/stable_token', ['errcode:40164']);
  const { findings: all } = await findings(environment({ mp: ESTATE.mp }));
  t.like(line(all, 'ip-whitelist', 'mp'), { verdict: 'fail' });
  t.regex(line(all, 'ip-whitelist', 'mp')!.detail, /this server's IP 127\.0\.0\.1 is not allowed/);
  t.regex(line(all, 'ip-whitelist', 'mp')!.advice!.en, /Add 127\.0\.0\.1 at mp\.weixin\.qq\.com .*IP白名单/);
});

test.serial('a platform WeChat never sent a ticket, and an account that does not authorize the platform: ✗ each, with the fix', async (t) => {
  const silent = simPlatform();
  const env = environment({ ...ESTATE, quiet: { kind: 'component', appid: silent.appid, secret_env: 'QUIET_SECRET', token_env: 'PLATFORM_TOKEN', aes_key_env: 'PLATFORM_AES_KEY' } }, { QUIET_SECRET: silent.secret });
  const { findings: all } = await findings(env);
  t.like(line(all, 'platform-ticket', 'quiet'), { verdict: 'fail', detail: 'no component_verify_ticket in the last 12 hours' });
  t.regex(line(all, 'platform-ticket', 'quiet')!.advice!.zh, /授权事件接收URL.*\/wechat\/platform\/quiet\/auth-events/);
  await authorizeShop(false);
  try {
    const { findings: after } = await findings(environment(ESTATE));
    t.like(line(after, 'authorization', 'shop'), { verdict: 'fail' });
    t.regex(line(after, 'authorization', 'shop')!.advice!.en, /authorize the platform again/);
  } finally {
    await authorizeShop(true);
  }
});

test.serial('an account that authorized the platform without web service (网页服务): ✗, with the permission to tick; the login on its behalf is refused by WeChat', async (t) => {
  await authorizeShop(true, [1, 2, 3, 7, 11, 15]);
  try {
    const { code, findings: all } = await findings(environment(ESTATE));
    t.like(line(all, 'authorization', 'shop'), { verdict: 'ok' }, 'authorized: only a permission is missing');
    t.like(line(all, 'web-authorization', 'shop'), { verdict: 'fail' });
    t.regex(line(all, 'web-authorization', 'shop')!.advice!.zh, /权限集 中勾选“网页服务”/);
    t.is(code, 1);
    const authorize = new URL('/connect/oauth2/authorize', simulator.url);
    authorize.search = new URLSearchParams({ appid: shop.appid, redirect_uri: 'https://login.example.com/cb', response_type: 'code', scope: 'snsapi_base', component_appid: platform.appid }).toString();
    t.regex(await (await fetch(authorize, { headers: { 'user-agent': USER_AGENTS.wechat } })).text(), /网页服务权限/, 'WeChat\'s own page refuses the authorization on the account\'s behalf');
  } finally {
    await authorizeShop(true);
  }
});

test.serial('apps bound to different Open Platform accounts, or to none: ✗, one person would be two', async (t) => {
  const { findings: all } = await findings(environment({ mp: ESTATE.mp, mini: ESTATE.mini, other: otherApp }, { OTHER_SECRET: otherSecret }));
  t.like(line(all, 'bound', 'other'), { verdict: 'fail', detail: 'bound to Open Platform account wx0ther0pen0account, the others to wx0pen0platform0000: one person would be two' });
  t.like(line(all, 'bound', 'mp'), { verdict: 'ok' });
  mini.bound = false;
  try {
    const { findings: unbound } = await findings(environment({ mp: ESTATE.mp, mini: ESTATE.mini }));
    t.like(line(unbound, 'bound', 'mini'), { verdict: 'fail' });
  } finally {
    mini.bound = true;
  }
});

test.serial('Redis keeping the accounts without persistence, or with eviction: ✗ each, with the setting to change', async (t) => {
  const admin = new Redis(redis.url);
  try {
    t.like(line((await findings(environment({ mp: ESTATE.mp }))).findings, 'redis', 'persistence'), { verdict: 'ok' });
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const { findings: all } = await findings(environment({ mp: ESTATE.mp }));
    t.like(line(all, 'redis', 'persistence'), { verdict: 'fail', detail: 'appendonly no: a restart loses the accounts kept in Redis' });
    t.like(line(all, 'redis', 'eviction'), { verdict: 'fail', detail: 'maxmemory-policy allkeys-lru: a full Redis may drop accounts' });
  } finally {
    await admin.config('SET', 'appendonly', 'yes');
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
  }
});

test.serial('a Redis user whose ACL refuses scripts: ✗ storage, saying so and how to allow them; a broker with that user is not ready until they are allowed, and logs why its writes fail', async (t) => {
  const admin = new Redis(redis.url);
  await admin.acl('SETUSER', 'noscripts', 'on', '>noscripts-password-0123', '~*', '+@all', '-@scripting');
  const url = `redis://noscripts:noscripts-password-0123@127.0.0.1:${redis.port}`;
  const env = environment({ mp: ESTATE.mp }, { REDIS_URL: url });
  let refused: RunningBroker | undefined;
  try {
    const { code, findings: all } = await findings(env);
    t.is(code, 1);
    const storage = line(all, 'storage', 'redis');
    t.like(storage, { verdict: 'fail', detail: 'the Redis user may not run scripts (NOPERM): every login writes through them' });
    t.regex(storage?.advice?.en ?? '', /ACL SETUSER <user> \+evalsha \+eval/);
    t.regex(storage?.advice?.zh ?? '', /ACL SETUSER <用户> \+evalsha \+eval/);
    // In dev mode: its simulated WeChat pushes a platform's ticket at once, which the broker writes by a script.
    refused = await startBroker({ REDIS_URL: url });
    t.is((await fetch(`${refused.origin}/readyz`)).status, 503, 'not ready: every login would fail');
    t.true(await refused.logged((entry) => entry.msg === 'storage unavailable' && String(entry.reason).includes('NOPERM')), 'the operator\'s log says why');
    t.false(refused.output().includes('noscripts-password-0123'), 'and never the password');

    await admin.acl('SETUSER', 'noscripts', '+@scripting');
    t.like(line((await findings(env)).findings, 'storage', 'redis'), { verdict: 'ok' });
    t.is((await fetch(`${refused.origin}/readyz`)).status, 200);
  } finally {
    await refused?.stop();
    await admin.acl('DELUSER', 'noscripts');
    admin.disconnect();
  }
});

test.serial('the same checks at GET /admin/diagnostics (scope diagnostics:read), without a secret in the answer', async (t) => {
  const ops = await oidc.discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [oidc.allowInsecureRequests] });
  const token = (await oidc.clientCredentialsGrant(ops, { scope: 'diagnostics:read' })).access_token;
  const response = await fetch(`${broker.issuer}/admin/diagnostics`, { headers: { authorization: `Bearer ${token}` } });
  t.is(response.status, 200);
  const text = await response.text();
  const body = JSON.parse(text) as { failed: boolean; findings: Finding[] };
  t.false(body.failed);
  t.like(line(body.findings, 'credentials', 'mp'), { verdict: 'ok' });
  t.like(line(body.findings, 'platform-ticket', 'platform'), { verdict: 'ok' });
  for (const secret of [mp.secret, web.secret, mini.secret, platform.secret, corp.secret]) t.false(text.includes(secret));
  t.is((await fetch(`${broker.issuer}/admin/diagnostics`)).status, 401);
});

test.serial('in production the broker runs the same checks after its banner, and says what failed in one more banner line', async (t) => {
  const dir = tempDir('doctor-production');
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify(await generateSigningKeys()));
  const { ISSUER: _issuer, ...env } = environment({ mp: ESTATE.mp, web: ESTATE.web }, { MP_SECRET: 'f'.repeat(32) });
  const production = await startBroker({
    ...env, NODE_ENV: 'production', INSECURE_LAB: 'true', JWKS_FILE: jwks, COOKIE_KEYS: randomBytes(32).toString('hex'),
    CLIENTS_FILE: writeClientsFile([{ client_id: 'ops', client_secret: OPS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'diagnostics:read' }]),
  });
  try {
    t.true(await production.logged((entry) => entry.msg === 'startup checks (npm run doctor)'));
    t.regex(production.output(), /\n {2}doctor {5}\d+ ✓, 1 ✗, \d+ \? \(✗ credentials mp: npm run doctor for the fixes\)/);
  } finally {
    await production.stop();
  }
});

test.serial('storage that does not answer: ✗ storage, and the doctor still reports everything else', async (t) => {
  const { code, findings: all } = await findings({ ...environment({ mp: ESTATE.mp }), REDIS_URL: 'redis://127.0.0.1:9', STORAGE_TIMEOUT_MS: '1000' });
  t.is(code, 1);
  t.like(line(all, 'storage', 'redis'), { verdict: 'fail' });
  t.like(line(all, 'credentials', 'mp'), { verdict: 'ok' });
});

test.serial('what the broker reaches beyond WeChat: a client\'s keys, its logout and security-event endpoints, the traces\' collector; ✓ when they answer, ✗ with why when they do not', async (t) => {
  // The relying parties' side: one server with keys and endpoints that answer, one without keys.
  const keys = { keys: [await exportJWK((await generateKeyPair('ES256')).publicKey)] };
  const rp = createServer((req, res) => {
    if (req.url === '/jwks.json') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(keys));
    if (req.url === '/not-keys') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    if (req.method === 'POST' && req.url === '/v1/traces') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    return res.writeHead(405).end();
  });
  rp.listen(0, '127.0.0.1');
  await once(rp, 'listening');
  t.teardown(() => { rp.closeAllConnections(); rp.close(); });
  const origin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  const closed = `http://127.0.0.1:${await freePort()}`;
  const client = (id: string, extra: object) => ({ client_id: id, client_secret: `${id}-secret-0123456789abcdef0123456789`, redirect_uris: ['https://app.example.com/cb'], ...extra });
  const clientsFile = writeClientsFile([
    client('good', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${origin}/jwks.json`, backchannel_logout_uri: `${origin}/logout`, security_events_uri: `${origin}/events` }),
    client('broken', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${origin}/not-keys`, backchannel_logout_uri: `${closed}/logout`, security_events_uri: `${closed}/events` }),
    // Keys behind basic auth, which fetch cannot send: said so, and the password never shown.
    client('guarded', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: origin.replace('//', '//keys:pw-in-the-uri@') + '/jwks.json' }),
  ]);
  const { code, findings: all } = await findings({ ...environment({ mp: ESTATE.mp }), CLIENTS_FILE: clientsFile, OTEL_EXPORTER_OTLP_ENDPOINT: origin });
  t.is(code, 1);
  t.like(line(all, 'client-keys', 'good'), { verdict: 'ok', detail: `${origin}/jwks.json: 1 key` });
  t.like(line(all, 'backchannel-logout', 'good'), { verdict: 'ok', detail: `${origin}/logout answers (HTTP 405 to HEAD)` });
  t.like(line(all, 'security-events', 'good'), { verdict: 'ok' });
  t.like(line(all, 'client-keys', 'broken'), { verdict: 'fail', detail: `${origin}/not-keys answered 200 without keys` });
  t.regex(line(all, 'client-keys', 'broken')?.advice?.en ?? '', /every token request the client signs is refused/);
  t.like(line(all, 'backchannel-logout', 'broken'), { verdict: 'fail', detail: `${closed}/logout cannot be reached: ECONNREFUSED; what the broker pushes there is given up` });
  t.like(line(all, 'security-events', 'broken'), { verdict: 'fail' });
  t.like(line(all, 'client-keys', 'guarded'), { verdict: 'fail', detail: `${origin}/jwks.json carries a user and password (user:password@), which the broker's requests cannot send` }, 'named without its credentials');
  t.false(JSON.stringify(all).includes('pw-in-the-uri'));
  t.like(line(all, 'traces', 'OTEL_EXPORTER_OTLP_ENDPOINT'), { verdict: 'ok', detail: `${origin}/v1/traces takes traces (HTTP 200)` }, 'and the traces\' collector');
  const noCollector = await findings({ ...environment({ mp: ESTATE.mp }), OTEL_EXPORTER_OTLP_ENDPOINT: closed });
  t.like(line(noCollector.findings, 'traces', 'OTEL_EXPORTER_OTLP_ENDPOINT'), { verdict: 'fail', detail: `${closed}/v1/traces cannot be reached: ECONNREFUSED` });
});
