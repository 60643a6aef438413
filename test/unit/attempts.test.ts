// Login attempts under the state sent to WeChat: short, letters and digits, single use,
// expiring, and keeping the answer a callback got for repeat deliveries.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { ATTEMPT_MODEL, Attempts, isStateFormat, stateOf, type Attempt } from '../../src/login/attempts.ts';
import type { Answer } from '../../src/login/answer.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import type { AppId } from '../../src/wechat/types.ts';

const attempt: Attempt = {
  uid: 'uid-1', channel: 'web', appid: 'wxmp' as AppId, scope: 'snsapi_base', embedded: false, silent: false, round: 1,
};
const SECRET = 'a-cookie-key-0123456789abcdef0123456789';
const attempts = () => new Attempts(new MemoryStorage().adapter(ATTEMPT_MODEL), SECRET);

test('states are 24 letters and digits (WeChat refuses long or other ones), differ for every attempt, and need the secret', (t) => {
  const seen = new Set(Array.from({ length: 2000 }, (_, i) => stateOf(SECRET, { ...attempt, uid: `uid-${i}` })));
  t.is(seen.size, 2000);
  for (const state of seen) t.regex(state, /^[A-Za-z0-9]{24}$/);
  t.true(isStateFormat(stateOf(SECRET, attempt)));
  t.not(stateOf(SECRET, attempt), stateOf('another-secret-0123456789abcdef01234', attempt), 'unguessable without the secret');
  t.not(stateOf(SECRET, attempt), stateOf(SECRET, { ...attempt, round: 2 }), 'a retry is a new attempt');
  t.not(stateOf(SECRET, attempt), stateOf(SECRET, { ...attempt, scope: 'snsapi_userinfo' }), 'so is an upgrade');
  t.false(isStateFormat('abc-def'));
  t.false(isStateFormat('a'.repeat(129)));
  t.false(isStateFormat(['a']));
});

test('an attempt is claimed exactly once, even by concurrent deliveries', async (t) => {
  const store = attempts();
  const state = await store.begin(attempt, 60);
  t.deepEqual(await store.find(state), attempt);
  const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim(state)));
  t.is(claims.filter(Boolean).length, 1);
  t.deepEqual(claims.find(Boolean), attempt);
  t.is(await store.claim(state), undefined);
  t.is(await store.claim('unknown'), undefined);
});

test('an answered attempt tells repeat deliveries what the first one got, redirect or page', async (t) => {
  const store = attempts();
  for (const answer of [
    { type: 'redirect', url: 'http://broker/auth/uid-1' },
    { type: 'page', page: { kind: 'snapshot', status: 403, retryHref: '/interaction/uid-1' } },
  ] satisfies Answer[]) {
    const state = await store.begin(attempt, 60);
    await store.claim(state);
    const waiting = store.answered(state, 2000);
    await store.answer(state, attempt, answer);
    t.deepEqual(await waiting, answer);
  }
  t.is(await store.answered('unknown', 100), undefined);
});

test('an attempt expires with its interaction', async (t) => {
  const store = attempts();
  const state = await store.begin(attempt, 1);
  await sleep(1100);
  t.is(await store.find(state), undefined);
  t.is(await store.claim(state), undefined);
});

test('repeat deliveries wait cheaply and in bounded number: few reads, and waiters beyond the cap are answered at once', async (t) => {
  const adapter = new MemoryStorage().adapter(ATTEMPT_MODEL);
  let reads = 0;
  const counted = new Proxy(adapter, {
    get: (target, key) => {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'find') return (id: string) => { reads += 1; return target.find(id); };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const store = new Attempts(counted, SECRET);
  const state = await store.begin(attempt, 60);
  await store.claim(state);
  const started = reads;
  const order: string[] = [];
  const waiters = Array.from({ length: 10 }, (_, index) => store.answered(state, 1500).then((answer) => {
    order.push(index < 3 ? 'waited' : 'turned away');
    return answer;
  }));
  t.deepEqual(await Promise.all(waiters), Array.from({ length: 10 }, () => undefined), 'the first delivery never answered: nothing to follow');
  t.deepEqual(order, [...Array.from({ length: 7 }, () => 'turned away'), 'waited', 'waited', 'waited'], 'past three waiters, the others are answered at once');
  t.true(reads - started <= 3 * 8, `three waiters over 1.5 s read storage ${reads - started} times`);
});

test('a reload of the login page keeps the attempt it had: the same state, one record', async (t) => {
  const storage = new MemoryStorage();
  const store = new Attempts(storage.adapter(ATTEMPT_MODEL), SECRET);
  const first = await store.begin(attempt, 60);
  const again = await store.begin(attempt, 60);
  t.is(again, first);
  t.deepEqual(await store.find(first), attempt);
  storage.close();
});
