// The storage contract every protocol store passes (memory, Redis, Redis Cluster, MongoDB).

import type { TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ATTEMPT_MODEL } from '../../src/login/attempts.ts';
import { ConsumeOnceAdapter } from '../../src/oidc/consume-once.ts';
import type { ProtocolStorage } from '../../src/storage/adapter.ts';
import { until } from '../helpers/wait.ts';

export function adapterContract(test: TestFn, backend: string, storage: () => ProtocolStorage): void {
  const id = () => randomUUID();

  test(`${backend} adapter: upsert and find give the payload back; models do not share ids`, async (t) => {
    const key = id();
    const payload = { kind: 'Session', accountId: 'a1', uid: id(), amr: [], nested: { list: [1, 'two'], empty: {} } };
    await storage().adapter('Session').upsert(key, payload, 60);
    t.deepEqual(await storage().adapter('Session').find(key), payload);
    t.is(await storage().adapter('Grant').find(key), undefined);
  });

  test(`${backend} adapter: records expire after expiresIn seconds`, async (t) => {
    const key = id();
    const kept = id();
    const tokens = storage().adapter('AccessToken');
    const before = Date.now();
    await tokens.upsert(key, { kind: 'AccessToken' }, 1);
    await tokens.upsert(kept, { kind: 'AccessToken' }, 60);
    // Found until its second has passed. A loaded machine may take longer than a second to
    // ask, and then the record may rightly be gone: only a record gone sooner is wrong.
    if (!await tokens.find(key)) t.true(Date.now() - before >= 1000, 'gone before its second had passed');
    await sleep(2100);
    t.is(await tokens.find(key), undefined);
    t.truthy(await tokens.find(kept), 'a record with time left stays');
  });

  test(`${backend} adapter: a record upserted with expiresIn 0 has already expired`, async (t) => {
    const key = id();
    await storage().adapter('AccessToken').upsert(key, { kind: 'AccessToken' }, 0);
    t.is(await storage().adapter('AccessToken').find(key), undefined);
  });

  test(`${backend} adapter: keys a client controls (dots, $, NUL, a dotted client_id) come back as they went in`, async (t) => {
    const key = id();
    const payload = {
      uid: id(), claims: { userinfo: { 'nick.name': null, $where: { essential: true }, 'bad\u0000claim': null } },
      authorizations: { 'app.example.com': { sid: 's', grantId: 'g' } },
    };
    await storage().adapter('Session').upsert(key, payload, 60);
    t.deepEqual(await storage().adapter('Session').find(key), payload);
    t.deepEqual(await storage().adapter('Session').findByUid(payload.uid), payload);
  });

  test(`${backend} adapter: findByUid and findByUserCode`, async (t) => {
    const key = id();
    const uid = id();
    const userCode = `CODE-${id().slice(0, 8)}`;
    await storage().adapter('Session').upsert(key, { uid, accountId: 'a' }, 60);
    await storage().adapter('DeviceCode').upsert(key, { userCode, clientId: 'c' }, 60);
    t.is((await storage().adapter('Session').findByUid(uid))?.accountId, 'a');
    t.is((await storage().adapter('DeviceCode').findByUserCode(userCode))?.clientId, 'c');
    t.is(await storage().adapter('Session').findByUid(id()), undefined);
  });

  test(`${backend} adapter: consume (as oidc-provider calls it) marks the record consumed, once`, async (t) => {
    const key = id();
    const codes = new ConsumeOnceAdapter(storage().adapter('AuthorizationCode'));
    await codes.upsert(key, { accountId: 'a' }, 60);
    await codes.consume(key);
    t.true(Number((await codes.find(key))?.consumed) > 0);
    await t.throwsAsync(codes.consume(key), { name: 'InvalidGrant' });
  });

  test(`${backend} adapter: of 20 concurrent claims exactly one gets the record`, async (t) => {
    const key = id();
    const codes = storage().adapter('AuthorizationCode');
    await codes.upsert(key, { accountId: 'a' }, 60);
    const claims = await Promise.all(Array.from({ length: 20 }, () => codes.claim(key)));
    t.is(claims.filter(Boolean).length, 1);
    t.is(claims.find(Boolean)?.accountId, 'a');
    t.is(await codes.claim(key), undefined);
    t.is(await codes.claim(id()), undefined, 'a missing record is not claimable');
  });

  test(`${backend} adapter: of 20 concurrent inserts of one id exactly one stores its record`, async (t) => {
    const key = id();
    const locks = storage().adapter('WeChatLock');
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => locks.insert(key, { holder: index }, 60)));
    t.is(results.filter(Boolean).length, 1);
    t.is((await locks.find(key))?.holder, results.indexOf(true));
    t.false(await locks.insert(key, { holder: 'late' }, 60));
  });

  test(`${backend} adapter: insert takes an id whose record expired or was destroyed`, async (t) => {
    const key = id();
    const locks = storage().adapter('WeChatLock');
    t.true(await locks.insert(key, { holder: 'first' }, 1));
    await sleep(2100);
    t.true(await locks.insert(key, { holder: 'second' }, 60), 'expired');
    await locks.destroy(key);
    t.true(await locks.insert(key, { holder: 'third' }, 60), 'destroyed');
    t.is((await locks.find(key))?.holder, 'third');
  });

  test(`${backend} adapter: an upsert with consumed set stays consumed`, async (t) => {
    const key = id();
    const states = storage().adapter(ATTEMPT_MODEL);
    await states.upsert(key, { uid: 'u', consumed: 123 }, 60);
    t.is(await states.claim(key), undefined);
    t.is((await states.find(key))?.consumed, 123);
  });

  test(`${backend} adapter: revokeByGrantId removes every token of the grant and nothing else`, async (t) => {
    const grantId = id();
    const other = id();
    const keys = { AccessToken: id(), RefreshToken: id(), AuthorizationCode: id() };
    for (const [model, key] of Object.entries(keys)) await storage().adapter(model).upsert(key, { grantId }, 60);
    const kept = id();
    await storage().adapter('AccessToken').upsert(kept, { grantId: other }, 60);
    const interaction = id();
    await storage().adapter('Interaction').upsert(interaction, { uid: interaction, grantId }, 60);
    await storage().adapter('AccessToken').revokeByGrantId(grantId);
    for (const [model, key] of Object.entries(keys)) t.is(await storage().adapter(model).find(key), undefined, model);
    t.truthy(await storage().adapter('AccessToken').find(kept));
    t.truthy(await storage().adapter('Interaction').find(interaction), 'an interaction of the grant is not a token issued under it');
  });

  test(`${backend} adapter: sessions and grants are found by their account, live ones only, nothing else`, async (t) => {
    const account = id();
    const [session, grant, gone, switched] = [id(), id(), id(), id()];
    await storage().adapter('Session').upsert(session, { jti: session, accountId: account, authorizations: { rp: { grantId: grant } } }, 60);
    await storage().adapter('Grant').upsert(grant, { jti: grant, accountId: account, clientId: 'rp' }, 60);
    await storage().adapter('Grant').upsert(gone, { jti: gone, accountId: account }, 60);
    await storage().adapter('Grant').destroy(gone);
    await storage().adapter('Session').upsert(switched, { jti: switched, accountId: account }, 60);
    await storage().adapter('Session').upsert(switched, { jti: switched, accountId: id() }, 60);
    await storage().adapter('AccessToken').upsert(id(), { accountId: account, grantId: grant }, 60);
    t.deepEqual((await storage().adapter('Session').findByAccount(account)).map((record) => record.id), [session]);
    t.like((await storage().adapter('Session').findByAccount(account))[0]?.payload, { authorizations: { rp: { grantId: grant } } });
    t.deepEqual((await storage().adapter('Grant').findByAccount(account)).map((record) => record.id), [grant], 'a destroyed grant is not found');
    t.deepEqual(await storage().adapter('AccessToken').findByAccount(account), [], 'tokens are reached through their grant');
    t.deepEqual(await storage().adapter('Session').findByAccount(id()), []);
  });

  test(`${backend} adapter: destroy removes one record`, async (t) => {
    const key = id();
    await storage().adapter('Interaction').upsert(key, { uid: key }, 60);
    await storage().adapter('Interaction').destroy(key);
    t.is(await storage().adapter('Interaction').find(key), undefined);
  });

  test(`${backend} adapter: ping answers`, async (t) => {
    await t.notThrowsAsync(storage().ping());
  });

  test(`${backend} adapter: a conditional replace changes what was read, and nothing once the record was saved again meanwhile`, async (t) => {
    const sessions = storage().adapter('Session');
    const [key, account] = [id(), id()];
    await sessions.upsert(key, { kind: 'Session', accountId: account, authorizations: { rp: { sid: 's1' }, other: { sid: 's2' } } }, 600);
    const seen = (await sessions.find(key))!;
    const edited = { ...seen, authorizations: { other: { sid: 's2' } } };
    t.true(await sessions.replaceIfUnchanged(key, seen, edited));
    t.deepEqual(await sessions.find(key), edited);
    t.deepEqual(await sessions.findByAccount(account).then((found) => found.map((record) => record.id)), [key], 'still found by its account');
    // oidc-provider saves the session (the person signed in to rp again) after our read:
    const stale = (await sessions.find(key))!;
    await sessions.upsert(key, { ...stale, authorizations: { rp: { sid: 's3' }, other: { sid: 's2' } } }, 600);
    t.false(await sessions.replaceIfUnchanged(key, stale, { ...stale, authorizations: {} }));
    t.deepEqual((await sessions.find(key))?.authorizations, { rp: { sid: 's3' }, other: { sid: 's2' } }, 'the save stands');
    t.false(await sessions.replaceIfUnchanged(id(), stale, stale), 'nothing for a record that is not there');
  });

  test(`${backend} adapter: twenty writers adding to one list at the same moment, each reading again when overtaken: every one gets in`, async (t) => {
    const lists = storage().adapter('AccountLogins');
    const key = id();
    const add = async (entry: number) => {
      for (;;) {
        const seen = await lists.find(key);
        const entries = [entry, ...(seen?.entries as number[] | undefined) ?? []];
        if (seen ? await lists.replaceIfUnchanged(key, seen, { entries }, 60) : await lists.insert(key, { entries }, 60)) return;
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, entry) => add(entry)));
    t.deepEqual(((await lists.find(key))?.entries as number[]).toSorted((a, b) => a - b), Array.from({ length: 20 }, (_, entry) => entry));
  });

  test(`${backend} adapter: a conditional replace keeps the record's expiry, or sets the one it is given`, async (t) => {
    const lists = storage().adapter('AccountLogins');
    // Two records that live a second, replaced at once; where the machine is too busy to replace
    // them within their second (the replace then finds nothing), two more that live twice as long,
    // up to half a minute: a store whose replace never succeeds fails here rather than looping.
    let replaced: { kept: string; renewed: string } | undefined;
    for (let life = 1; !replaced && life <= 32; life *= 2) {
      const [kept, renewed] = [id(), id()];
      for (const key of [kept, renewed]) await lists.insert(key, { entries: [1] }, life);
      const both = await lists.replaceIfUnchanged(kept, { entries: [1] }, { entries: [2, 1] })
        && await lists.replaceIfUnchanged(renewed, { entries: [1] }, { entries: [2, 1] }, 600);
      if (both) replaced = { kept, renewed };
    }
    if (!replaced) return t.fail('no conditional replace of an unchanged record succeeded, even with records living 32 s');
    const { kept, renewed } = replaced;
    await until('the kept record\'s own expiry passes', async () => await lists.find(kept) === undefined);
    t.deepEqual(await lists.find(renewed), { entries: [2, 1] }, 'ten minutes from the replace: still there');
  });
}
