// The state sent to WeChat: short, letters and digits, single use, expiring.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { isStateFormat, LoginStates, newState, STATE_MODEL, type LoginState } from '../../src/login/state.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import type { AppId } from '../../src/wechat/types.ts';

const record: LoginState = { uid: 'uid-1', kind: 'mp', appid: 'wxmp' as AppId, scope: 'snsapi_base', attempt: 1, silent: false };
const states = () => new LoginStates(new MemoryStorage().adapter(STATE_MODEL));

test('states are 24 letters and digits (WeChat refuses long or other ones) and never repeat', (t) => {
  const seen = new Set(Array.from({ length: 2000 }, newState));
  t.is(seen.size, 2000);
  for (const state of seen) t.regex(state, /^[A-Za-z0-9]{24}$/);
  t.true(isStateFormat(newState()));
  t.false(isStateFormat('abc-def'));
  t.false(isStateFormat('a'.repeat(129)));
  t.false(isStateFormat(['a']));
});

test('a state is claimed exactly once, even by concurrent deliveries', async (t) => {
  const store = states();
  const id = await store.create(record, 60);
  t.deepEqual(await store.find(id), record);
  const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim(id)));
  t.is(claims.filter(Boolean).length, 1);
  t.is(await store.claim(id), undefined);
  t.is(await store.claim('unknown'), undefined);
});

test('a finished state tells repeat deliveries where the login went', async (t) => {
  const store = states();
  const id = await store.create(record, 60);
  await store.claim(id);
  const waiting = store.outcome(id, 2000);
  await store.finish(id, record, 'http://broker/auth/uid-1');
  t.is(await waiting, 'http://broker/auth/uid-1');
  t.is(await store.outcome('unknown', 100), undefined);
});

test('a state expires with its interaction', async (t) => {
  const store = states();
  const id = await store.create(record, 1);
  await sleep(1100);
  t.is(await store.find(id), undefined);
  t.is(await store.claim(id), undefined);
});
