// Hand-off records: one per interaction, a few minutes' life, one use.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { HANDOFF_MODEL, Handoffs, isHandoffCode } from '../../src/login/handoff.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { raceStores } from '../helpers/race-stores.ts';

const SECRET = 'a-cookie-key-0123456789abcdef0123456789';

test('a reload finds the same hand-off; its code is short and unguessable; the match is four digits', async (t) => {
  const handoffs = new Handoffs(new MemoryStorage().adapter(HANDOFF_MODEL), SECRET);
  const first = await handoffs.open('uid-1', 'Chrome · Android');
  t.deepEqual(await handoffs.open('uid-1', 'other'), first);
  t.true(isHandoffCode(handoffs.code('uid-1')));
  t.not(handoffs.code('uid-1'), handoffs.code('uid-2'));
  t.not(handoffs.code('uid-1'), new Handoffs(new MemoryStorage().adapter(HANDOFF_MODEL), 'another-secret-0123456789abcdef01234').code('uid-1'));
  t.regex(handoffs.match('uid-1'), /^\d{4}$/);
});

test('a hand-off moves on once, is taken once, and expires', async (t) => {
  const handoffs = new Handoffs(new MemoryStorage().adapter(HANDOFF_MODEL), SECRET);
  await handoffs.open('uid-1', 'Chrome · Android');
  const code = handoffs.code('uid-1');
  t.true(await handoffs.move(code, 'waiting', { status: 'confirmed' }));
  t.false(await handoffs.move(code, 'waiting', { status: 'confirmed' }), 'confirmed once');
  t.true(await handoffs.move(code, 'confirmed', { status: 'done', result: { accountId: 'a', acr: 'x', amr: ['wechat_web'] } }));
  t.truthy(await handoffs.take('uid-1'));
  t.is(await handoffs.take('uid-1'), undefined, 'taken once');
  const short = new Handoffs(new MemoryStorage().adapter(HANDOFF_MODEL), SECRET);
  await short.open('uid-2', 'Safari · iOS');
  await short.move(short.code('uid-2'), 'waiting', { status: 'waiting', expiresAt: Date.now() + 200 } as never);
  await sleep(300);
  t.is(await short.find(short.code('uid-2')), undefined, 'expired');
});

for (const [name, storage] of raceStores(test)) {
  test(`${name}: two moves from one state at once (a confirm and a decline): exactly one wins, and the hand-off is what it said, its expiry kept`, async (t) => {
    const handoffs = new Handoffs(storage().adapter(HANDOFF_MODEL), SECRET);
    const opened = await handoffs.open('uid-1', 'Chrome · Android');
    const code = handoffs.code('uid-1');
    const [confirmed, declined] = await Promise.all([
      handoffs.move(code, 'waiting', { status: 'confirmed' }), handoffs.move(code, 'waiting', { status: 'declined' }),
    ]);
    t.true(confirmed !== declined, 'one move wins, the other is told');
    t.like(await handoffs.find(code), { status: confirmed ? 'confirmed' : 'declined', expiresAt: opened.expiresAt });
  });

  test(`${name}: two callbacks of one confirmed hand-off at once: one logs the waiting browser in, as its person`, async (t) => {
    const handoffs = new Handoffs(storage().adapter(HANDOFF_MODEL), SECRET);
    await handoffs.open('uid-1', 'Chrome · Android');
    const code = handoffs.code('uid-1');
    t.true(await handoffs.move(code, 'waiting', { status: 'confirmed' }));
    const done = (accountId: string) => handoffs.move(code, 'confirmed', { status: 'done', result: { accountId, acr: 'x', amr: ['wechat_web'] } });
    const [first, second] = await Promise.all([done('first'), done('second')]);
    t.true(first !== second, 'one callback wins, the other is told');
    t.like(await handoffs.take('uid-1'), { status: 'done', result: { accountId: first ? 'first' : 'second' } });
  });
}
