// Protocol state in MongoDB: one collection per model (`oidc_<Model>`). A document keeps
// oidc-provider's payload as JSON text, so that no key a client controls (a claim name
// from a `claims` parameter, a dotted client_id inside a session) ever becomes a field
// name; the fields the store queries stand beside it: `expiresAt` (a TTL index removes
// expired documents within a minute, and reads ignore them before that), `grantId`,
// `uid`, `userCode`, `consumed`, and `accountId` for the models found by account. Claiming is one findOneAndUpdate on a not yet
// consumed document: atomic. Indexes are made when the connection is set up, before
// readiness.

import type { Collection, Db } from 'mongodb';
import { accountOf, ACCOUNT_MODELS, GRANT_TOKEN_MODELS, type AccountRecord, type AdapterPayload, type ProtocolStorage, type StorageAdapter } from './adapter.ts';
import { migrate, type Migration } from './mongodb-migrations.ts';
import type { MongoConnection } from './mongodb-connection.ts';

/** oidc-provider's models, and the broker's own, that live here. */
export const MODELS = [
  'Session', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'ClientCredentials', 'Client',
  'InitialAccessToken', 'RegistrationAccessToken', 'Interaction', 'ReplayDetection', 'PushedAuthorizationRequest',
  'Grant', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
  // The broker's own (login/: attempts, hand-offs, pushes' answers, platform tokens, account tokens, follow scenes and links).
  'WeChatLoginAttempt', 'WeChatHandoff', 'WeChatPlatformTicket', 'WeChatPushAnswer', 'WeChatComponentToken', 'WeChatLock',
  'WeChatAccountToken', 'WeChatFollowScene', 'WeChatFollowScan', 'WeChatFollowLink', 'WeChatAuthorization',
  // upstreams/wecom/: WeCom apps' tokens.
  'WeComToken',
  // oidc/: the browser each person's session is held in.
  'SessionDevice',
  // privacy/: the retention job's lock, operators' accesses to each person, each person's recent logins. accounts/: which account a phone number was last given to.
  'RetentionLock', 'OperatorAccess', 'AccountLogins', 'PhoneHolder',
] as const;

const PREFIX = 'oidc_';
/** MongoDB's error code for a unique index violation. */
const DUPLICATE_KEY = 11000;
const SETUP = 'protocol indexes';

/** A stored record: the payload as text, and the fields queries use. */
export interface RecordDoc {
  _id: string;
  /** The payload as JSON text; versions before 0.1 stored it as a sub-document, which still reads. */
  payload: string | AdapterPayload;
  expiresAt?: Date;
  grantId?: string;
  accountId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
}

/** The document for a record: no field name comes from the payload's keys. */
export function toRecordDoc(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined, now = Date.now()): RecordDoc {
  const accountId = accountOf(model, payload);
  const text = (key: string) => (typeof payload[key] === 'string' ? { [key]: payload[key] as string } : {});
  return {
    _id: id,
    payload: JSON.stringify(payload),
    ...(expiresIn === undefined ? {} : { expiresAt: new Date(now + expiresIn * 1000) }),
    ...text('grantId'),
    ...(accountId === undefined ? {} : { accountId }),
    ...text('uid'),
    ...text('userCode'),
    ...(typeof payload.consumed === 'number' ? { consumed: payload.consumed } : {}),
  };
}

/** The payload of a stored record (its `consumed` from the field beside it). */
export function fromRecordDoc(doc: RecordDoc): AdapterPayload {
  const payload = typeof doc.payload === 'string' ? JSON.parse(doc.payload) as AdapterPayload : doc.payload;
  return doc.consumed === undefined ? payload : { ...payload, consumed: doc.consumed };
}

const live = () => ({ $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date() } }] });

async function createIndexes(collection: Collection<RecordDoc>): Promise<void> {
  await collection.createIndexes([
    { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    { key: { grantId: 1 }, sparse: true },
    { key: { accountId: 1 }, sparse: true },
    { key: { uid: 1 }, sparse: true },
    { key: { userCode: 1 }, sparse: true },
  ]);
}

/**
 * A filter value at the store boundary: the driver drops undefined keys (ignoreUndefined),
 * so `{_id: undefined}` would match any record and a `deleteMany({grantId: undefined})`
 * every one. A caller's bug must fail here instead.
 */
export class UndefinedKeyError extends TypeError {
  readonly code = 'UNDEFINED_KEY';
  constructor(name: string) {
    super(`MongoDB storage: ${name} must be a non-empty string`);
    this.name = 'UndefinedKeyError';
  }
}

function key(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UndefinedKeyError(name);
  return value;
}

/** `call`, once every key is a non-empty string; else a rejection, and nothing sent. */
export function checkedKeys<T>(keys: ReadonlyArray<[unknown, string]>, call: () => Promise<T>): Promise<T> {
  try {
    for (const [value, name] of keys) key(value, name);
  } catch (error) {
    return Promise.reject(error);
  }
  return call();
}

class MongoAdapter implements StorageAdapter {
  readonly #connection: MongoConnection;
  readonly #collection: Collection<RecordDoc>;
  readonly #model: string;

  constructor(connection: MongoConnection, model: string) {
    this.#connection = connection;
    this.#model = model;
    this.#collection = connection.collection<RecordDoc>(`${PREFIX}${model}`);
  }

  /** One operation, after its keys were checked (a bad key rejects before anything is sent). */
  #run<T>(operation: string, call: () => Promise<T>, ...keys: Array<[unknown, string]>): Promise<T> {
    return checkedKeys(keys, () => this.#connection.run(`${operation} ${this.#model}`, call));
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return this.#run('upsert', async () => {
      await this.#collection.replaceOne({ _id: id }, toRecordDoc(this.#model, id, payload, expiresIn), { upsert: true });
    }, [id, 'id']);
  }

  /**
   * Replaces only an expired document with this id (the TTL monitor may not have removed
   * it yet); where a live one exists, the upsert's insert meets the unique _id: false.
   */
  insert(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    return this.#run('insert', async () => {
      try {
        await this.#collection.replaceOne({ _id: id, expiresAt: { $lte: new Date() } }, toRecordDoc(this.#model, id, payload, expiresIn), { upsert: true });
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
        throw error;
      }
    }, [id, 'id']);
  }

  /** The newest live record matching `filter`. */
  #findOne(operation: string, name: string, value: string, filter: Record<string, unknown>): Promise<AdapterPayload | undefined> {
    return this.#run(operation, async () => {
      const doc = await this.#collection.findOne({ ...filter, ...live() }, { sort: { expiresAt: -1 } });
      return doc ? fromRecordDoc(doc) : undefined;
    }, [value, name]);
  }

  find(id: string) { return this.#findOne('find', 'id', id, { _id: id }); }
  findByUid(uid: string) { return this.#findOne('findByUid', 'uid', uid, { uid }); }
  findByUserCode(userCode: string) { return this.#findOne('findByUserCode', 'userCode', userCode, { userCode }); }

  claim(id: string): Promise<AdapterPayload | undefined> {
    return this.#run('claim', async () => {
      const consumed = Math.floor(Date.now() / 1000);
      const before = await this.#collection.findOneAndUpdate(
        { _id: id, consumed: { $exists: false }, ...live() },
        { $set: { consumed } },
      );
      return before ? { ...fromRecordDoc(before), consumed } : undefined;
    }, [id, 'id']);
  }

  replaceIfUnchanged(id: string, seen: AdapterPayload, payload: AdapterPayload, expiresIn?: number): Promise<boolean> {
    return this.#run('replaceIfUnchanged', async () => {
      const expiry = expiresIn === undefined ? {} : { expiresAt: new Date(Date.now() + expiresIn * 1000) };
      const { matchedCount } = await this.#collection.updateOne({ _id: id, payload: JSON.stringify(seen), ...live() }, { $set: { payload: JSON.stringify(payload), ...expiry } });
      return matchedCount === 1;
    }, [id, 'id']);
  }

  destroy(id: string): Promise<void> {
    return this.#run('destroy', async () => { await this.#collection.deleteOne({ _id: id }); }, [id, 'id']);
  }

  findByAccount(accountId: string): Promise<AccountRecord[]> {
    return this.#run('findByAccount', async () => {
      if (!accountOf(this.#model, { accountId })) return [];
      const docs = await this.#collection.find({ accountId, ...live() }).toArray();
      return docs.map((doc) => ({ id: doc._id, payload: fromRecordDoc(doc) }));
    }, [accountId, 'accountId']);
  }

  /** Every token issued under the grant, in every token model's collection. */
  revokeByGrantId(grantId: string): Promise<void> {
    return this.#run('revokeByGrantId', async () => {
      await Promise.all([...GRANT_TOKEN_MODELS].map((model) => this.#connection.collection<RecordDoc>(`${PREFIX}${model}`).deleteMany({ grantId })));
    }, [grantId, 'grantId']);
  }
}

/** What earlier versions left in the protocol collections, changed once (mongodb-migrations.ts). */
export const PROTOCOL_MIGRATIONS: readonly Migration[] = [{
  // Records written before `accountId` stood beside the payload were missed by the export,
  // the erasure and their back-channel logouts; resumable: it only looks at those without.
  id: 101,
  name: 'protocol records: accountId beside the payload of the models found by account',
  async run(db) {
    for (const model of ACCOUNT_MODELS) {
      const collection = db.collection<RecordDoc>(`${PREFIX}${model}`);
      for await (const doc of collection.find({ accountId: { $exists: false } }).batchSize(500)) {
        const accountId = accountOf(model, fromRecordDoc(doc));
        if (accountId !== undefined) await collection.updateOne({ _id: doc._id }, { $set: { accountId } });
      }
    }
  },
}];

export class MongoStorage implements ProtocolStorage {
  readonly kind = 'mongodb';
  readonly #connection: MongoConnection;

  constructor(connection: MongoConnection) {
    this.#connection = connection;
    connection.setup(SETUP, async (db: Db) => {
      await Promise.all(MODELS.map((model) => createIndexes(db.collection(`${PREFIX}${model}`))));
      await migrate(db, PROTOCOL_MIGRATIONS);
    });
  }

  adapter(model: string): StorageAdapter {
    if (!(MODELS as readonly string[]).includes(model)) throw new Error(`MongoStorage: unknown model ${model} (add it to MODELS)`);
    return new MongoAdapter(this.#connection, model);
  }

  ping(): Promise<void> {
    return this.#connection.ping();
  }
}
