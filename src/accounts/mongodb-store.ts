// Accounts in MongoDB. Unique indexes make the store refuse a second account for a
// unionid or an (appid, openid): `identityKeys` holds one "appid openid" string per
// identity, because a unique compound index over an array of sub-documents would not
// pair each appid with its own openid; the unionid index covers only documents that
// have a unionid (a missing unionid is never stored, not even as null; what earlier
// versions left is changed once, by numbered migrations). Writes are
// refused until those indexes exist, and are conditional on the account not having
// changed since it was read, so that the linker's retry settles concurrent logins. A
// merge moves one document into another, and an erasure removes one, inside a
// transaction (a replica set). An erased id keeps an alias document with `into: ''`:
// taken, resolving to nothing.

import { MongoServerError, type ClientSession, type Db, type FindCursor } from 'mongodb';
import { StorageUnavailableError } from '../storage/errors.ts';
import { checkedKeys } from '../storage/mongodb.ts';
import { migrate, type Migration } from '../storage/mongodb-migrations.ts';
import type { MongoConnection } from '../storage/mongodb-connection.ts';
import type { Unionid } from '../wechat/types.ts';
import { subsOf, type Account, type AccountId, type Contact, type Contacts, type Identity, type LastLogin, type Profile, type Suspension } from './account.ts';
import { AccountConflictError, type AccountStore, type Reservation } from './store.ts';

const STORE = 'MongoDB (accounts)';
const SETUP = 'account indexes';
const DUPLICATE_KEY = 11000;
const MAX_ALIAS_HOPS = 8;
/** Idle accounts the retention job reads from MongoDB at a time. */
const IDLE_BATCH = 500;
/** No null is ever written, so present is enough (and is understood everywhere, DocumentDB included). */
const UNIONID_FILTER = { unionid: { $exists: true } };
const UNIONID_INDEX = { key: { unionid: 1 }, name: 'unionid_unique', unique: true, partialFilterExpression: UNIONID_FILTER };
/** Only suspended accounts are in the index of suspensions. */
const SUSPENDED_FILTER = { 'suspended.at': { $exists: true } };

export interface AccountDoc {
  _id: string;
  createdAt: number;
  updatedAt: number;
  unionid?: string;
  identities: Identity[];
  identityKeys: string[];
  profile: Profile;
  contacts?: Contacts;
  lastLogin?: LastLogin;
  mergedFrom?: string[];
  detached?: Identity[];
  suspended?: Suspension;
}

interface AliasDoc {
  _id: string;
  into: string;
}

const identityKey = (identity: Identity): string => `${identity.appid} ${identity.openid}`;

/** Only the values that are there: an absent unionid or profile field is left out, never null. */
function present<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined && field !== null)) as T;
}

const contactDoc = (contact: Contact | undefined): Contact | undefined =>
  contact && { value: contact.value, verified: contact.verified, source: contact.source, at: contact.at };

/** The document for an account, exactly as the driver gets it. */
export function toAccountDoc(account: Account): AccountDoc {
  return present({
    _id: account.id,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
    unionid: account.unionid,
    identities: account.identities.map((identity) => ({ appid: identity.appid, openid: identity.openid })),
    identityKeys: account.identities.map(identityKey),
    profile: present({ nickname: account.profile.nickname, picture: account.profile.picture }),
    contacts: account.contacts && present({ phone: contactDoc(account.contacts.phone), email: contactDoc(account.contacts.email) }),
    lastLogin: account.lastLogin && present({ at: account.lastLogin.at, appid: account.lastLogin.appid, client: account.lastLogin.client }),
    mergedFrom: account.mergedFrom && [...account.mergedFrom],
    detached: account.detached?.map((identity) => ({ appid: identity.appid, openid: identity.openid })),
    suspended: account.suspended && present({ at: account.suspended.at, by: account.suspended.by, reason: account.suspended.reason, until: account.suspended.until }),
  });
}

/** The account of a document; nulls that older versions wrote read as absent. */
function toAccount(doc: AccountDoc): Account {
  return present({
    id: doc._id as AccountId,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    unionid: (doc.unionid ?? undefined) as Unionid | undefined,
    identities: doc.identities,
    profile: present(doc.profile ?? {}),
    contacts: doc.contacts ?? undefined,
    lastLogin: doc.lastLogin ?? undefined,
    mergedFrom: (doc.mergedFrom ?? undefined) as AccountId[] | undefined,
    detached: doc.detached ?? undefined,
    suspended: doc.suspended ?? undefined,
  });
}

/** What earlier versions left, changed once per deployment (storage/mongodb-migrations.ts). */
export const ACCOUNT_MIGRATIONS: readonly Migration[] = [
  {
    // Older versions wrote null for absent values, and their unionid index matched null too.
    id: 1,
    name: 'accounts: unset the null unionid and profile fields of earlier versions',
    async run(db) {
      const accounts = db.collection<AccountDoc>('accounts');
      await accounts.updateMany({ unionid: { $type: 'null' } } as never, { $unset: { unionid: '' } });
      await accounts.updateMany({ 'profile.nickname': { $type: 'null' } } as never, { $unset: { 'profile.nickname': '' } });
      await accounts.updateMany({ 'profile.picture': { $type: 'null' } } as never, { $unset: { 'profile.picture': '' } });
    },
  },
  {
    // A partial filter on $exists, which Amazon DocumentDB accepts too; the new unique index
    // is built before the old one goes, so uniqueness is enforced throughout.
    id: 2,
    name: 'accounts: the unique unionid index filters on $exists (built before unionid_1 is dropped)',
    async run(db) {
      const accounts = db.collection<AccountDoc>('accounts');
      await accounts.createIndexes([UNIONID_INDEX]);
      const old = (await accounts.listIndexes().toArray()).some((index) => index.name === 'unionid_1');
      if (old) await accounts.dropIndex('unionid_1');
    },
  },
];

/** Once per connection: the migrations not run yet, then the indexes (idempotent, cheap when they exist). */
async function setUpAccounts(db: Db): Promise<void> {
  await migrate(db, ACCOUNT_MIGRATIONS);
  await db.collection<AccountDoc>('accounts').createIndexes([
    UNIONID_INDEX,
    { key: { identityKeys: 1 }, unique: true },
    // The retention job's two ways to be idle: a last login before the cut-off, or none and no change since.
    { key: { 'lastLogin.at': 1 } },
    { key: { updatedAt: 1 } },
    // An operator's review of suspended accounts: only they are in it.
    { key: { 'suspended.at': 1 }, partialFilterExpression: SUSPENDED_FILTER },
  ]);
}

/**
 * Every filter the store gives the driver for accounts, in one place: each is served by
 * an index (the MongoDB contract runs explain() on each and fails on a collection scan).
 */
export const ACCOUNT_FILTERS = {
  byId: (id: string) => ({ _id: id }),
  anyOf: (ids: readonly string[]) => ({ _id: { $in: [...ids] } }),
  /** With the unique index's own partial filter: MongoDB's planner uses a partial index only for a query that states it. */
  byUnionid: (unionid: string) => ({ $and: [{ unionid }, UNIONID_FILTER] }),
  byIdentity: (identity: Identity) => ({ identityKeys: identityKey(identity) }),
  /** A conditional write: as read (updatedAt `seen`), with no login recorded since newer than the one `account` carries. */
  asRead: (account: Account, seen: number) => ({ _id: account.id, updatedAt: seen, 'lastLogin.at': { $not: { $gt: account.lastLogin?.at ?? -1 } } }),
  /** A login recorded only over an older one. */
  olderLogin: (id: string, at: number) => ({ _id: id, $or: [{ lastLogin: { $exists: false } }, { 'lastLogin.at': { $lt: at } }] }),
  /** Idle: a last login before the cut-off, or none and no change since. */
  idle: (before: number) => ({ $or: [{ 'lastLogin.at': { $lt: before } }, { lastLogin: { $exists: false }, updatedAt: { $lt: before } }] }),
  /** A suspension written: the partial index's own filter, which the planner needs stated. */
  suspended: () => SUSPENDED_FILTER,
};
const { asRead } = ACCOUNT_FILTERS;

export class MongoAccountStore implements AccountStore {
  readonly #connection: MongoConnection;

  constructor(connection: MongoConnection) {
    this.#connection = connection;
    connection.setup(SETUP, setUpAccounts);
  }

  get #accounts() { return this.#connection.collection<AccountDoc>('accounts'); }
  get #aliases() { return this.#connection.collection<AliasDoc>('account_aliases'); }

  #read<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.#connection.run(operation, call);
  }

  /** A write: refused until the unique indexes exist; a duplicate key is a conflict. */
  #write(operation: string, call: () => Promise<void>): Promise<void> {
    return this.#connection.run(operation, async () => {
      if (!this.#connection.isSetUp(SETUP)) throw new StorageUnavailableError(STORE, 'the unique account indexes do not exist yet');
      try {
        await call();
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new AccountConflictError();
        throw error;
      }
    }, (error) => error instanceof AccountConflictError);
  }

  findById(id: AccountId): Promise<Account | undefined> {
    return checkedKeys([[id, 'id']], () => this.#read('findById', async () => {
      let current: string = id;
      for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop += 1) {
        const doc = await this.#accounts.findOne(ACCOUNT_FILTERS.byId(current));
        if (doc) return toAccount(doc);
        const alias = await this.#aliases.findOne({ _id: current });
        if (!alias?.into) return undefined;
        current = alias.into;
      }
      return undefined;
    }));
  }

  #findOne(operation: string, filter: Record<string, unknown>): Promise<Account | undefined> {
    return this.#read(operation, async () => {
      const doc = await this.#accounts.findOne(filter);
      return doc ? toAccount(doc) : undefined;
    });
  }

  findByUnionid(unionid: Unionid) { return checkedKeys([[unionid, 'unionid']], () => this.#findOne('findByUnionid', ACCOUNT_FILTERS.byUnionid(unionid))); }
  findByIdentity(identity: Identity) {
    return checkedKeys([[identity.appid, 'appid'], [identity.openid, 'openid']], () => this.#findOne('findByIdentity', ACCOUNT_FILTERS.byIdentity(identity)));
  }

  create(account: Account): Promise<void> {
    const merged = account.mergedFrom ?? [];
    if (merged.length === 0) {
      return this.#write('create', async () => {
        if (await this.#aliases.findOne({ _id: account.id })) throw new AccountConflictError('account id taken');
        await this.#accounts.insertOne(toAccountDoc(account));
      });
    }
    // An import of an account with merged ids: they become its aliases, all or nothing.
    return this.#transaction('create', async (session) => {
      if (await this.#aliases.findOne({ _id: account.id }, { session })) throw new AccountConflictError('account id taken');
      if (await this.#accounts.findOne(ACCOUNT_FILTERS.anyOf(merged), { session })) throw new AccountConflictError('a merged id is an account');
      await this.#accounts.insertOne(toAccountDoc(account), { session });
      await this.#aliases.insertMany(merged.map((id) => ({ _id: id, into: account.id })), { session });
    });
  }

  update(account: Account, seen: number): Promise<void> {
    return this.#write('update', async () => {
      const { matchedCount } = await this.#accounts.replaceOne(asRead(account, seen), toAccountDoc(account));
      if (matchedCount === 0) throw new AccountConflictError('the account changed since it was read');
    });
  }

  merge(into: Account, seen: number, from: Account): Promise<void> {
    return this.#transaction('merge', async (session) => {
      const { deletedCount } = await this.#accounts.deleteOne(asRead(from, from.updatedAt), { session });
      if (deletedCount === 0) throw new AccountConflictError('the merged account changed since it was read');
      await this.#aliases.insertOne({ _id: from.id, into: into.id }, { session });
      const { matchedCount } = await this.#accounts.replaceOne(asRead(into, seen), toAccountDoc(into), { session });
      if (matchedCount === 0) throw new AccountConflictError('the account changed since it was read');
    });
  }

  /** Newer wins: a login at the same moment as another never conflicts with it, and never moves updatedAt. */
  touch(id: AccountId, login: LastLogin): Promise<void> {
    return checkedKeys([[id, 'id']], () => this.#read('touch', async () => {
      await this.#accounts.updateOne(ACCOUNT_FILTERS.olderLogin(id, login.at), { $set: { lastLogin: present({ at: login.at, appid: login.appid, client: login.client }) } });
    }));
  }

  /** The index entries are the document's own fields (unionid, identityKeys): replacing it frees the identity. */
  unlink(account: Account, seen: number): Promise<void> {
    return this.update(account, seen);
  }

  erase(account: Account, seen: number): Promise<void> {
    return this.#transaction('erase', async (session) => {
      const { deletedCount } = await this.#accounts.deleteOne(asRead(account, seen), { session });
      if (deletedCount === 0) throw new AccountConflictError('the account changed since it was read');
      for (const id of subsOf(account)) await this.#aliases.replaceOne({ _id: id }, { into: '' }, { session, upsert: true });
    });
  }

  /** A pass over the aliases (a dump reads everything): the erased ones, `into: ''`. */
  async* erased(): AsyncIterable<AccountId> {
    for await (const alias of this.#docs(() => this.#aliases.find({ into: '' }))) yield alias._id as AccountId;
  }

  reserve(id: AccountId): Promise<Reservation> {
    return checkedKeys([[id, 'id']], () => this.#read('reserve', async () => {
      if (await this.#accounts.findOne(ACCOUNT_FILTERS.byId(id))) return 'taken';
      try {
        await this.#aliases.insertOne({ _id: id, into: '' });
        return 'reserved';
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
        return (await this.#aliases.findOne({ _id: id }))?.into === '' ? 'present' : 'taken';
      }
    }));
  }

  /** Each branch of the \$or has its index. */
  idleSince(before: number): AsyncIterable<Account> {
    return this.#each(ACCOUNT_FILTERS.idle(before));
  }

  suspended(): AsyncIterable<Account> {
    return this.#each(ACCOUNT_FILTERS.suspended());
  }

  async* #each(filter: Record<string, unknown>): AsyncIterable<Account> {
    for await (const doc of this.#docs(() => this.#accounts.find(filter))) yield toAccount(doc);
  }

  /** Through a cursor, a batch at a time: never every document found in memory at once. */
  async* #docs<T>(find: () => FindCursor<T>): AsyncIterable<T> {
    const cursor = await this.#read('scan', async () => find().batchSize(IDLE_BATCH));
    try {
      for (;;) {
        const doc = await this.#read('scan', () => cursor.next());
        if (!doc) return;
        yield doc;
      }
    } finally {
      await cursor.close();
    }
  }

  #transaction(operation: string, work: (session: ClientSession) => Promise<void>): Promise<void> {
    return this.#write(operation, async () => {
      const session = this.#connection.client.startSession();
      try {
        await session.withTransaction(() => work(session));
      } finally {
        await session.endSession();
      }
    });
  }
}
