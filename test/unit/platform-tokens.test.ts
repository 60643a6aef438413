// A third-party platform's tokens against the simulator over real HTTP and a real Redis:
// the component_access_token (POSTed JSON with the pushed ticket), the exchange on an
// account's behalf, each 61xxx errcode typed, and exactly one fetch of the token by two
// instances sharing a Redis under concurrent logins; a restart keeps the ticket.
// Serial: the simulator's call log and fault queue are shared.

import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseRedisUrl } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { PlatformTokens } from '../../src/platforms/platform-tokens.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { connectRedis, redisReady, type RedisClient } from '../../src/storage/redis-connection.ts';
import { RedisStorage } from '../../src/storage/redis.ts';
import { WeChatClient } from '../../src/wechat/client.ts';
import {
  WeChatAuthorizationLapsedError, WeChatCodeRejectedError, WeChatTokenRefusedError, WeChatCredentialsError,
  WeChatIpNotAllowedError, WeChatTicketError, errorFromErrcode,
} from '../../src/wechat/errors.ts';
import { MessageCrypto } from '../../src/wechat/message-crypto.ts';
import { xmlFields } from '../../src/wechat/platform-push.ts';
import type { AppId, DelegatedApp } from '../../src/wechat/types.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import {
  injectFaults, issueCode, pushTicketNow, setPlatformUrls, simApp, simCalls, simPlatform, startTestSimulator, whileHeld,
} from '../helpers/simulator.ts';

const shop = simApp('mp');
const outsider = simApp('mp');
const platform = simPlatform(shop);
const credentials = { id: 'isv', appid: platform.appid as AppId, secret: platform.secret, token: platform.token, aesKey: platform.aesKey };
const onBehalf: DelegatedApp = { kind: 'mp', appid: shop.appid as AppId, component: platform.appid as AppId };
const TOKEN_PATH = '/cgi-bin/component/api_component_token';

let sim: RunningSimulator;
let redis: RedisServer;
let logged = '';
const connections: RedisClient[] = [];
let client: WeChatClient;

test.before(async () => {
  [sim, redis] = await Promise.all([startTestSimulator([shop, outsider], [], [platform]), startRedis()]);
  const sink = new Writable({ write(chunk, _encoding, done) { logged += String(chunk); done(); } });
  client = new WeChatClient({ apiUrl: sim.url, timeoutMs: 2000, log: createLogger('debug', sink) });
});
test.after.always(async () => {
  await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
  await Promise.all([sim?.close(), redis?.stop()]);
});

/** One broker instance's view: its own Redis connection, its own PlatformTokens. */
async function instance(prefix: string): Promise<PlatformTokens> {
  const connection = connectRedis(parseRedisUrl('REDIS_URL', redis.url), 2000);
  connections.push(connection);
  if (!await redisReady(connection, 10_000)) throw new Error('Redis not ready');
  return new PlatformTokens([credentials], new RedisStorage(connection, prefix), client, createLogger('silent'));
}

/** A ticket WeChat really issued: pushed to a receiver of this test's, and decrypted as the broker does. */
async function realTicket(): Promise<string> {
  const received = new Promise<string>((resolve) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += String(chunk); });
      req.on('end', () => {
        res.end('success');
        server.close();
        resolve(body);
      });
    }).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      void setPlatformUrls(sim.url, platform.appid, { auth_events_url: `http://127.0.0.1:${port}/auth` })
        .then(() => pushTicketNow(sim.url, platform.appid));
    });
  });
  const inner = new MessageCrypto(platform.token, platform.aesKey).decrypt(xmlFields(await received).Encrypt ?? '');
  return xmlFields(inner.message).ComponentVerifyTicket ?? '';
}

const tokenCalls = async () => (await simCalls(sim.url)).filter((call) => call.path === TOKEN_PATH && call.errcode === undefined).length;

test.serial('the platform\'s own token: the ticket POSTed as JSON; a bad secret, an unknown or expired ticket, an IP off the whitelist each typed', async (t) => {
  const ticket = await realTicket();
  const token = await client.componentToken(credentials, ticket);
  t.true(token.accessToken.length > 20);
  t.is(token.expiresIn, 7200);
  await t.throwsAsync(client.componentToken({ ...credentials, secret: 'f'.repeat(32) }, ticket), { instanceOf: WeChatCredentialsError });
  t.is((await t.throwsAsync(client.componentToken(credentials, 'ticket@@@forged'), { instanceOf: WeChatTicketError }))?.errcode, 61006);
  await injectFaults(sim.url, TOKEN_PATH, ['errcode:61005', 'errcode:61004']);
  t.is((await t.throwsAsync(client.componentToken(credentials, ticket), { instanceOf: WeChatTicketError }))?.errcode, 61005);
  t.is((await t.throwsAsync(client.componentToken(credentials, ticket), { instanceOf: WeChatIpNotAllowedError }))?.errcode, 61004);
  t.true(errorFromErrcode(61023, 'refresh_token expired') instanceof WeChatAuthorizationLapsedError);
  t.false(logged.includes(ticket) || logged.includes(token.accessToken) || logged.includes(platform.secret), 'no ticket, token or secret in the log');
});

test.serial('on the account\'s behalf: the component exchange gives the person; a refused component token, a direct exchange, an account that never authorized the platform', async (t) => {
  const { accessToken } = await client.componentToken(credentials, await realTicket());
  const code = await issueCode(sim.url, shop.appid, 'alice', 'snsapi_userinfo', undefined, platform.appid);
  const user = await client.signIn(onBehalf, 'snsapi_userinfo', code, 'zh_CN', accessToken);
  t.is(user.appid, shop.appid as AppId);
  t.regex(String(user.unionid), /^u/);
  t.is(user.profile?.nickname, '小爱 Alice 🌸');
  const calls = await simCalls(sim.url);
  t.true(calls.some((call) => call.path === '/sns/oauth2/component/access_token' && call.appid === shop.appid));
  const another = await issueCode(sim.url, shop.appid, 'alice', 'snsapi_base', undefined, platform.appid);
  await t.throwsAsync(client.signIn(onBehalf, 'snsapi_base', another, 'zh_CN', 'not-a-token'), { instanceOf: WeChatTokenRefusedError });
  await t.throwsAsync(client.signIn(onBehalf, 'snsapi_base', another, 'zh_CN'), { instanceOf: WeChatTicketError }, 'no token at all');
  await t.throwsAsync(client.signIn({ kind: 'mp', appid: shop.appid as AppId, secret: shop.secret }, 'snsapi_base', another, 'zh_CN'),
    { instanceOf: WeChatCodeRejectedError }, 'a code of the platform\'s authorization is not the account\'s own');
  const foreign = await issueCode(sim.url, outsider.appid, 'alice', 'snsapi_base');
  await t.throwsAsync(client.signIn({ ...onBehalf, appid: outsider.appid as AppId }, 'snsapi_base', foreign, 'zh_CN', accessToken),
    { instanceOf: WeChatAuthorizationLapsedError }, '61003: the account never authorized the platform, which its owner must do');
  // A wrong appid or secret is the operator's to mend, not a token to renew (renewing would spend quota on every login).
  for (const errcode of [40013, 40125, 41002, 41004]) {
    await injectFaults(sim.url, '/sns/oauth2/component/access_token', [`errcode:${errcode}`]);
    const next = await issueCode(sim.url, shop.appid, 'alice', 'snsapi_base', undefined, platform.appid);
    await t.throwsAsync(client.signIn(onBehalf, 'snsapi_base', next, 'zh_CN', accessToken), { instanceOf: WeChatCredentialsError }, `errcode ${errcode}`);
  }
  await injectFaults(sim.url, '/sns/oauth2/component/access_token', ['errcode:40001']);
  const last = await issueCode(sim.url, shop.appid, 'alice', 'snsapi_base', undefined, platform.appid);
  await t.throwsAsync(client.signIn(onBehalf, 'snsapi_base', last, 'zh_CN', accessToken), { instanceOf: WeChatTokenRefusedError }, '40001 with a token: the token');
});

test.serial('no ticket yet: WeChatTicketError and the state says why; the first push makes the platform ready', async (t) => {
  const tokens = new PlatformTokens([credentials], new MemoryStorage(), client, createLogger('silent'));
  t.is(await tokens.state('isv'), 'waiting for the first component_verify_ticket');
  await t.throwsAsync(tokens.token('isv'), { instanceOf: WeChatTicketError });
  await tokens.keepTicket('isv', await realTicket());
  t.deepEqual(await tokens.states(), { isv: 'ready' });
  t.true((await tokens.token('isv')).length > 20);
});

test.serial('two instances on one Redis, 20 concurrent logins: the component token is fetched once; a restart keeps ticket and token', async (t) => {
  const [a, b] = await Promise.all([instance('once:'), instance('once:')]);
  // The push reaches one instance; the other reads it from Redis.
  await a.keepTicket('isv', await realTicket());
  const before = await tokenCalls();
  const tokens = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? a : b).token('isv')));
  t.is(new Set(tokens).size, 1, 'every login uses the one token');
  t.is(await tokenCalls() - before, 1, 'fetched once, not once per instance');
  const restarted = await instance('once:');
  t.truthy(await restarted.ticket('isv'), 'the ticket survives the restart');
  t.is(await restarted.token('isv'), tokens[0] ?? '', 'and so does the token: no fetch after a restart');
  t.is(await tokenCalls() - before, 1);
});

test.serial('a token WeChat refuses is renewed once however many logins met the refusal', async (t) => {
  const [a, b] = await Promise.all([instance('renew:'), instance('renew:')]);
  await a.keepTicket('isv', await realTicket());
  const first = await a.token('isv');
  const before = await tokenCalls();
  // Ten calls meet WeChat's refusal of the first token, on either instance.
  const call = async (token: string) => {
    if (token === first) throw new WeChatTokenRefusedError('refused', { errcode: 42001 });
    return token;
  };
  const renewed = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? a : b).withToken('isv', call)));
  t.is(new Set(renewed).size, 1);
  t.not(renewed[0], first);
  t.is(await tokenCalls() - before, 1);
});

test.serial('61006 for a ticket replaced while WeChat answered: the ticket pushed meanwhile stays', async (t) => {
  const tokens = await instance('replaced:');
  await tokens.keepTicket('isv', 'ticket@@@not-from-wechat');
  await injectFaults(sim.url, TOKEN_PATH, ['hold']);
  const failing = t.throwsAsync(tokens.token('isv'), { instanceOf: WeChatTicketError });
  await whileHeld(sim.url, TOKEN_PATH, () => tokens.keepTicket('isv', 'ticket@@@pushed-meanwhile'));
  await failing;
  t.is(await tokens.ticket('isv'), 'ticket@@@pushed-meanwhile');
});

test.serial('61006 from WeChat: the useless ticket is dropped, and the platform waits for the next push', async (t) => {
  const tokens = await instance('dropped:');
  await tokens.keepTicket('isv', 'ticket@@@not-from-wechat');
  t.is(await tokens.state('isv'), 'ready');
  await t.throwsAsync(tokens.token('isv'), { instanceOf: WeChatTicketError });
  t.is(await tokens.ticket('isv'), undefined);
  t.is(await tokens.state('isv'), 'waiting for the first component_verify_ticket');
});
