import test from 'ava';
import { importLine, lineOf } from '../../src/accounts/import.ts';
import { weComIdentity, type Account, type AccountId, type Identity } from '../../src/accounts/account.ts';
import type { Unionid } from '../../src/wechat/types.ts';
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

test('without a sub, a new random one, as a first login would make; a creation date in the future is today; the same line again is present', async (t) => {
  const store = new MemoryAccountStore();
  const text = JSON.stringify({ unionid: 'uTwo', created_at: '2099-01-01T00:00:00Z' });
  const done = await importLine(store, text, 7, NOW);
  t.is(done.outcome, 'created');
  const sub = (done as { sub: string }).sub;
  t.regex(sub, /^[0-9a-f-]{36}$/);
  t.is((await store.findById(sub as AccountId))?.createdAt, NOW);
  t.deepEqual(await importLine(store, text, 8, NOW), { line: 8, outcome: 'present', sub }, 'found by its unionid');
  const byIdentity = JSON.stringify({ identities: [{ appid: APPID, openid: 'oTwo' }] });
  const made = await importLine(store, byIdentity, 9, NOW);
  t.deepEqual(await importLine(store, byIdentity, 10, NOW), { line: 10, outcome: 'present', sub: (made as { sub: string }).sub }, 'found by its identity');
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

test('a dumped line imports as the same account: WeChat and WeCom members\' identities, profile, creation date; a WeCom non-member\'s identity is not carried', async (t) => {
  const identities = [{ appid: APPID, openid: 'oNine' } as Identity, weComIdentity('ww2a1d025a1c5f8746', { userid: 'zhang.san@corp' }), weComIdentity('ww2a1d025a1c5f8746', { openid: 'oGuest' })];
  const account: Account = {
    id: 'm-9' as AccountId, createdAt: Date.UTC(2020, 1, 2), updatedAt: NOW, unionid: 'uNine' as Unionid, identities,
    profile: { nickname: '九', picture: 'https://thirdwx.qlogo.cn/9' },
  };
  const line = lineOf(account);
  t.deepEqual(line.identities, [{ appid: APPID, openid: 'oNine' }, { wecom_corpid: 'ww2a1d025a1c5f8746', wecom_userid: 'zhang.san@corp' }]);
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created', sub: 'm-9' });
  t.like(await store.findById('m-9' as AccountId), { unionid: 'uNine', createdAt: account.createdAt, profile: account.profile, identities: identities.slice(0, 2) });
  t.like(await importLine(store, '{"sub": "m-10", "identities": [{"appid": "' + APPID + '", "wecom_userid": "x"}]}', 2, NOW), { outcome: 'refused', reason: 'identities.0: expected appid and openid (WeChat), or wecom_corpid and wecom_userid (a WeCom member)' });
});

test('a suspended account dumps and imports suspended (a move to another broker is no way out); a suspension line without a reason it can keep is refused', async (t) => {
  const suspended = { at: Date.UTC(2026, 10, 1), by: 'console:op-1', reason: '多次恶意退款' };
  const account: Account = { id: 's-1' as AccountId, createdAt: Date.UTC(2021, 0, 1), updatedAt: NOW, identities: [{ appid: APPID, openid: 'oSus' } as Identity], profile: {}, suspended };
  const line = lineOf(account);
  t.deepEqual(line.suspended, { ...suspended, at: '2026-11-01T00:00:00.000Z' });
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created' });
  t.deepEqual((await store.findById('s-1' as AccountId))?.suspended, suspended);
  const bad = JSON.stringify({ ...line, sub: 's-2', identities: [{ appid: APPID, openid: 'oOther' }], suspended: { ...line.suspended, reason: 'two\nlines' } });
  t.like(await importLine(store, bad, 2, NOW), { outcome: 'refused', reason: 'suspended.reason: expected why, on one line, at most 500 characters' });
});

test('a suspension with an end dumps and imports with it; an end that is no RFC 3339 date-time is refused', async (t) => {
  const suspended = { at: Date.UTC(2026, 10, 1), by: 'cli', reason: 'cooling off', until: Date.UTC(2026, 11, 1) };
  const account: Account = { id: 's-3' as AccountId, createdAt: Date.UTC(2021, 0, 1), updatedAt: NOW, identities: [{ appid: APPID, openid: 'oUntil' } as Identity], profile: {}, suspended };
  const line = lineOf(account);
  t.deepEqual(line.suspended, { ...suspended, at: '2026-11-01T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z' });
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created' });
  t.deepEqual((await store.findById('s-3' as AccountId))?.suspended, suspended);
  const bad = JSON.stringify({ ...line, sub: 's-4', identities: [{ appid: APPID, openid: 'oOther2' }], suspended: { ...line.suspended, until: 'next week' } });
  t.like(await importLine(store, bad, 2, NOW), { outcome: 'refused', reason: 'suspended.until: expected an RFC 3339 date-time with its offset' });
});
