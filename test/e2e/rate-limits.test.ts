// Rate limits: past the limit a person gets a page and a relying party a JSON error, both
// 429 with Retry-After; with Redis the limit holds across instances; WeChat's pushes count
// only when refused.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { sendPush, ticketPush } from '../helpers/platform-push.ts';
import { startRedis } from '../helpers/redis.ts';
import { tempDir } from '../helpers/temp.ts';

const authorize = (issuer: string) => `${issuer}/auth?${new URLSearchParams({
  client_id: 'first-party', response_type: 'code', scope: 'openid', redirect_uri: 'https://rp.example/callback', state: 's',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
})}`;

test('per IP: the request past the limit gets 429 with Retry-After and a page for a person; the token endpoint counts apart', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), RATE_LIMIT_PER_IP: '4' });
  try {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await fetch(authorize(broker.issuer), { redirect: 'manual' })).status);
    t.deepEqual(statuses, [303, 303, 303, 303]);
    const limited = await fetch(authorize(broker.issuer), { redirect: 'manual', headers: { 'accept-language': 'en' } });
    t.is(limited.status, 429);
    t.regex(String(limited.headers.get('retry-after')), /^\d+$/);
    t.regex(await limited.text(), /Too many attempts/);
    const token = await fetch(`${broker.issuer}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }) });
    t.not(token.status, 429, 'the token endpoint counts apart from the pages (its refused requests only)');
    t.is((await fetch(`${broker.issuer}/.well-known/openid-configuration`)).status, 200, 'discovery is not limited');
  } finally {
    await broker.stop();
  }
});

test('a hand-off or follow link refused (past the limit, a forged form) is logged by its route, never with the link\'s code', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), RATE_LIMIT_PER_IP: '2' });
  const codes = ['followlinkCCCCCCCC', 'handoffcodeAAAAAAA', 'handoffcodeBBBBBBB'];
  try {
    t.is((await fetch(`${broker.issuer}/f/${codes[0]}/confirm`, { method: 'POST', headers: { origin: 'https://evil.example' } })).status, 403);
    await fetch(`${broker.issuer}/h/${codes[1]}`);
    t.is((await fetch(`${broker.issuer}/h/${codes[2]}`)).status, 429);
    t.true(await broker.logged((line) => line.msg === 'rate limit reached' && line.path === '/h/…'));
    t.true(await broker.logged((line) => line.msg === 'form refused: not from the page the broker showed' && line.path === '/f/…/confirm'));
    for (const code of codes) t.false(broker.output().includes(code), code);
  } finally {
    await broker.stop();
  }
});

test('per client, and across instances on one Redis', async (t) => {
  const redis = await startRedis();
  const env = { CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), REDIS_URL: redis.url, RATE_LIMIT_PER_CLIENT: '4' };
  const [a, b] = await Promise.all([startBroker(env), startBroker(env)]);
  try {
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await fetch(authorize((i % 2 ? b : a).issuer), { redirect: 'manual' })).status);
    t.deepEqual(statuses, [303, 303, 303, 303, 429]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
});

test('limits by route, not by spelling: /TOKEN, /Auth, /token/ and /interaction/…/WECHAT count, a waiting page\'s poll does not', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), RATE_LIMIT_PER_IP: '4' });
  try {
    const post = (path: string) => fetch(`${broker.issuer}${path}`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }) });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post('/TOKEN')).status);
    t.false(statuses.includes(429), `within the limit: ${statuses.join(', ')}`);
    t.is((await post('/token/')).status, 429, '/token/ is the token endpoint too');
    for (let i = 0; i < 4; i += 1) t.is((await fetch(authorize(broker.issuer), { redirect: 'manual' })).status, 303);
    t.is((await fetch(authorize(broker.issuer).replace('/auth?', '/Auth?'), { redirect: 'manual' })).status, 429);
    t.is((await fetch(`${broker.issuer}/interaction/someone/WECHAT`, { redirect: 'manual' })).status, 429);
    t.not((await fetch(`${broker.issuer}/interaction/someone/handoff`)).status, 429, 'the hand-off page\'s poll is not counted');
  } finally {
    await broker.stop();
  }
});

test('the token endpoints count a server\'s refused requests only: a busy relying party or resource server is never throttled for good ones', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_CLIENT: '3' });
  try {
    const call = (path: string, secret: string) => fetch(`${broker.issuer}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`api:${secret}`).toString('base64')}`, 'accept-language': 'en' },
      body: new URLSearchParams({ token: 'an-unknown-token' }),
    });
    const good = [];
    for (let i = 0; i < 8; i += 1) good.push((await call(i % 2 ? '/token/introspection' : '/token/revocation', 'api-secret-0123456789abcdef0123456789')).status);
    t.deepEqual(good, [200, 200, 200, 200, 200, 200, 200, 200], 'eight good calls, past both limits of three');
    const wrong = [];
    for (let i = 0; i < 3; i += 1) wrong.push((await call('/token/introspection', 'a-guessed-secret')).status);
    t.deepEqual(wrong, [401, 401, 401]);
    const limited = await call('/token/introspection', 'api-secret-0123456789abcdef0123456789');
    t.is(limited.status, 429, 'past three refused calls, even a good one waits for the minute to end');
    t.regex(String(limited.headers.get('retry-after')), /^[1-9]\d*$/);
    t.like(await limited.json(), { error: 'temporarily_unavailable' });
    t.is((await fetch(authorize(broker.issuer), { redirect: 'manual' })).status, 303, 'the login pages count apart');
  } finally {
    await broker.stop();
  }
});

test('a client_id in the Authorization header that is not well form-encoded (RFC 6749 2.3.1): oidc-provider\'s refusal, never a 500', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_CLIENT: '3' });
  try {
    const malformed = await fetch(`${broker.issuer}/token`, {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}` }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }),
    });
    t.is(malformed.status, 400);
    t.like(await malformed.json(), { error: 'invalid_request' });
  } finally {
    await broker.stop();
  }
});

test('pushes: WeChat\'s own are never counted (it sends every account\'s from a few IPs); an IP whose pushes are refused past the limit gets 429', async (t) => {
  const keys = { appid: 'wxc0mp0nent00000a1', token: 'platformToken1', aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };
  const appsFile = join(tempDir('broker-limits'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: 'wx0pen000000000001', secret_env: 'S' },
    { id: 'isv', kind: 'component', appid: keys.appid, secret_env: 'S', token_env: 'T', aes_key_env: 'K' },
  ]));
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients('https://rp.example')), WECHAT_APPS_FILE: appsFile, S: 'b'.repeat(32), T: keys.token, K: keys.aesKey, RATE_LIMIT_PER_IP: '3',
  });
  try {
    const url = `${broker.issuer}/wechat/platform/isv/auth-events`;
    for (let i = 0; i < 6; i += 1) t.like(await sendPush(url, ticketPush(keys, `ticket-${i}`)), { status: 200, body: 'success' }, `WeChat's push ${i + 1}`);
    const forged = () => sendPush(url, ticketPush({ ...keys, token: 'forger' }, 'forged'));
    t.deepEqual([(await forged()).status, (await forged()).status, (await forged()).status], [400, 400, 400]);
    t.is((await forged()).status, 429, 'past the limit of refused pushes');
    t.is((await sendPush(url, ticketPush(keys, 'ticket-late'))).status, 429, 'that IP\'s pushes wait for the minute to end');
  } finally {
    await broker.stop();
  }
});
