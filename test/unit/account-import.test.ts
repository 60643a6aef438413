import test from 'ava';
import { importLine } from '../../src/accounts/import.ts';
import type { AccountId } from '../../src/accounts/account.ts';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';

const NOW = Date.UTC(2026, 11, 6);
const APPID = 'wx5f274651120a15c5';

test('a line becomes the account it describes, with its sub, its identifiers, its profile and when it was created', async (t) => {
  const store = new MemoryAccountStore();
  const line = { sub: 'm-1', unionid: 'uOne', identities: [{ appid: APPID, openid: 'oOne' }], nickname: '张三', picture: 'http://thirdwx.qlogo.cn/mmopen/x/132', created_at: '2019-05-01T08:00:00+08:00' };
  t.deepEqual(await importLine(store, JSON.stringify(line), 1, NOW), { line: 1, outcome: 'created', sub: 'm-1' });
  const account = await store.findById('m-1' as AccountId);
  t.like(account, { unionid: 'uOne', identities: [{ appid: APPID, openid: 'oOne' }], profile: { nickname: '张三', picture: 'https://thirdwx.qlogo.cn/mmopen/x/132' }, createdAt: Date.UTC(2019, 4, 1), updatedAt: NOW });
  t.is(account?.lastLogin, undefined, 'nobody has logged in yet');
  t.is((await store.findByIdentity({ appid: APPID, openid: 'oOne' } as never))?.id, 'm-1' as AccountId);
});

test('without a sub, a new random one, as a first login would make; a creation date in the future is today', async (t) => {
  const store = new MemoryAccountStore();
  const done = await importLine(store, JSON.stringify({ unionid: 'uTwo', created_at: '2099-01-01T00:00:00Z' }), 7, NOW);
  t.is(done.outcome, 'created');
  const sub = (done as { sub: string }).sub;
  t.regex(sub, /^[0-9a-f-]{36}$/);
  t.is((await store.findById(sub as AccountId))?.createdAt, NOW);
});

test('the same line again is present, changed nothing; the same sub with other identifiers is refused', async (t) => {
  const store = new MemoryAccountStore();
  const text = JSON.stringify({ sub: 'm-3', unionid: 'uThree' });
  await importLine(store, text, 1, NOW);
  t.deepEqual(await importLine(store, text, 2, NOW + 1), { line: 2, outcome: 'present', sub: 'm-3' });
  t.is((await store.findById('m-3' as AccountId))?.updatedAt, NOW);
  t.deepEqual(await importLine(store, JSON.stringify({ sub: 'm-3', unionid: 'uOther' }), 3, NOW), { line: 3, outcome: 'refused', reason: 'the sub m-3 is taken (an account\'s, or an erased one\'s)' });
  t.deepEqual(await importLine(store, JSON.stringify({ sub: 'm-4', unionid: 'uThree' }), 4, NOW), { line: 4, outcome: 'refused', reason: 'the unionid belongs to account m-3' });
  t.is(await store.findById('m-4' as AccountId), undefined);
});

test('each bad line is refused with its first problem, and nothing is written', async (t) => {
  const store = new MemoryAccountStore();
  const refusals = [
    ['{"sub": "a b", "unionid": "u1"}', /^sub: expected letters/],
    [`{"sub": "${'x'.repeat(129)}", "unionid": "u1"}`, /^sub:/],
    ['{"unionid": "u 1"}', /^unionid: expected a WeChat id/],
    ['{"identities": [{"appid": "wx123", "openid": "o1"}]}', /^identities\.0\.appid: expected a WeChat AppID/],
    ['{"identities": []}', /a unionid or an identity is needed/],
    ['{"unionid": "u1", "picture": "http://evil.example/a.png"}', /^picture: expected an https URL/],
    ['{"unionid": "u1", "created_at": "yesterday"}', /^created_at:/],
    ['{"unionid": "u1", "unionId": "u2"}', /Unrecognized key/],
    ['[1]', /./],
    ['{', /^not JSON$/],
  ] as const;
  for (const [text, reason] of refusals) {
    const done = await importLine(store, text, 1, NOW);
    t.is(done.outcome, 'refused', text);
    t.regex((done as { reason: string }).reason, reason, text);
  }
  t.is(await store.findByUnionid('u1' as never), undefined);
});
