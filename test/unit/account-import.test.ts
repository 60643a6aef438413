// A line of the accounts' file (`npm run accounts -- import`, `dump`), checked field by field,
// and what it makes: the account as it was, with what is kept beside it.

import test from 'ava';
import { lineOf } from '../../src/accounts/import.ts';
import { weComIdentity, type Account, type AccountId, type Identity } from '../../src/accounts/account.ts';
import type { AccountStore } from '../../src/accounts/store.ts';
import type { Unionid } from '../../src/wechat/types.ts';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { dumpLines, importLine as importInto } from '../../src/privacy/account-moves.ts';
import { ACCESS_LOG_MODEL, AccessLog } from '../../src/privacy/access-log.ts';
import { LOGIN_HISTORY_MODEL, LoginHistory } from '../../src/privacy/login-history.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { PHONE_HOLDER_MODEL, PhoneHolders } from '../../src/accounts/phone-holders.ts';

/** A line imported into `store` alone (the lists beside it in a storage of their own). */
const importLine = (store: AccountStore, text: string, number: number, now: number) => importInto(partsOf(store), text, number, now);

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function partsOf(accounts: AccountStore, storage = new MemoryStorage()) {
  return {
    accounts, logins: new LoginHistory(storage.adapter(LOGIN_HISTORY_MODEL)), accesses: new AccessLog(storage.adapter(ACCESS_LOG_MODEL)),
    holders: new PhoneHolders(storage.adapter(PHONE_HOLDER_MODEL)),
  };
}

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

test('a dumped line imports as the same account: WeChat identities, WeCom members\' and non-members\' identities, profile, creation date', async (t) => {
  const identities = [{ appid: APPID, openid: 'oNine' } as Identity, weComIdentity('ww2a1d025a1c5f8746', { userid: 'zhang.san@corp' }), weComIdentity('ww2a1d025a1c5f8746', { openid: 'oGuest' })];
  const account: Account = {
    id: 'm-9' as AccountId, createdAt: Date.UTC(2020, 1, 2), updatedAt: NOW, unionid: 'uNine' as Unionid, identities,
    profile: { nickname: '九', picture: 'https://thirdwx.qlogo.cn/9' },
  };
  const line = lineOf(account);
  t.deepEqual(line.identities, [
    { appid: APPID, openid: 'oNine' }, { wecom_corpid: 'ww2a1d025a1c5f8746', wecom_userid: 'zhang.san@corp' }, { wecom_corpid: 'ww2a1d025a1c5f8746', wecom_openid: 'oGuest' },
  ]);
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created', sub: 'm-9' });
  t.like(await store.findById('m-9' as AccountId), { unionid: 'uNine', createdAt: account.createdAt, profile: account.profile, identities });
  const either = 'expected appid and openid (WeChat), wecom_corpid and wecom_userid (a WeCom member), or wecom_corpid and wecom_openid (a WeCom non-member)';
  for (const bad of [{ appid: APPID, wecom_userid: 'x' }, { wecom_corpid: 'ww2a1d025a1c5f8746', wecom_userid: 'x', wecom_openid: 'y' }, { wecom_openid: 'y' }, {}]) {
    t.like(await importLine(store, JSON.stringify({ sub: 'm-10', identities: [bad] }), 2, NOW), { outcome: 'refused', reason: `identities.0: ${either}` });
  }
  t.like(await importLine(store, JSON.stringify({ sub: 'm-10', identities: [{ wecom_corpid: 'ww2a1d025a1c5f8746', wecom_openid: 'o guest' }] }), 2, NOW), { outcome: 'refused', reason: 'identities.0.wecom_openid: expected a WeCom non-member\'s openid' });
});

test('a WeCom non-member\'s account, which has no other identity, dumps and imports whole: their next login finds it', async (t) => {
  const guest = weComIdentity('ww2a1d025a1c5f8746', { openid: 'oGuestOnly' });
  const account: Account = { id: 'guest-1' as AccountId, createdAt: Date.UTC(2025, 0, 1), updatedAt: NOW, identities: [guest], profile: {} };
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(lineOf(account)), 1, NOW), { outcome: 'created', sub: 'guest-1' });
  t.is((await store.findByIdentity(guest))?.id, 'guest-1' as AccountId);
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

test('a dump loses nothing of the account: contact details, last login, merged subs and unlinked identities import as they were', async (t) => {
  const account: Account = {
    id: 'all-1' as AccountId, createdAt: Date.UTC(2020, 0, 1), updatedAt: NOW, unionid: 'uAll' as Unionid,
    identities: [{ appid: APPID, openid: 'oAll' } as Identity],
    profile: { nickname: '全' },
    contacts: {
      phone: { value: '+8613800138000', verified: true, source: `wechat-phone:${APPID}`, at: Date.UTC(2026, 5, 1) },
      email: { value: 'quan@corp.example', verified: false, source: 'wecom:ww2a1d025a1c5f8746', at: Date.UTC(2026, 5, 2) },
    },
    lastLogin: { at: Date.UTC(2026, 10, 30), appid: APPID as never, client: 'shop' },
    mergedFrom: ['all-0' as AccountId, 'all-00' as AccountId],
    detached: [{ appid: 'wx0123456789abcdef', openid: 'oGone' } as Identity, weComIdentity('ww2a1d025a1c5f8746', { userid: 'quan' })],
  };
  const line = lineOf(account);
  t.like(line, {
    contacts: { phone: { value: '+8613800138000', at: '2026-06-01T00:00:00.000Z' }, email: { source: 'wecom:ww2a1d025a1c5f8746' } },
    last_login: { at: '2026-11-30T00:00:00.000Z', appid: APPID, client: 'shop' },
    merged_from: ['all-0', 'all-00'],
    unlinked_identities: [{ appid: 'wx0123456789abcdef', openid: 'oGone' }, { wecom_corpid: 'ww2a1d025a1c5f8746', wecom_userid: 'quan' }],
  });
  const store = new MemoryAccountStore();
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created', sub: 'all-1' });
  t.deepEqual(await store.findById('all-1' as AccountId), account);
  t.is((await store.findById('all-00' as AccountId))?.id, 'all-1' as AccountId, 'a merged sub resolves to the account');
  t.like(await importLine(store, JSON.stringify(line), 2, NOW), { outcome: 'present', sub: 'all-1' }, 'again: present');
  const other = { sub: 'all-2', unionid: 'uOther', merged_from: ['all-3', 'all-0'] };
  t.deepEqual(await importLine(store, JSON.stringify(other), 3, NOW), { line: 3, outcome: 'refused', reason: 'the sub all-2 or one of merged_from is taken (an account\'s, or an erased one\'s)' });
  t.is(await store.findById('all-3' as AccountId), undefined, 'nothing of the refused line was written');
});

test('a last login to come imports as now: it cannot hold the account back from retention', async (t) => {
  const store = new MemoryAccountStore();
  const line = { sub: 'later-1', unionid: 'uLater', last_login: { at: '2099-01-01T00:00:00Z', appid: 'wecom:ww2a1d025a1c5f8746' } };
  t.like(await importLine(store, JSON.stringify(line), 1, NOW), { outcome: 'created' });
  t.deepEqual((await store.findById('later-1' as AccountId))?.lastLogin, { at: NOW, appid: 'wecom:ww2a1d025a1c5f8746' as never });
});

test('the extra fields of a dumped line are checked as the rest: each bad one refused with its first problem', async (t) => {
  const store = new MemoryAccountStore();
  const contact = { value: '+8613800138000', verified: true, source: `wechat-phone:${APPID}`, at: '2026-06-01T00:00:00Z' };
  const refusals = [
    [{ contacts: { phone: { ...contact, value: '+86138' } } }, /^contacts\.phone\.value: expected a phone number that can exist/],
    [{ contacts: { phone: { ...contact, value: '13800138000' } } }, /^contacts\.phone\.value: expected a phone number/],
    [{ contacts: { phone: { ...contact, source: 'sms' } } }, /^contacts\.phone\.source: expected wecom:<corpid> or wechat-phone:<appid>/],
    [{ contacts: { phone: { ...contact, source: 'wechat-phone:wx1' } } }, /^contacts\.phone\.source:/],
    [{ contacts: { email: { ...contact, value: 'not an address' } } }, /^contacts\.email\.value: expected an email address/],
    [{ contacts: { phone: { ...contact, verified: 'yes' } } }, /^contacts\.phone\.verified:/],
    [{ contacts: { fax: contact } }, /Unrecognized key/],
    [{ last_login: { at: 'yesterday', appid: APPID } }, /^last_login\.at: expected an RFC 3339 date-time/],
    [{ last_login: { at: '2026-01-01T00:00:00Z', appid: 'wecom:nope' } }, /^last_login\.appid: expected a WeChat AppID, or wecom:<corpid>/],
    [{ last_login: { at: '2026-01-01T00:00:00Z', appid: APPID, client: 'a\nb' } }, /^last_login\.client: expected a client_id/],
    [{ merged_from: ['ok-1', 'not ok'] }, /^merged_from\.1: expected letters/],
    [{ merged_from: ['bad-1', 'bad-1'] }, /merged_from: each sub once, and not the account's own/],
    [{ sub: 'bad-2', merged_from: ['bad-2'] }, /merged_from: each sub once, and not the account's own/],
    [{ unlinked_identities: [{ appid: APPID }] }, /^unlinked_identities\.0: expected appid and openid/],
    [{ identities: [{ appid: APPID, openid: 'oBoth' }], unlinked_identities: [{ appid: APPID, openid: 'oBoth' }] }, /unlinked_identities: an identity is either linked or unlinked/],
  ] as const;
  for (const [extra, reason] of refusals) {
    const text = JSON.stringify({ unionid: 'uBad', ...extra });
    const done = await importLine(store, text, 1, NOW);
    t.is(done.outcome, 'refused', text);
    t.regex((done as { reason: string }).reason, reason, text);
  }
  t.is(await store.findByUnionid('uBad' as never), undefined);
});

test('a dumped line carries the person\'s recent logins and operators\' accesses, and an import puts them back beside the account, none twice', async (t) => {
  const DAY = 86_400_000;
  const from = partsOf(new MemoryAccountStore());
  const account: Account = { id: 'keep-1' as AccountId, createdAt: NOW - 400 * DAY, updatedAt: NOW, unionid: 'uKeep' as Unionid, identities: [], profile: {} };
  await from.accounts.create(account);
  const logins = [
    { at: NOW - DAY, appid: APPID as never, client: 'shop', device: 'Chrome · Android', disowned: NOW - DAY / 2 },
    { at: NOW - 2 * DAY, appid: APPID as never, client: 'tv', device: 'WeChat · iOS', deviceFlow: true as const },
    { at: NOW - 3 * DAY, appid: 'wecom:ww2a1d025a1c5f8746' as never },
  ];
  for (const login of logins) await from.logins.record('keep-1', login);
  await from.accesses.record('keep-1', { at: NOW - 5 * DAY, action: 'export', by: 'console', who: 'op-7' });
  const [line] = await all(dumpLines(from, (async function* () { yield account; })()));
  t.like(line, {
    recent_logins: [
      { at: new Date(NOW - DAY).toISOString(), appid: APPID, client: 'shop', device: 'Chrome · Android', disowned_at: new Date(NOW - DAY / 2).toISOString() },
      { device_flow: true, device: 'WeChat · iOS' },
      { appid: 'wecom:ww2a1d025a1c5f8746' },
    ],
    operator_accesses: [{ at: new Date(NOW - 5 * DAY).toISOString(), action: 'export', by: 'console', who: 'op-7' }],
  });

  const expiries: number[] = [];
  const storage = new MemoryStorage();
  const adapter = storage.adapter(LOGIN_HISTORY_MODEL);
  const watched = new Proxy(adapter, {
    get: (target, name: keyof typeof adapter) => (name === 'insert'
      ? (id: string, payload: never, expiresIn: number) => { expiries.push(expiresIn); return target.insert(id, payload, expiresIn); }
      : (target[name] as (...args: unknown[]) => unknown).bind(target)),
  });
  const to = { ...partsOf(new MemoryAccountStore(), storage), logins: new LoginHistory(watched) };
  t.like(await importInto(to, JSON.stringify(line), 1, NOW), { outcome: 'created', sub: 'keep-1' });
  t.deepEqual(await to.logins.of('keep-1'), logins);
  t.deepEqual(await to.accesses.of('keep-1'), [{ at: NOW - 5 * DAY, action: 'export', by: 'console', who: 'op-7' }]);
  t.deepEqual(expiries, [180 * 86_400 - 86_400], 'kept 180 days after the latest login, as if it had been recorded here');
  t.like(await importInto(to, JSON.stringify(line), 2, NOW), { outcome: 'present' });
  t.is((await to.logins.of('keep-1')).length, 3, 'a repeated run doubles none');
  t.is((await to.accesses.of('keep-1')).length, 1);
});

test('entries past their keeping are not brought, and a time to come is taken as now', async (t) => {
  const DAY = 86_400_000;
  const to = partsOf(new MemoryAccountStore());
  const line = {
    sub: 'keep-2', unionid: 'uKeep2',
    recent_logins: [{ at: new Date(NOW - 181 * DAY).toISOString(), appid: APPID }, { at: '2099-01-01T00:00:00Z', appid: APPID }],
    operator_accesses: [{ at: '2099-01-01T00:00:00Z', action: 'show', by: 'cli' }],
  };
  t.like(await importInto(to, JSON.stringify(line), 1, NOW), { outcome: 'created' });
  t.deepEqual(await to.logins.of('keep-2'), [{ at: NOW, appid: APPID as never }]);
  t.deepEqual(await to.accesses.of('keep-2'), [{ at: NOW, action: 'show', by: 'cli' }]);
});

test('what a line carries beside the account is checked too: a bad entry refuses the line before anything is written', async (t) => {
  const to = partsOf(new MemoryAccountStore());
  const login = { at: '2026-12-01T00:00:00Z', appid: APPID };
  const access = { at: '2026-12-01T00:00:00Z', action: 'show', by: 'admin' };
  const refusals = [
    [{ recent_logins: [{ ...login, device: 'Mozilla/5.0 (Linux; Android 14)' }] }, /^recent_logins\.0\.device: expected a browser's name/],
    [{ recent_logins: [{ ...login, device: 'Chrome · Android · x' }] }, /^recent_logins\.0\.device:/],
    [{ recent_logins: [{ ...login, appid: 'wx1' }] }, /^recent_logins\.0\.appid: expected a WeChat AppID/],
    [{ recent_logins: [{ ...login, device_flow: false }] }, /^recent_logins\.0\.device_flow:/],
    [{ recent_logins: [{ ...login, ip: '10.0.0.1' }] }, /Unrecognized key/],
    [{ recent_logins: Array.from({ length: 21 }, () => login) }, /^recent_logins:/],
    [{ operator_accesses: [{ ...access, by: 'hacker' }] }, /^operator_accesses\.0\.by:/],
    [{ operator_accesses: [{ ...access, action: 'DROP TABLE' }] }, /^operator_accesses\.0\.action: expected an audited action/],
    [{ operator_accesses: [{ ...access, at: 'now' }] }, /^operator_accesses\.0\.at: expected an RFC 3339 date-time/],
  ] as const;
  for (const [extra, reason] of refusals) {
    const text = JSON.stringify({ sub: 'bad-entries', unionid: 'uEntries', ...extra });
    const done = await importInto(to, text, 1, NOW);
    t.is(done.outcome, 'refused', text);
    t.regex((done as { reason: string }).reason, reason, text);
  }
  t.is(await to.accounts.findById('bad-entries' as AccountId), undefined);
  t.like(await importInto(to, '[1]', 2, NOW), { outcome: 'refused' });
  t.like(await importInto(to, 'null', 3, NOW), { outcome: 'refused' });
});

test('an imported phone number finds its account again (find --phone); of two accounts with one number, the one that got it later, in any order and at once', async (t) => {
  const phone = (at: string) => ({ phone: { value: '+8613900139000', verified: true, source: `wechat-phone:${APPID}`, at } });
  const older = JSON.stringify({ sub: 'ph-old', unionid: 'uPhOld', contacts: phone('2024-01-01T00:00:00Z') });
  const newer = JSON.stringify({ sub: 'ph-new', unionid: 'uPhNew', contacts: phone('2026-01-01T00:00:00Z') });
  for (const order of [[older, newer], [newer, older]]) {
    const to = partsOf(new MemoryAccountStore());
    for (const [index, text] of order.entries()) t.like(await importInto(to, text, index + 1, NOW), { outcome: 'created' });
    t.is(await to.holders.holderOf('+8613900139000'), 'ph-new' as AccountId, order.map((line) => (JSON.parse(line) as { sub: string }).sub).join(' then '));
    // The same two lines in one batch, imported at once, as the CLI imports 16.
    const atOnce = partsOf(new MemoryAccountStore());
    await Promise.all(order.map((text, index) => importInto(atOnce, text, index + 1, NOW)));
    t.is(await atOnce.holders.holderOf('+8613900139000'), 'ph-new' as AccountId, `at once: ${order.map((line) => (JSON.parse(line) as { sub: string }).sub).join(', ')}`);
  }
});

test('an erased sub\'s line keeps it from being given again where the file is imported; an account\'s sub is never erased by one', async (t) => {
  const store = new MemoryAccountStore();
  t.deepEqual(await importLine(store, '{"erased": "gone-1"}', 1, NOW), { line: 1, outcome: 'created', sub: 'gone-1' });
  t.deepEqual(await importLine(store, '{"erased": "gone-1"}', 2, NOW), { line: 2, outcome: 'present', sub: 'gone-1' }, 'a run repeats');
  t.like(await importLine(store, JSON.stringify({ sub: 'gone-1', unionid: 'uGone' }), 3, NOW), { outcome: 'refused', reason: 'the sub gone-1 is taken (an account\'s, or an erased one\'s)' });
  t.like(await importLine(store, JSON.stringify({ sub: 'here-1', unionid: 'uHere' }), 4, NOW), { outcome: 'created' });
  t.deepEqual(await importLine(store, '{"erased": "here-1"}', 5, NOW), { line: 5, outcome: 'refused', reason: 'the erased sub here-1 is an account\'s here: it is not erased by an import' });
  t.is((await store.findById('here-1' as AccountId))?.id, 'here-1' as AccountId);
  t.like(await importLine(store, '{"erased": "a b"}', 6, NOW), { outcome: 'refused', reason: 'erased: expected letters, digits, - and _ (at most 128)' });
  t.like(await importLine(store, '{"erased": "gone-2", "unionid": "u"}', 7, NOW), { outcome: 'refused', reason: 'Unrecognized key: "unionid"' });
  const listed: string[] = [];
  for await (const id of store.erased()) listed.push(id);
  t.deepEqual(listed, ['gone-1']);
});

test('a dump reads the lists of many accounts at once, and writes the lines in the accounts\' order', async (t) => {
  const accounts = new MemoryAccountStore();
  const storage = new MemoryStorage();
  const adapter = storage.adapter(LOGIN_HISTORY_MODEL);
  let reading = 0;
  let most = 0;
  const watched = new Proxy(adapter, {
    get: (target, name: keyof typeof adapter) => (name === 'find'
      ? async (id: string) => {
        most = Math.max(most, reading += 1);
        await new Promise((resolve) => setImmediate(resolve));
        reading -= 1;
        return target.find(id);
      }
      : (target[name] as (...args: unknown[]) => unknown).bind(target)),
  });
  const parts = { ...partsOf(accounts, storage), logins: new LoginHistory(watched) };
  const made: Account[] = Array.from({ length: 100 }, (_, index) => ({
    id: `many-${index}` as AccountId, createdAt: NOW, updatedAt: NOW, unionid: `uMany${index}` as Unionid, identities: [], profile: {},
  }));
  async function* each() { for (const account of made) yield account; }
  const lines = await all(dumpLines(parts, each()));
  t.deepEqual(lines.map((line) => line.sub), made.map((account) => account.id));
  t.true(most > 1, `at most ${most} read at once`);
});
