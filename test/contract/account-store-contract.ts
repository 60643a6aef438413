// The contract every account store passes (memory, Redis, Redis Cluster, MongoDB):
// uniqueness is the store's, not a check-then-write in the broker.

import type { TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { weComIdentity, type Account, type AccountId, type Identity } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { AccountConflictError, AccountSuspendedError, UnlinkRefusedError, type AccountStore } from '../../src/accounts/store.ts';
import type { AppId, Openid, Unionid } from '../../src/wechat/types.ts';

const identity = (openid = randomUUID()): Identity => ({ appid: 'wxmp' as AppId, openid: openid as Openid });
/** An account as the linker builds one: absent values are keys holding undefined. */
const account = (over: Partial<Account> = {}): Account => ({
  id: randomUUID() as AccountId, createdAt: Date.now(), updatedAt: Date.now(), unionid: undefined,
  identities: [identity()], profile: { nickname: undefined, picture: undefined }, ...over,
});

/** The account as a relying party would see it: absent values are absent (JSON drops undefined). */
const plain = (value: object | undefined): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** No stored value is null anywhere in the account. */
const nullFree = (value: unknown): boolean => value !== null
  && (typeof value !== 'object' || Object.values(value).every(nullFree));

/** The ids the store lists as suspended. */
async function listedSuspended(store: AccountStore): Promise<AccountId[]> {
  const ids: AccountId[] = [];
  for await (const account of store.suspended()) ids.push(account.id);
  return ids;
}

export function accountStoreContract(test: TestFn, backend: string, store: () => AccountStore): void {
  test(`${backend} accounts: found by id, unionid and (appid, openid)`, async (t) => {
    const created = account({ unionid: randomUUID() as Unionid, profile: { nickname: '小爱 🌸 <b>' } });
    await store().create(created);
    t.deepEqual(plain(await store().findById(created.id)), plain(created));
    t.deepEqual(plain(await store().findByUnionid(created.unionid!)), plain(created));
    t.deepEqual(plain(await store().findByIdentity(created.identities[0]!)), plain(created));
    t.is(await store().findByIdentity(identity()), undefined);
  });

  test(`${backend} accounts: a taken unionid or identity is refused, and nothing of the refused account is written`, async (t) => {
    const first = account({ unionid: randomUUID() as Unionid });
    await store().create(first);
    const sameUnionid = account({ unionid: first.unionid });
    await t.throwsAsync(store().create(sameUnionid), { instanceOf: AccountConflictError });
    t.is(await store().findById(sameUnionid.id), undefined);
    t.is(await store().findByIdentity(sameUnionid.identities[0]!), undefined, 'its identity was not claimed');
    const sameIdentity = account({ identities: [identity(), first.identities[0]!] });
    await t.throwsAsync(store().create(sameIdentity), { instanceOf: AccountConflictError });
    t.is(await store().findByIdentity(sameIdentity.identities[0]!), undefined);
  });

  test(`${backend} accounts: update claims a new unionid and identity, or changes nothing`, async (t) => {
    const created = account();
    await store().create(created);
    const completed = { ...created, unionid: randomUUID() as Unionid, identities: [...created.identities, identity()] };
    await store().update(completed, created.updatedAt);
    t.deepEqual(plain(await store().findByUnionid(completed.unionid)), plain(completed));
    t.deepEqual(plain(await store().findByIdentity(completed.identities[1]!)), plain(completed));
    const other = account();
    await store().create(other);
    await t.throwsAsync(store().update({ ...other, unionid: completed.unionid }, other.updatedAt), { instanceOf: AccountConflictError });
    t.deepEqual(plain(await store().findById(other.id)), plain(other));
  });

  test(`${backend} accounts: merge moves one account into another and the old id keeps resolving`, async (t) => {
    const older = account();
    const younger = account({ unionid: randomUUID() as Unionid });
    await store().create(older);
    await store().create(younger);
    const merged = { ...older, unionid: younger.unionid, identities: [...older.identities, ...younger.identities] };
    await store().merge(merged, older.updatedAt, younger);
    t.deepEqual(plain(await store().findById(younger.id)), plain(merged));
    t.deepEqual(plain(await store().findByIdentity(younger.identities[0]!)), plain(merged));
    t.deepEqual(plain(await store().findByUnionid(younger.unionid!)), plain(merged));
    const third = account();
    await store().create(third);
    const again = { ...third, identities: [...third.identities, ...merged.identities], unionid: merged.unionid };
    await store().merge(again, third.updatedAt, merged);
    t.is((await store().findById(younger.id))?.id, third.id, 'merges chain');
  });

  test(`${backend} accounts: an account made with merged ids (an import of a dumped one) answers to them; a merged id already taken refuses it, and nothing is written`, async (t) => {
    const [gone, alsoGone] = [randomUUID() as AccountId, randomUUID() as AccountId];
    const imported = account({ unionid: randomUUID() as Unionid, mergedFrom: [gone, alsoGone] });
    await store().create(imported);
    for (const id of [gone, alsoGone]) t.deepEqual(plain(await store().findById(id)), plain(imported), id);
    await t.throwsAsync(store().create(account({ id: gone })), { instanceOf: AccountConflictError }, 'a merged id is never given again');
    const existing = account();
    await store().create(existing);
    const erased = account();
    await store().create(erased);
    await store().erase(erased, erased.updatedAt);
    for (const taken of [existing.id, gone, erased.id]) {
      const refused = account({ unionid: randomUUID() as Unionid, mergedFrom: [randomUUID() as AccountId, taken] });
      await t.throwsAsync(store().create(refused), { instanceOf: AccountConflictError }, taken);
      t.is(await store().findById(refused.id), undefined);
      t.is(await store().findById(refused.mergedFrom![0]!), undefined, 'the free merged id was not claimed');
      t.is(await store().findByUnionid(refused.unionid!), undefined);
    }
    t.is((await store().findById(gone))?.id, imported.id);
    t.is((await store().findById(existing.id))?.id, existing.id);
    const erasedWith = await store().findById(imported.id);
    await store().erase(erasedWith!, erasedWith!.updatedAt);
    for (const id of [imported.id, gone, alsoGone]) await t.throwsAsync(store().create(account({ id })), { instanceOf: AccountConflictError }, `${id} stays taken after the erasure`);
  });

  test(`${backend} accounts: a write from a stale read changes nothing (the linker reads again)`, async (t) => {
    const created = account();
    await store().create(created);
    const first = { ...created, identities: [...created.identities, identity()], updatedAt: created.updatedAt + 1 };
    await store().update(first, created.updatedAt);
    const stale = { ...created, identities: [...created.identities, identity()], updatedAt: created.updatedAt + 1 };
    await t.throwsAsync(store().update(stale, created.updatedAt), { instanceOf: AccountConflictError });
    t.deepEqual(plain(await store().findById(created.id)), plain(first), 'the identity the first write added is still there');
    const younger = account({ unionid: randomUUID() as Unionid });
    await store().create(younger);
    const merged = { ...first, unionid: younger.unionid, identities: [...first.identities, ...younger.identities], updatedAt: first.updatedAt + 1 };
    await t.throwsAsync(store().merge(merged, created.updatedAt, younger), { instanceOf: AccountConflictError }, 'into changed');
    await t.throwsAsync(store().merge(merged, first.updatedAt, { ...younger, updatedAt: younger.updatedAt - 1 }), { instanceOf: AccountConflictError }, 'from changed');
    t.deepEqual(plain(await store().findById(younger.id)), plain(younger), 'nothing was merged');
  });

  test(`${backend} accounts: people without a unionid or a profile, as the linker makes them, any number of them`, async (t) => {
    const linker = new AccountLinker(store());
    const people = await Promise.all(Array.from({ length: 5 }, () => linker.resolve({ identity: identity() })));
    t.is(new Set(people.map((person) => person.id)).size, 5, 'each is an account of their own');
    for (const person of people) {
      const found = await store().findById(person.id);
      t.is(found?.unionid, undefined);
      t.true(nullFree(found), 'no null stored for an absent value');
    }
    const withProfile = await linker.resolve({ identity: identity(), profile: { nickname: '陈', picture: undefined } });
    const found = await store().findById(withProfile.id);
    t.is(found?.profile.nickname, '陈');
    t.is(found?.profile.picture, undefined);
    t.true(nullFree(found));
  });

  test(`${backend} accounts: 20 simultaneous creates for one person leave one account`, async (t) => {
    const person = identity();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store().create(account({ identities: [person] }))));
    t.is(results.filter((result) => result.status === 'fulfilled').length, 1);
    t.true(results.every((result) => result.status === 'fulfilled' || result.reason instanceof AccountConflictError));
  });

  test(`${backend} accounts: 20 simultaneous first logins of one person through the linker make one account`, async (t) => {
    const linker = new AccountLinker(store());
    const unionid = randomUUID() as Unionid;
    const mp = identity();
    const open: Identity = { appid: 'wxopen' as AppId, openid: randomUUID() as Openid };
    const accounts = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      linker.resolve({ identity: i % 2 ? mp : open, unionid })));
    t.is(new Set(accounts.map((resolved) => resolved.id)).size, 1);
    const stored = await store().findByUnionid(unionid);
    t.deepEqual(stored?.identities.map((known) => known.openid).sort(), [mp.openid, open.openid].sort());
  });

  test(`${backend} accounts: erasure leaves no index naming the account or an id merged into it; its ids are never given again`, async (t) => {
    // A clock that moves at each reading: the first account is the older one even when a
    // fast machine makes both within one millisecond (merges keep the older account).
    let clock = Date.now();
    const linker = new AccountLinker(store(), () => clock++);
    const unionid = randomUUID() as Unionid;
    const mp = identity();
    const open: Identity = { appid: 'wxopen' as AppId, openid: randomUUID() as Openid };
    const older = await linker.resolve({ identity: mp });
    const younger = await linker.resolve({ identity: open, unionid });
    const merged = await linker.resolve({ identity: mp, unionid });
    t.is(merged.id, older.id);
    t.deepEqual(merged.mergedFrom, [younger.id]);
    const stale = await store().findById(older.id);
    t.is((await linker.erase(younger.id))?.id, older.id, 'a merged-away sub erases the account it joined');
    for (const id of [older.id, younger.id]) t.is(await store().findById(id), undefined, id);
    t.is(await store().findByUnionid(unionid), undefined);
    t.is(await store().findByIdentity(mp), undefined);
    t.is(await store().findByIdentity(open), undefined);
    for (const id of [older.id, younger.id]) await t.throwsAsync(store().create(account({ id })), { instanceOf: AccountConflictError }, 'the sub stays taken');
    await t.throwsAsync(store().erase(stale!, stale!.updatedAt), { instanceOf: AccountConflictError }, 'nothing left to erase');
    const again = await linker.resolve({ identity: mp, unionid });
    t.false([older.id, younger.id].includes(again.id), 'a later login is a new account');
    t.deepEqual(plain(await store().findByIdentity(open)), undefined, 'the other identity is not linked until it logs in');
    t.is(await linker.erase(randomUUID() as AccountId), undefined);
  });

  test(`${backend} accounts: erased ids are listed; one brought from elsewhere is kept from being given, never an account's or a merged one`, async (t) => {
    const erasedIds = async () => { const ids: AccountId[] = []; for await (const id of store().erased()) ids.push(id); return ids; };
    const gone = account();
    await store().create(gone);
    await store().erase(gone, gone.updatedAt);
    const living = account();
    await store().create(living);
    const mergedAway = randomUUID() as AccountId;
    await store().create(account({ mergedFrom: [mergedAway] }));
    const listed = await erasedIds();
    t.true(listed.includes(gone.id));
    t.false(listed.includes(living.id) || listed.includes(mergedAway));
    const elsewhere = randomUUID() as AccountId;
    t.is(await store().reserve(elsewhere), 'reserved');
    t.is(await store().reserve(elsewhere), 'present', 'again: nothing new');
    t.is(await store().reserve(gone.id), 'present');
    t.is(await store().reserve(living.id), 'taken');
    t.is(await store().reserve(mergedAway), 'taken');
    t.is((await store().findById(living.id))?.id, living.id, 'the account is as it was');
    t.truthy(await store().findById(mergedAway), 'the merged id still resolves');
    await t.throwsAsync(store().create(account({ id: elsewhere })), { instanceOf: AccountConflictError }, 'a reserved id is never given');
    t.is(await store().findById(elsewhere), undefined);
    t.true((await erasedIds()).includes(elsewhere));
  });

  test(`${backend} accounts: an erasure from a stale read changes nothing`, async (t) => {
    const created = account({ unionid: randomUUID() as Unionid });
    await store().create(created);
    const later = { ...created, identities: [...created.identities, identity()], updatedAt: created.updatedAt + 1 };
    await store().update(later, created.updatedAt);
    await t.throwsAsync(store().erase(created, created.updatedAt), { instanceOf: AccountConflictError });
    t.deepEqual(plain(await store().findByIdentity(later.identities[1]!)), plain(later));
  });

  test(`${backend} accounts: an unlinked identity logs in as a new account; the unionid stays, and never links it back`, async (t) => {
    const linker = new AccountLinker(store());
    const unionid = randomUUID() as Unionid;
    const mp = identity();
    const open: Identity = { appid: 'wxopen' as AppId, openid: randomUUID() as Openid };
    const person = await linker.resolve({ identity: mp, unionid, client: 'rp' });
    await linker.resolve({ identity: open, unionid, client: 'rp' });
    const unlinked = await linker.unlink(person.id, open);
    t.deepEqual(unlinked?.identities, [mp]);
    t.is(await store().findByIdentity(open), undefined);
    t.is((await store().findByUnionid(unionid))?.id, person.id);
    const alone = await linker.resolve({ identity: open, unionid, client: 'rp' });
    t.not(alone.id, person.id);
    t.is(alone.unionid, undefined, 'the unionid stays with the account it was on');
    t.is((await linker.resolve({ identity: open, unionid, client: 'rp' })).id, alone.id, 'and the next login is that account again');
    t.deepEqual((await store().findById(person.id))?.identities, [mp]);
    await t.throwsAsync(linker.unlink(person.id, open), { instanceOf: UnlinkRefusedError, message: /does not hold/ });
    await t.throwsAsync(linker.unlink(person.id, mp), { instanceOf: UnlinkRefusedError, message: /only identity/ });
    t.is(await linker.unlink(randomUUID() as AccountId, mp), undefined);
  });

  test(`${backend} accounts: a suspension is kept with the account, survives its logins and a merge into an older account, and is lifted by a reinstatement`, async (t) => {
    let clock = Date.now();
    const linker = new AccountLinker(store(), () => clock++);
    const unionid = randomUUID() as Unionid;
    const older = await linker.resolve({ identity: identity(), client: 'rp' });
    const person = await linker.resolve({ identity: identity(), unionid, client: 'rp' });
    const suspended = (await linker.suspend(person.id, { by: 'admin:ops', reason: 'chargeback fraud' }))?.account;
    t.like(suspended?.suspended, { by: 'admin:ops', reason: 'chargeback fraud' });
    const again = await linker.suspend(person.id, { by: 'console:someone', reason: 'chargeback fraud, confirmed' });
    t.false(again?.changed, 'suspended already: no new suspension to tell of');
    t.like(again?.account.suspended, { by: 'console:someone', reason: 'chargeback fraud, confirmed' }, 'a second suspension replaces the first');
    t.deepEqual(plain((await store().findById(person.id))?.suspended), plain(again?.account.suspended));
    t.true((await listedSuspended(store())).includes(person.id), 'listed as suspended');
    t.false((await listedSuspended(store())).includes(older.id), 'and only the suspended');
    await t.throwsAsync(linker.resolve({ identity: person.identities[0]!, unionid, profile: { nickname: 'Sue' }, client: 'rp' }), { instanceOf: AccountSuspendedError });
    t.like(await store().findById(person.id), { profile: { nickname: 'Sue' }, suspended: { reason: 'chargeback fraud, confirmed' } }, 'a refused login is recorded, and keeps it');
    // The older account without a unionid turns out to be the same person: the survivor is suspended, and the login refused.
    await t.throwsAsync(linker.resolve({ identity: older.identities[0]!, unionid, client: 'rp' }), { instanceOf: AccountSuspendedError });
    t.is((await store().findById(person.id))?.id, older.id, 'merged into the older account');
    t.like((await store().findById(older.id))?.suspended, { by: 'console:someone', reason: 'chargeback fraud, confirmed' }, 'a merge is no way out');
    const reinstated = await linker.reinstate(person.id);
    t.like(reinstated, { changed: true, account: { suspended: undefined } });
    t.false((await linker.reinstate(person.id))?.changed, 'nothing to lift');
    t.is((await store().findById(older.id))?.suspended, undefined);
    t.false((await listedSuspended(store())).includes(older.id), 'no longer listed');
    t.true(nullFree(await store().findById(older.id)));
    t.is(await linker.suspend(randomUUID() as AccountId, { by: 'cli', reason: 'x' }), undefined, 'nobody to suspend');
  });

  test(`${backend} accounts: a suspension with an end holds until then, is lifted at the first login after it (once, the listener told), and gives way to a new one; a merge keeps the later-ending`, async (t) => {
    let clock = Date.now();
    const linker = new AccountLinker(store(), () => clock);
    const ended: Array<{ sub: AccountId; until: number | undefined }> = [];
    linker.onSuspensionEnded(async (account, suspension) => { ended.push({ sub: account.id, until: suspension.until }); });
    const person = await linker.resolve({ identity: identity(), client: 'rp' });
    const until = clock + 60_000;
    t.like((await linker.suspend(person.id, { by: 'cli', reason: 'cooling off', until }))?.account.suspended, { until });
    t.like(plain((await store().findById(person.id))?.suspended), { until }, 'kept with its end');
    clock = until - 1;
    await t.throwsAsync(linker.resolve({ identity: person.identities[0]! }), { instanceOf: AccountSuspendedError }, 'held up to its end');
    t.like(await linker.suspend(person.id, { by: 'cli', reason: 'cooling off, longer', until: until + 1 }), { changed: false, account: { suspended: { reason: 'cooling off, longer', until: until + 1 } } }, 'one that holds is replaced: a longer end');
    await linker.suspend(person.id, { by: 'cli', reason: 'cooling off', until });
    clock = until;
    const back = await linker.resolve({ identity: person.identities[0]!, profile: { nickname: 'Back' } });
    t.is(back.id, person.id);
    t.is(back.suspended, undefined, 'lifted at the login');
    t.like(await store().findById(person.id), { profile: { nickname: 'Back' }, suspended: undefined });
    t.true(nullFree(await store().findById(person.id)));
    await linker.resolve({ identity: person.identities[0]! });
    t.deepEqual(ended, [{ sub: person.id, until }], 'told once');

    // An ended suspension not yet lifted gives way to a new one.
    await linker.suspend(person.id, { by: 'cli', reason: 'first', until: clock + 10 });
    clock += 10;
    t.like(await linker.suspend(person.id, { by: 'cli', reason: 'second' }), { changed: true, account: { suspended: { reason: 'second', until: undefined } } });

    // Two accounts of one person merge: the suspension that ends later stays.
    const unionid = randomUUID() as Unionid;
    const older = await linker.resolve({ identity: identity() });
    clock += 1;
    const younger = await linker.resolve({ identity: identity(), unionid });
    await linker.suspend(older.id, { by: 'cli', reason: 'short', until: clock + 1_000 });
    await linker.suspend(younger.id, { by: 'cli', reason: 'long', until: clock + 5_000 });
    await t.throwsAsync(linker.resolve({ identity: older.identities[0]!, unionid }), { instanceOf: AccountSuspendedError });
    t.is((await store().findById(younger.id))?.id, older.id, 'merged into the older account');
    t.like((await store().findById(older.id))?.suspended, { reason: 'long', until: clock + 5_000 }, 'the later end');
  });

  test(`${backend} accounts: a renamed identity (a WeCom userid an admin changed) keeps its account, answers to the new id only; a new id already taken changes nothing`, async (t) => {
    const linker = new AccountLinker(store());
    const corpid = `ww${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const old = weComIdentity(corpid, { userid: 'zhangsan' });
    const renamedTo = weComIdentity(corpid, { userid: 'san.zhang' });
    const member = await linker.resolve({ identity: old, client: 'rp' });
    const renamed = await linker.rename(old, renamedTo);
    t.like(renamed, { id: member.id, identities: [renamedTo] });
    t.is(await store().findByIdentity(old), undefined, 'the old userid is free');
    t.is((await store().findByIdentity(renamedTo))?.id, member.id);
    t.is((await linker.resolve({ identity: renamedTo, client: 'rp' })).id, member.id, 'the next login under the new userid is the same account');
    t.is(await linker.rename(old, renamedTo), 'none', 'a repeated event finds nobody under the old id');
    const other = await linker.resolve({ identity: weComIdentity(corpid, { userid: 'lisi' }), client: 'rp' });
    t.is(await linker.rename(weComIdentity(corpid, { userid: 'lisi' }), renamedTo), 'taken');
    t.deepEqual((await store().findById(other.id))?.identities, [weComIdentity(corpid, { userid: 'lisi' })], 'nothing changed');
  });

  test(`${backend} accounts: contact details a login gives are kept with their source and time; the same again changes nothing; a changed one replaces it`, async (t) => {
    let clock = Date.now();
    const linker = new AccountLinker(store(), () => { clock += 1000; return clock; });
    const member = weComIdentity(`ww${randomUUID().replace(/-/g, '').slice(0, 16)}`, { userid: 'zhangsan' });
    const source = 'wecom:test';
    const first = await linker.resolve({ identity: member, client: 'rp', contacts: { email: { value: 'san@example.com', verified: false, source }, phone: { value: '+8613800138000', verified: false, source } } });
    const givenAt = clock;
    t.deepEqual(plain((await store().findById(first.id))?.contacts), {
      email: { value: 'san@example.com', verified: false, source, at: givenAt }, phone: { value: '+8613800138000', verified: false, source, at: givenAt },
    });
    const again = await linker.resolve({ identity: member, client: 'rp', contacts: { email: { value: 'san@example.com', verified: false, source } } });
    t.is((await store().findById(again.id))?.updatedAt, first.updatedAt, 'the same details again are no change');
    await linker.resolve({ identity: member, client: 'rp', contacts: { phone: { value: '+8613900139000', verified: false, source } } });
    t.like((await store().findById(first.id))?.contacts, {
      email: { value: 'san@example.com', at: givenAt }, phone: { value: '+8613900139000', at: clock },
    });
    const other = await linker.resolve({ identity: weComIdentity('wwother', { userid: randomUUID() }), client: 'rp', contacts: { phone: { value: '+8613900139000', verified: false, source } } });
    t.not(other.id, first.id, 'one number on two accounts: two accounts (a number is never a linking key)');
  });

  test(`${backend} accounts: idle accounts are those whose last login, or last change without one, is older than the cut-off`, async (t) => {
    const day = 86_400_000;
    const now = Date.now();
    const quiet = account({ createdAt: now - 400 * day, updatedAt: now - 400 * day });
    const loggedInLately = account({ createdAt: now - 400 * day, lastLogin: { at: now - day, appid: 'wxmp' as AppId, client: 'rp' } });
    const loggedInLongAgo = account({ createdAt: now - 500 * day, lastLogin: { at: now - 380 * day, appid: 'wxmp' as AppId } });
    const fresh = account();
    // Written before logins were recorded, changed lately: active, whatever its creation says.
    const changedLately = account({ createdAt: now - 400 * day, updatedAt: now - day });
    for (const created of [quiet, loggedInLately, loggedInLongAgo, fresh, changedLately]) await store().create(created);
    const idle: string[] = [];
    for await (const found of store().idleSince(now - 365 * day)) idle.push(found.id);
    t.true(idle.includes(quiet.id));
    t.true(idle.includes(loggedInLongAgo.id));
    t.false(idle.includes(loggedInLately.id));
    t.false(idle.includes(fresh.id));
    t.false(idle.includes(changedLately.id));
  });

  test(`${backend} accounts: 32 logins of one person at the same moment all succeed, one account, the newest last login kept`, async (t) => {
    let clock = Date.now();
    const linker = new AccountLinker(store(), () => { clock += 1; return clock; });
    const unionid = randomUUID() as Unionid;
    const mp = identity();
    const first = await linker.resolve({ identity: mp, unionid, client: 'rp-0' });
    const before = (await store().findById(first.id))!.updatedAt;
    const logins = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => linker.resolve({ identity: mp, unionid, client: `rp-${i + 1}` })));
    t.deepEqual(logins.filter((login) => login.status === 'rejected'), [], 'no login failed');
    const accounts = logins.map((login) => (login as PromiseFulfilledResult<Account>).value);
    t.is(new Set(accounts.map((resolved) => resolved.id)).size, 1);
    const stored = await store().findById(first.id);
    const newest = Math.max(...accounts.map((resolved) => resolved.lastLogin!.at));
    t.is(stored?.lastLogin?.at, newest, 'the newest login is the last login');
    t.is(stored?.lastLogin?.client, accounts.find((resolved) => resolved.lastLogin!.at === newest)!.lastLogin!.client);
    t.is(stored?.updatedAt, before, 'a login that changes nothing else does not rewrite the account');
  });

  test(`${backend} accounts: an older login recorded after a newer one does not replace it`, async (t) => {
    const created = account({ lastLogin: { at: 2000, appid: 'wxmp' as AppId, client: 'newer' } });
    await store().create(created);
    await store().touch(created.id, { at: 1000, appid: 'wxmp' as AppId, client: 'older' });
    t.is((await store().findById(created.id))?.lastLogin?.client, 'newer');
    await store().touch(created.id, { at: 3000, appid: 'wxmp' as AppId, client: 'newest' });
    t.is((await store().findById(created.id))?.lastLogin?.client, 'newest');
    const gone = randomUUID() as AccountId;
    await store().touch(gone, { at: 3000, appid: 'wxmp' as AppId });
    t.is(await store().findById(gone), undefined, 'a login recorded for an account gone meanwhile makes none');
  });

  test(`${backend} accounts: someone who logs in between being listed as idle and being erased stays`, async (t) => {
    const day = 86_400_000;
    const now = Date.now();
    const linker = new AccountLinker(store());
    const idle = account({ createdAt: now - 400 * day, updatedAt: now - 400 * day, lastLogin: { at: now - 390 * day, appid: 'wxmp' as AppId } });
    await store().create(idle);
    let listed: Account | undefined;
    for await (const found of store().idleSince(now - 365 * day)) if (found.id === idle.id) listed = found;
    t.truthy(listed);
    await linker.resolve({ identity: idle.identities[0]!, client: 'rp' });
    t.false(await linker.eraseUnchanged(listed!), 'the erasure is refused');
    t.truthy(await store().findById(idle.id), 'the person who came back keeps their account');
    let again: Account | undefined;
    for await (const found of store().idleSince(now - 365 * day)) if (found.id === idle.id) again = found;
    t.is(again, undefined, 'and is no longer idle');
    const stillIdle = account({ createdAt: now - 400 * day, updatedAt: now - 400 * day });
    await store().create(stillIdle);
    t.true(await linker.eraseUnchanged(stillIdle), 'an account unchanged since it was listed is erased');
    t.is(await store().findById(stillIdle.id), undefined);
  });
}
