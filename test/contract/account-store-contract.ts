// The contract every account store passes (memory, Redis, Redis Cluster, MongoDB):
// uniqueness is the store's, not a check-then-write in the broker.

import type { TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import type { Account, AccountId, Identity } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { AccountConflictError, type AccountStore } from '../../src/accounts/store.ts';
import type { AppId, Openid, Unionid } from '../../src/wechat/types.ts';

const identity = (openid = randomUUID()): Identity => ({ appid: 'wxmp' as AppId, openid: openid as Openid });
const account = (over: Partial<Account> = {}): Account => ({
  id: randomUUID() as AccountId, createdAt: Date.now(), updatedAt: Date.now(), identities: [identity()], profile: {}, ...over,
});

export function accountStoreContract(test: TestFn, backend: string, store: () => AccountStore): void {
  test(`${backend} accounts: found by id, unionid and (appid, openid)`, async (t) => {
    const created = account({ unionid: randomUUID() as Unionid, profile: { nickname: '小爱 🌸 <b>' } });
    await store().create(created);
    t.deepEqual(await store().findById(created.id), created);
    t.deepEqual(await store().findByUnionid(created.unionid!), created);
    t.deepEqual(await store().findByIdentity(created.identities[0]!), created);
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
    await store().update(completed);
    t.deepEqual(await store().findByUnionid(completed.unionid), completed);
    t.deepEqual(await store().findByIdentity(completed.identities[1]!), completed);
    const other = account();
    await store().create(other);
    await t.throwsAsync(store().update({ ...other, unionid: completed.unionid }), { instanceOf: AccountConflictError });
    t.deepEqual(await store().findById(other.id), other);
  });

  test(`${backend} accounts: merge moves one account into another and the old id keeps resolving`, async (t) => {
    const older = account();
    const younger = account({ unionid: randomUUID() as Unionid });
    await store().create(older);
    await store().create(younger);
    const merged = { ...older, unionid: younger.unionid, identities: [...older.identities, ...younger.identities] };
    await store().merge(merged, younger.id);
    t.deepEqual(await store().findById(younger.id), merged);
    t.deepEqual(await store().findByIdentity(younger.identities[0]!), merged);
    t.deepEqual(await store().findByUnionid(younger.unionid!), merged);
    const third = account();
    await store().create(third);
    const again = { ...third, identities: [...third.identities, ...merged.identities], unionid: merged.unionid };
    await store().merge(again, older.id);
    t.is((await store().findById(younger.id))?.id, third.id, 'merges chain');
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
}
