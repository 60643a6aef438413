// A WeCom (企业微信) app served by two broker instances on one Redis: logins through both
// share one gettoken token (not one per instance); a member has one sub whichever instance
// they meet; WeCom's update_user event pushed to one instance renames the member for both.
// No browser: the in-client login is plain HTTP with WeCom's User-Agent.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchUserInfo } from 'openid-client';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import { randomCorp } from '../../src/simulator/wecom-corp.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { USER_AGENTS } from '../helpers/browser.ts';
import { weComLoginByFetch } from '../helpers/fetch-login.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, weComControl, weComTokenCalls } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';

const corp = randomCorp();
let simulator: RunningSimulator;
let redis: RedisServer;
let rpServer: RpServer;
const brokers: RunningBroker[] = [];

test.before(async () => {
  [simulator, redis, rpServer] = await Promise.all([
    startSimulator({ apps: [], corps: [corp], callbackHosts: [], host: '127.0.0.1', port: 0 }), startRedis(), startRpServer(),
  ]);
  const appsFile = join(tempDir('broker-wecom-instances'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'staff', kind: 'wecom', corpid: corp.corpid, agentid: corp.agentid, secret_env: 'STAFF_SECRET', token_env: 'STAFF_TOKEN', aes_key_env: 'STAFF_AES_KEY' },
  ]));
  const env = {
    REDIS_URL: redis.url, WECHAT_APPS_FILE: appsFile, STAFF_SECRET: corp.secret, STAFF_TOKEN: corp.token, STAFF_AES_KEY: corp.aesKey,
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin).map((client) => client.client_id === 'first-party' ? { ...client, wechat_apps: ['staff'] } : client)),
    WECHAT_CONNECT_URL: simulator.url, WECOM_API_URL: simulator.url, WECOM_LOGIN_URL: simulator.url,
  };
  brokers.push(...await Promise.all([startBroker(env), startBroker(env)]));
  for (const broker of brokers) await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all(brokers.map((broker) => broker.stop()));
  await Promise.all([simulator?.close(), redis?.stop(), rpServer?.close()]);
});

/** A whole login of `user` inside the WeCom client at `broker`, finished by the relying party: the userinfo. */
async function login(broker: RunningBroker, user: string) {
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start({ scope: 'openid profile wecom' });
  const landed = await weComLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, simulator.url, USER_AGENTS.wecom, user);
  const tokens = await rp.finish(new URL(landed), check);
  return fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
}

test.serial('eight logins at once through two instances: one gettoken between them, and one sub per member whichever instance they meet', async (t) => {
  const before = await weComTokenCalls(simulator.url, corp.corpid);
  const people = ['alice', 'bob', 'alice', 'bob', 'alice', 'bob', 'alice', 'bob'];
  const infos = await Promise.all(people.map((user, index) => login(brokers[index % 2]!, user)));
  t.is(await weComTokenCalls(simulator.url, corp.corpid) - before, 1, 'the token is shared through Redis, not fetched per instance or per login');
  const subsOf = (userid: string) => new Set(infos.filter((info) => info.wecom_userid === userid).map((info) => info.sub));
  t.is(subsOf('WangXiaoAi').size, 1);
  t.is(subsOf('bob.li').size, 1);
  t.not([...subsOf('WangXiaoAi')][0], [...subsOf('bob.li')][0]);
});

test.serial('WeCom pushes a userid change to one instance: the member logs in at the other under the new userid and keeps their sub', async (t) => {
  const [a, b] = brokers as [RunningBroker, RunningBroker];
  const before = await login(b, 'bob');
  await weComControl(simulator.url, corp.corpid, 'server', { url: `${a.origin}/wecom/staff/events` });
  const pushed = await weComControl(simulator.url, corp.corpid, 'rename', { user: 'bob', userid: 'li.bo' });
  t.like(await pushed.json(), { status: 200 }, 'instance A took the encrypted event');
  const after = await login(b, 'bob');
  t.is(after.sub, before.sub, 'the same person at instance B, not a new account');
  t.is(after.wecom_userid, 'li.bo');
});
