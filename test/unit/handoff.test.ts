// Hand-off records: one per interaction, a few minutes' life, one use.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { browserName, HANDOFF_MODEL, Handoffs, isHandoffCode } from '../../src/login/handoff.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';

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

test('browsers in words a person recognizes', (t) => {
  t.is(browserName('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/156.0 Mobile Safari/537.36'), 'Chrome · Android');
  t.is(browserName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari · iOS');
  // The desktop a follow-to-login scanner is asked about.
  t.is(browserName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36'), 'Chrome · Windows');
  t.is(browserName('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'), 'Safari · macOS');
  t.is(browserName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36 Edg/156.0'), 'Edge · Windows');
});
