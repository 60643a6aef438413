// A third-party platform served by two broker instances on one Redis: WeChat's ticket push
// reaches one instance and serves both; concurrent logins through both make one
// component_access_token fetch, not one per instance or per login; a restarted instance
// keeps the ticket and the token (no new push, no new fetch).

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { USER_AGENTS } from '../helpers/browser.ts';
import { webLoginByFetch } from '../helpers/fetch-login.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import {
  addCallbackHost, pushTicketNow, setPlatformUrls, simApp, simCalls, simPlatform, startTestSimulator,
} from '../helpers/simulator.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { tempDir } from '../helpers/temp.ts';

const shop = simApp('mp');
const platform = simPlatform(shop);
const TOKEN_PATH = '/cgi-bin/component/api_component_token';
let simulator: RunningSimulator;
let redis: RedisServer;
let rpServer: RpServer;
let env: Record<string, string>;
const brokers: RunningBroker[] = [];

test.before(async () => {
  [simulator, redis, rpServer] = await Promise.all([startTestSimulator([shop], [], [platform]), startRedis(), startRpServer()]);
  const dir = tempDir('broker-platform-instances');
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, via: 'platform' },
    { id: 'platform', kind: 'component', appid: platform.appid, secret_env: 'PLATFORM_SECRET', token_env: 'PLATFORM_TOKEN', aes_key_env: 'PLATFORM_AES_KEY' },
  ]));
  env = {
    REDIS_URL: redis.url, CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), WECHAT_APPS_FILE: appsFile,
    PLATFORM_SECRET: platform.secret, PLATFORM_TOKEN: platform.token, PLATFORM_AES_KEY: platform.aesKey,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_MP_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  };
  brokers.push(...await Promise.all([startBroker(env), startBroker(env)]));
  for (const broker of brokers) await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all(brokers.map((broker) => broker.stop()));
  await Promise.all([simulator?.close(), redis?.stop(), rpServer?.close()]);
});

/** A whole login inside WeChat at `broker`, finished by the relying party: the id_token's sub. */
async function login(broker: RunningBroker, user: string): Promise<string> {
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start({ scope: 'openid' });
  const landed = await webLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, simulator.url, USER_AGENTS.wechat, user);
  const tokens = await rp.finish(new URL(landed), check);
  return String(tokens.claims()?.sub);
}

const tokenFetches = async () => (await simCalls(simulator.url)).filter((call) => call.path === TOKEN_PATH).length;

test.serial('the ticket pushed to one instance serves both; 8 concurrent logins through both fetch the component token once', async (t) => {
  const [a, b] = brokers as [RunningBroker, RunningBroker];
  await setPlatformUrls(simulator.url, platform.appid, { auth_events_url: `${a.issuer}/wechat/platform/platform/auth-events` });
  t.deepEqual(await pushTicketNow(simulator.url, platform.appid), { status: 200, body: 'success' });
  const users = ['alice', 'bob', 'chen', 'alice'];
  const subs = await Promise.all([...users.map((user) => login(a, user)), ...users.map((user) => login(b, user))]);
  t.is(new Set(subs).size, 3, 'three people, whichever instance they came through');
  t.is(await tokenFetches(), 1);
  t.deepEqual((await (await fetch(`${b.origin}/readyz`)).json() as { platforms: unknown }).platforms, { platform: 'ready' });
});

test.serial('a restarted instance keeps the ticket and the token: it logs people in with no new push and no new fetch', async (t) => {
  const before = await tokenFetches();
  const pushes = (await simCalls(simulator.url)).length;
  const [a] = brokers.splice(0, 1) as [RunningBroker];
  t.is(await a.stop(), 0);
  const restarted = await startBroker({ ...env, PORT: new URL(a.origin).port });
  brokers.push(restarted);
  t.false(restarted.logs().some((line) => /waiting for the first component_verify_ticket/.test(String(line.msg))), 'no wait after a restart');
  t.truthy(await login(restarted, 'bob'));
  t.is(await tokenFetches(), before);
  t.true((await simCalls(simulator.url)).length > pushes, 'the login did reach WeChat');
});
