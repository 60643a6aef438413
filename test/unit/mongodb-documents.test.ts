// What the MongoDB stores hand the driver, serialized with the driver's own bson exactly
// as it would go on the wire: no null for an absent value, no field name a client chose.
// (No MongoDB server can run here; test/contract/mongodb.test.ts runs the full contracts
// when MONGODB_URI names one.)

import { RETENTION_LOCK_MODEL } from '../../src/privacy/retention.ts';
import { PHONE_HOLDER_MODEL } from '../../src/accounts/phone-holders.ts';
import { WECOM_TOKEN_MODEL } from '../../src/upstreams/wecom/wecom-login.ts';
import test from 'ava';
import { ACCOUNT_TOKEN_MODEL, AUTHORIZATION_MODEL } from '../../src/platforms/official-account-tokens.ts';
import { ATTEMPT_MODEL } from '../../src/login/attempts.ts';
import { LINK_MODEL, SCAN_MODEL, SCENE_MODEL } from '../../src/upstreams/wechat-follow/follow-scenes.ts';
import { HANDOFF_MODEL } from '../../src/login/handoff.ts';
import { LOCK_MODEL, TICKET_MODEL, TOKEN_MODEL } from '../../src/platforms/platform-tokens.ts';
import { ANSWER_MODEL } from '../../src/platforms/push-answers.ts';
import { BSON } from 'bson';
import type { AccountId } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { ACCOUNT_FILTERS, MongoAccountStore, toAccountDoc } from '../../src/accounts/mongodb-store.ts';
import { SESSION_DEVICE_MODEL } from '../../src/oidc/session-devices.ts';
import { fromRecordDoc, MODELS, MongoStorage, toRecordDoc, UndefinedKeyError } from '../../src/storage/mongodb.ts';
import { MongoConnection } from '../../src/storage/mongodb-connection.ts';
import type { AppId, Openid, Unionid } from '../../src/wechat/types.ts';

const wire = (doc: object): Record<string, unknown> => BSON.deserialize(BSON.serialize(doc));

function nulls(value: unknown, path = ''): string[] {
  if (value === null) return [path];
  if (typeof value !== 'object' || value instanceof Date) return [];
  return Object.entries(value as object).flatMap(([key, field]) => nulls(field, `${path}.${key}`));
}

test('an account the linker made from a snsapi_base login goes to the driver without null unionid or profile fields', async (t) => {
  const linker = new AccountLinker(new MemoryAccountStore());
  const account = await linker.resolve({ identity: { appid: 'wxmp' as AppId, openid: 'o1' as Openid } });
  t.true('unionid' in account, 'the linker keeps an undefined unionid key');
  const stored = wire(toAccountDoc(account));
  t.deepEqual(nulls(stored), []);
  t.false('unionid' in stored, 'no unionid field: the partial unique index never sees this account');
  t.deepEqual(stored.identityKeys, ['wxmp o1']);
  const profiled = await linker.resolve({ identity: { appid: 'wxopen' as AppId, openid: 'o2' as Openid }, profile: { nickname: 'n', picture: undefined } });
  t.deepEqual(wire(toAccountDoc(profiled)).profile, { nickname: 'n' });
});

test('an account with a unionid keeps it; the document has the account\'s fields and the index keys only', (t) => {
  const stored = wire(toAccountDoc({
    id: 'a1' as AccountId, createdAt: 1, updatedAt: 2, unionid: 'u1' as Unionid,
    identities: [{ appid: 'wxmp' as AppId, openid: 'o1' as Openid }], profile: { nickname: '小爱', picture: 'https://x/1' },
  }));
  t.deepEqual(Object.keys(stored).sort(), ['_id', 'createdAt', 'identities', 'identityKeys', 'profile', 'unionid', 'updatedAt']);
  t.is(stored.unionid, 'u1');
});

test('contact details go to the driver as fixed fields (value, verified, source, at), one kind absent without a null', (t) => {
  const contact = { value: '+8613800138000', verified: false, source: 'wecom:ww1', at: 5 };
  const stored = wire(toAccountDoc({
    id: 'a1' as AccountId, createdAt: 1, updatedAt: 2, identities: [{ appid: 'wecom:ww1' as AppId, openid: 'zhangsan' as Openid }], profile: {},
    contacts: { phone: { ...contact, extra: 'dropped' } as typeof contact },
  }));
  t.deepEqual(stored.contacts, { phone: contact });
  t.deepEqual(nulls(stored), []);
});

test('a protocol record goes to the driver with a fixed set of field names, whatever keys its payload has', (t) => {
  const payload = {
    uid: 'u', grantId: 'g', claims: { userinfo: { 'bad\u0000claim': null, 'nick.name': null, $where: { essential: true } } },
    authorizations: { 'app.example.com': { sid: 's' } },
  };
  t.throws(() => BSON.serialize({ payload }), undefined, 'as a sub-document, a NUL in a claim name cannot even be serialized');
  const doc = toRecordDoc('AccessToken', 'id1', { ...payload, accountId: 'a1' }, 60, 1_000);
  const stored = wire(doc);
  t.deepEqual(Object.keys(stored).sort(), ['_id', 'expiresAt', 'grantId', 'payload', 'uid']);
  t.is(typeof stored.payload, 'string');
  t.deepEqual(fromRecordDoc(doc), { ...payload, accountId: 'a1' });
  t.deepEqual((stored.expiresAt as Date).getTime(), 61_000);
});

test('a session or a grant is indexed by its account; a token is reached through its grant instead', (t) => {
  t.is(toRecordDoc('Session', 's', { accountId: 'a1' }, 60).accountId, 'a1');
  t.is(toRecordDoc('Grant', 'g', { accountId: 'a1' }, 60).accountId, 'a1');
  t.is(toRecordDoc('AccessToken', 't', { accountId: 'a1', grantId: 'g' }, 60).accountId, undefined);
  t.is(toRecordDoc('Session', 's', { accountId: { $ne: 1 } } as never, 60).accountId, undefined, 'only a string');
});

test('a record with expiresIn 0 expires at once, not never', (t) => {
  t.is(toRecordDoc('AccessToken', 'id', {}, 0, 5_000).expiresAt?.getTime(), 5_000);
  t.is(toRecordDoc('AccessToken', 'id', {}, undefined).expiresAt, undefined);
});

test('every model the broker keeps records in has its MongoDB collection', (t) => {
  const own = [ATTEMPT_MODEL, HANDOFF_MODEL, ANSWER_MODEL, TICKET_MODEL, TOKEN_MODEL, LOCK_MODEL, ACCOUNT_TOKEN_MODEL, AUTHORIZATION_MODEL, SCENE_MODEL, SCAN_MODEL, LINK_MODEL, RETENTION_LOCK_MODEL, WECOM_TOKEN_MODEL, PHONE_HOLDER_MODEL, SESSION_DEVICE_MODEL];
  t.deepEqual(own.filter((model) => !(MODELS as readonly string[]).includes(model)), []);
});

test('a record an earlier version stored with its payload as a sub-document still reads', (t) => {
  const legacy = { _id: 'S1', payload: { accountId: 'a1', exp: 1_900_000_000, kind: 'Session' } };
  t.deepEqual(fromRecordDoc(legacy), { accountId: 'a1', exp: 1_900_000_000, kind: 'Session' });
  t.deepEqual(fromRecordDoc({ ...legacy, consumed: 5 }), { ...legacy.payload, consumed: 5 });
});

test('an undefined or empty key is refused at the store boundary, before anything is sent (the driver would drop it and match every record)', async (t) => {
  const events = { onProblem: () => undefined, onReady: () => undefined, onFatal: () => undefined };
  const connection = new MongoConnection({ uri: 'mongodb://127.0.0.1:9/never', timeoutMs: 100 }, events);
  const sessions = new MongoStorage(connection).adapter('Session');
  const accounts = new MongoAccountStore(connection);
  for (const call of [
    () => sessions.destroy(undefined as never), () => sessions.find(''), () => sessions.revokeByGrantId(undefined as never), () => sessions.findByAccount(undefined as never),
    () => accounts.findById(undefined as never), () => accounts.findByUnionid(undefined as never), () => accounts.touch(undefined as never, { at: 1, appid: 'wx' as AppId }),
  ]) {
    await t.throwsAsync(call(), { instanceOf: UndefinedKeyError });
  }
  await connection.close();
});

test('a suspended account goes to the driver with its suspension, and nothing null', async (t) => {
  const linker = new AccountLinker(new MemoryAccountStore());
  const account = await linker.resolve({ identity: { appid: 'wxmp' as AppId, openid: 'o-suspended' as Openid } });
  const suspended = (await linker.suspend(account.id, { by: 'admin:ops', reason: 'fraud' }))?.account;
  const stored = wire(toAccountDoc(suspended!));
  t.like(stored.suspended, { by: 'admin:ops', reason: 'fraud', at: suspended!.suspended!.at });
  t.false('until' in (stored.suspended as object), 'no end: none written');
  t.deepEqual(nulls(stored), []);
  const timed = (await linker.suspend((await linker.reinstate(account.id))!.account.id, { by: 'cli', reason: 'cooling off', until: Date.UTC(2099, 0, 1) }))?.account;
  t.like(wire(toAccountDoc(timed!)).suspended, { reason: 'cooling off', until: Date.UTC(2099, 0, 1) }, 'its end with it');
  // The list of suspensions reads a partial index whose filter is a field's presence: a suspended account's document has it, another's not.
  const [field] = Object.keys(ACCOUNT_FILTERS.suspended());
  const at = (doc: Record<string, unknown>) => field!.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
  t.is(at(stored), suspended!.suspended!.at);
  t.is(at(wire(toAccountDoc((await linker.reinstate(account.id))!.account))), undefined, 'reinstated: out of the index');
});
