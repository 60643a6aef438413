// Who a WeChat login is: find by unionid first, then (appid, openid); attach a new unionid;
// merge two accounts of one person into the older; never link on anything else.

import test from 'ava';
import type { AccountId, LoginFacts } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { AccountConflictError, IdentityConflictError } from '../../src/accounts/store.ts';
import { linkingRefusal } from '../../src/login/linking-refusals.ts';
import type { AppId, Openid, Unionid } from '../../src/wechat/types.ts';

const MP = 'wxmp' as AppId;
const OPEN = 'wxopen' as AppId;
const facts = (appid: AppId, openid: string, unionid?: string, nickname?: string): LoginFacts => ({
  identity: { appid, openid: openid as Openid },
  unionid: unionid as Unionid | undefined,
  profile: nickname === undefined ? undefined : { nickname },
});

function setup() {
  let clock = 1_000;
  const store = new MemoryAccountStore();
  return { store, linker: new AccountLinker(store, () => (clock += 1)) };
}

test('a first login makes an account whose id (the sub) is not the openid', async (t) => {
  const { linker } = setup();
  const account = await linker.resolve(facts(MP, 'o-mp-1', 'u-1', 'Ann'));
  t.not(account.id, 'o-mp-1' as AccountId);
  t.regex(account.id, /^[0-9a-f-]{36}$/);
  t.deepEqual(account.identities, [{ appid: MP, openid: 'o-mp-1' }]);
  t.is(account.profile.nickname, 'Ann');
});

test('the unionid finds the person across apps and the new (appid, openid) is kept', async (t) => {
  const { linker, store } = setup();
  const mp = await linker.resolve(facts(MP, 'o-mp-1', 'u-1'));
  const open = await linker.resolve(facts(OPEN, 'o-open-1', 'u-1'));
  t.is(open.id, mp.id);
  t.deepEqual((await store.findById(mp.id))?.identities.map((i) => i.appid), [MP, OPEN]);
});

test('a unionid seen for the first time is attached to the openid-only account', async (t) => {
  const { linker } = setup();
  const base = await linker.resolve(facts(MP, 'o-mp-1'));
  t.is(base.unionid, undefined);
  const later = await linker.resolve(facts(MP, 'o-mp-1', 'u-1', 'Ann'));
  t.is(later.id, base.id);
  t.is(later.unionid, 'u-1' as Unionid);
  t.is((await linker.resolve(facts(OPEN, 'o-open-1', 'u-1'))).id, base.id);
});

test('two accounts that turn out to share a unionid merge into the older; the younger id keeps resolving', async (t) => {
  const { linker, store } = setup();
  const older = await linker.resolve(facts(MP, 'o-mp-1', undefined, 'Old name'));
  const younger = await linker.resolve(facts(OPEN, 'o-open-1', 'u-1', 'New name'));
  t.not(younger.id, older.id);
  const merged = await linker.resolve(facts(MP, 'o-mp-1', 'u-1'));
  t.is(merged.id, older.id);
  t.is(merged.unionid, 'u-1' as Unionid);
  t.deepEqual(merged.identities.map((i) => i.openid).sort(), ['o-mp-1', 'o-open-1']);
  t.is(merged.profile.nickname, 'New name', 'the most recent profile is kept');
  t.is((await store.findById(younger.id))?.id, older.id);
  t.is((await store.findByIdentity({ appid: OPEN, openid: 'o-open-1' as Openid }))?.id, older.id);
  t.deepEqual(merged.mergedFrom, [younger.id], 'the account knows the subs merged into it');
});

test('a login records itself: when, through which app, for which client; facts without a client are no login', async (t) => {
  const { linker, store } = setup();
  const first = await linker.resolve({ ...facts(MP, 'o-mp-1', 'u-1'), client: 'shop' });
  t.like(first.lastLogin, { appid: MP, client: 'shop' });
  const second = await linker.resolve({ ...facts(OPEN, 'o-open-1', 'u-1'), client: 'blog' });
  t.like(second.lastLogin, { appid: OPEN, client: 'blog' });
  t.true((second.lastLogin?.at ?? 0) > (first.lastLogin?.at ?? 0));
  t.like((await store.findById(first.id))?.lastLogin, { client: 'blog' }, 'kept in the store');
  const looked = await linker.resolve(facts(OPEN, 'o-open-1', 'u-1'));
  t.like(looked.lastLogin, { client: 'blog' }, 'unchanged by facts that are no login');
});

test('never linked by nickname: two openids with the same nickname are two people', async (t) => {
  const { linker } = setup();
  const a = await linker.resolve(facts(MP, 'o-1', undefined, '微信用户'));
  const b = await linker.resolve(facts(MP, 'o-2', undefined, '微信用户'));
  t.not(a.id, b.id);
});

test('an account keeps its unionid when a login claims another one for the same openid', async (t) => {
  const { linker } = setup();
  const first = await linker.resolve(facts(MP, 'o-1', 'u-1'));
  const second = await linker.resolve(facts(MP, 'o-1', 'u-2'));
  t.is(second.id, first.id);
  t.is(second.unionid, 'u-1' as Unionid);
});

test('the latest profile is kept, and a login without a profile does not erase it', async (t) => {
  const { linker } = setup();
  await linker.resolve(facts(MP, 'o-1', 'u-1', 'First'));
  t.is((await linker.resolve(facts(MP, 'o-1', 'u-1', 'Second'))).profile.nickname, 'Second');
  t.is((await linker.resolve(facts(MP, 'o-1'))).profile.nickname, 'Second');
});

test('twenty first logins of one person at the same moment make one account', async (t) => {
  const { linker } = setup();
  const accounts = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    linker.resolve(i % 2 ? facts(MP, 'o-mp-1', 'u-1') : facts(OPEN, 'o-open-1', 'u-1'))));
  t.is(new Set(accounts.map((account) => account.id)).size, 1);
});

test('one odd WeChat answer never merges two people: accounts with different unionids stay apart, the login is refused, nothing changes', async (t) => {
  const { linker, store } = setup();
  const ann = await linker.resolve(facts(MP, 'o-ann', 'u-ann', 'Ann'));
  const bob = await linker.resolve(facts(OPEN, 'o-bob', 'u-bob', 'Bob'));
  const odd = await t.throwsAsync(linker.resolve(facts(MP, 'o-ann', 'u-bob')), { instanceOf: IdentityConflictError });
  t.is(odd?.account, ann.id);
  t.deepEqual(await store.findById(ann.id), ann, 'Ann unchanged');
  t.deepEqual(await store.findById(bob.id), bob, 'Bob unchanged');
  const bobAgain = await linker.resolve(facts(MP, 'o-bob-mp', 'u-bob'));
  t.is(bobAgain.id, bob.id, 'a new openid with Bob\'s unionid is still Bob');
});

test('the memory store follows merged ids in its unionid and identity lookups, as the others do', async (t) => {
  const { linker, store } = setup();
  const older = await linker.resolve(facts(MP, 'o-1'));
  const younger = await linker.resolve(facts(OPEN, 'o-2', 'u-1'));
  await linker.resolve(facts(MP, 'o-1', 'u-1'));
  t.is((await store.findByUnionid('u-1' as Unionid))?.id, older.id);
  t.is((await store.findByIdentity({ appid: OPEN, openid: 'o-2' as Openid }))?.id, older.id);
  t.not(younger.id, older.id);
});

test('a conflict that outlasts every retry reaches the caller as AccountConflictError, after six reads, never as anything else', async (t) => {
  const { store, linker } = setup();
  await linker.resolve(facts(MP, 'o-busy', undefined, 'Ann'));
  let reads = 0;
  const findByIdentity = store.findByIdentity.bind(store);
  store.findByIdentity = (identity) => { reads += 1; return findByIdentity(identity); };
  // Somebody else changes the account between each read and each write.
  store.update = async () => { throw new AccountConflictError(); };
  await t.throwsAsync(linker.resolve(facts(MP, 'o-busy', undefined, 'Ann renamed')), { instanceOf: AccountConflictError });
  t.is(reads, 6);
});

test('the store\'s refusals come to pages and metrics, never a 500: a merge of two people is refused (409), a busy account is "try again" (503)', (t) => {
  t.like(linkingRefusal(new IdentityConflictError('a' as AccountId)), { metric: 'identity_conflict', page: { kind: 'conflict', status: 409 } });
  t.like(linkingRefusal(new AccountConflictError(), '/again'), { metric: 'account_busy', page: { kind: 'storage', status: 503, retryHref: '/again' } });
  t.is(linkingRefusal(new Error('anything else')), undefined);
});
