import test from 'ava';
import { ConsumeOnceAdapter } from '../../src/oidc/consume-once.ts';
import { heldToMaximum, sessionTtlS } from '../../src/oidc/session-lifetime.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';

const HOUR = 3600;
const lifetimes = { idleS: 8 * HOUR, maxS: 10 * HOUR };
const login = 1_800_000_000;

test('each use renews the idle time, until what is left of the maximum is less', (t) => {
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login), 8 * HOUR, 'at the login: the idle time');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + HOUR), 8 * HOUR, 'used an hour later: renewed');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + 3 * HOUR), 7 * HOUR, 'three hours later: only to the maximum');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + 10 * HOUR - 1), 1);
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login + 3 * HOUR }, login + 3 * HOUR), 8 * HOUR, 'a new login starts the maximum again');
});

test('no maximum: the idle time, however long ago the login', (t) => {
  t.is(sessionTtlS({ idleS: 8 * HOUR, maxS: undefined }, { accountId: 'a', loginTs: login }, login + 1000 * HOUR), 8 * HOUR);
});

test('a session nobody logged in to (a logout\'s confirmation) lives ten minutes', (t) => {
  t.is(sessionTtlS(lifetimes, {}, login), 600);
});

test('a session saved a second late (oidc-provider reads its clock after the TTL) is stored no later than its maximum', async (t) => {
  const storage = new MemoryStorage();
  t.teardown(() => storage.close());
  const sessions = heldToMaximum(new ConsumeOnceAdapter(storage.adapter('Session')), lifetimes);
  const now = Math.floor(Date.now() / 1000);
  const loginTs = now - 10 * HOUR + 60;
  await sessions.upsert('late', { jti: 'late', accountId: 'a', loginTs, exp: loginTs + 10 * HOUR + 1 }, 61);
  t.is((await sessions.find('late'))?.exp, loginTs + 10 * HOUR, 'held to the maximum');
  await sessions.upsert('within', { jti: 'within', accountId: 'a', loginTs, exp: loginTs + 10 * HOUR - 5 }, 55);
  t.is((await sessions.find('within'))?.exp, loginTs + 10 * HOUR - 5, 'an expiry within it is kept');
});
