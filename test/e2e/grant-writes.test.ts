// What a login writes to Redis for the person's grant (what a first-party app may have of
// them), counted with MONITOR: once when the grant is new or gains a scope, never again
// for a login that asks for nothing the grant does not already hold (unless the grant is
// near its end: grant-lifetime.test.ts).

import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { cookieJar, follow, qrLoginByFetch } from '../helpers/fetch-login.ts';
import { monitor, startRedis } from '../helpers/redis.ts';
import { until } from '../helpers/wait.ts';

const RP = 'https://rp.example';
const run = promisify(execFile);

const authorizeUrl = (issuer: string, scope: string) => `${issuer}/auth?${new URLSearchParams({
  client_id: 'first-party', response_type: 'code', redirect_uri: `${RP}/callback`, scope, state: 'state-0123456789',
})}`;

test('a first-party login writes the grant once when it is new or gains a scope, and not at all when it asks for nothing new', async (t) => {
  const redis = await startRedis();
  const watching = await monitor(redis.port).catch(async (error: unknown) => { await redis.stop(); throw error; });
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(RP)), REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect' }).catch(async (error: unknown) => {
    watching.stop();
    await redis.stop();
    throw error;
  });
  const target = { issuer: broker.issuer, direct: broker.origin };
  /** The grant records written (the HSET of the write's script on `…:Grant:<id>`, not on their index sets) while `login` ran, and where the browser landed. */
  const grantWrites = async (login: () => Promise<string>) => {
    const from = watching.seen().length;
    const landed = await login();
    t.true(landed.startsWith(`${RP}/callback?code=`), `the login reached the app (${landed})`);
    // Every command of the login is in MONITOR's output once a command sent after it is.
    const marker = `grant-writes-${from}`;
    await run('redis-cli', ['-p', String(redis.port), 'echo', marker]);
    await until('MONITOR caught up', () => watching.seen().includes(marker));
    return { landed, writes: [...watching.seen().slice(from).matchAll(/\[0 lua\] "HSET" "[^"]*:Grant:(?!account:)([^"]+)"/g)].map((match) => match[1]) };
  };
  try {
    let jar = cookieJar();
    const first = await grantWrites(async () => {
      const done = await qrLoginByFetch(authorizeUrl(broker.issuer, 'openid'), target, broker.simulator, 'alice');
      jar = done.jar;
      return done.landed;
    });
    t.is(first.writes.length, 1, 'the first login writes the new grant');
    const again = await grantWrites(async () => (await follow(authorizeUrl(broker.issuer, 'openid'), jar, target)).url);
    t.deepEqual(again.writes, [], 'a login asking for what the grant holds writes nothing');
    const more = await grantWrites(async () => (await follow(authorizeUrl(broker.issuer, 'openid profile'), jar, target)).url);
    t.deepEqual(more.writes, first.writes, 'a login asking for a new scope writes the same grant once');
  } finally {
    watching.stop();
    await broker.stop();
    await redis.stop();
  }
});
