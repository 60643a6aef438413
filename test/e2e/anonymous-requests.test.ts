// Requests from nobody (no session, no interaction) store nothing: counted in Redis itself.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

let redis: RedisServer;
let broker: RunningBroker;
const RP = 'https://rp.example';

test.before(async () => {
  redis = await startRedis();
  broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(RP)), REDIS_URL: redis.url });
  // Dev mode's simulated platform pushes its first ticket a second after start (WeChat's
  // doing, not a request's): let it land before counting.
  if (!await broker.logged((line) => line.msg === 'component_verify_ticket received', 20_000)) throw new Error('no ticket push');
});
test.after.always(async () => {
  await broker?.stop();
  await redis?.stop();
});

const keys = (): number => Number(spawnSync('redis-cli', ['-p', String(redis.port), 'dbsize'], { encoding: 'utf8', timeout: 60_000 }).stdout.trim());

test.serial('RP-initiated logout with nobody logged in: answered at once, nothing stored, no cookie set', async (t) => {
  const before = keys();
  for (let i = 0; i < 5; i += 1) {
    const plain = await fetch(`${broker.issuer}/session/end`, { redirect: 'manual', headers: { 'accept-language': 'en' } });
    t.is(plain.status, 200);
    t.regex(await plain.text(), /You have been logged out/);
    t.deepEqual(plain.headers.getSetCookie(), []);
    const back = await fetch(`${broker.issuer}/session/end?${new URLSearchParams({ client_id: 'first-party', post_logout_redirect_uri: `${RP}/logged-out`, state: `s${i}` })}`, { redirect: 'manual' });
    t.is(back.status, 303);
    t.is(back.headers.get('location'), `${RP}/logged-out?state=s${i}`);
  }
  t.is(keys(), before, 'no session record for anybody');
  const unregistered = await fetch(`${broker.issuer}/session/end?${new URLSearchParams({ client_id: 'first-party', post_logout_redirect_uri: 'https://evil.example/' })}`, { redirect: 'manual' });
  t.is(unregistered.status, 400, 'an unregistered post_logout_redirect_uri is still refused (by oidc-provider)');
  t.is(unregistered.headers.get('location'), null);
});
