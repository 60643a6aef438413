// Accounts in MongoDB. Unique indexes (created at start, idempotently) make the store
// refuse a second account for a unionid or an (appid, openid): `identityKeys` holds one
// "appid openid" string per identity, because a unique compound index over an array of
// sub-documents would not pair each appid with its own openid. A merge moves one
// document into another inside a transaction (MongoDB replica set).

import { MongoServerError, type Collection, type Db, type MongoClient } from 'mongodb';
import type { Account, AccountId, Identity } from './account.ts';
import { AccountConflictError, type AccountStore } from './store.ts';
import { StorageGuard, StorageUnavailableError, type StorageObserver } from '../storage/errors.ts';
import type { Unionid } from '../wechat/types.ts';

const STORE = 'MongoDB (accounts)';
const DUPLICATE_KEY = 11000;
const MAX_ALIAS_HOPS = 8;

interface AccountDoc extends Omit<Account, 'id'> {
  _id: string;
  identityKeys: string[];
}

interface AliasDoc {
  _id: string;
  into: string;
}

const identityKey = (identity: Identity): string => `${identity.appid} ${identity.openid}`;

function toDoc(account: Account): AccountDoc {
  const { id, ...rest } = account;
  return { ...rest, _id: id, identityKeys: account.identities.map(identityKey) };
}

function toAccount(doc: AccountDoc): Account {
  const { _id, identityKeys: _keys, ...rest } = doc;
  return { ...rest, id: _id as AccountId };
}

/** A write: a duplicate key is the store refusing a second account; other failures are storage's. */
async function write(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof AccountConflictError) throw error;
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new AccountConflictError();
    throw new StorageUnavailableError(STORE, error);
  }
}

export class MongoAccountStore implements AccountStore {
  readonly #client: MongoClient;
  readonly #accounts: Collection<AccountDoc>;
  readonly #aliases: Collection<AliasDoc>;
  readonly #guard: StorageGuard;

  constructor(client: MongoClient, db: Db, observe?: StorageObserver) {
    this.#client = client;
    this.#guard = new StorageGuard(STORE, observe);
    this.#accounts = db.collection<AccountDoc>('accounts');
    this.#aliases = db.collection<AliasDoc>('account_aliases');
  }

  /** Creates the unique indexes (idempotent: safe at every start). */
  init(): Promise<void> {
    return this.#guard.run(async () => {
      await this.#accounts.createIndexes([
        { key: { unionid: 1 }, unique: true, partialFilterExpression: { unionid: { $exists: true } } },
        { key: { identityKeys: 1 }, unique: true },
      ]);
    });
  }

  findById(id: AccountId): Promise<Account | undefined> {
    return this.#guard.run(async () => {
      let current: string = id;
      for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop += 1) {
        const doc = await this.#accounts.findOne({ _id: current });
        if (doc) return toAccount(doc);
        const alias = await this.#aliases.findOne({ _id: current });
        if (!alias) return undefined;
        current = alias.into;
      }
      return undefined;
    });
  }

  #findOne(filter: Record<string, unknown>): Promise<Account | undefined> {
    return this.#guard.run(async () => {
      const doc = await this.#accounts.findOne(filter);
      return doc ? toAccount(doc) : undefined;
    });
  }

  findByUnionid(unionid: Unionid) { return this.#findOne({ unionid }); }
  findByIdentity(identity: Identity) { return this.#findOne({ identityKeys: identityKey(identity) }); }

  create(account: Account): Promise<void> {
    return write(async () => {
      if (await this.#aliases.findOne({ _id: account.id })) throw new AccountConflictError('account id taken');
      await this.#accounts.insertOne(toDoc(account));
    });
  }

  update(account: Account): Promise<void> {
    return write(async () => {
      const { matchedCount } = await this.#accounts.replaceOne({ _id: account.id }, toDoc(account));
      if (matchedCount === 0) throw new AccountConflictError('no such account');
    });
  }

  merge(into: Account, from: AccountId): Promise<void> {
    return write(async () => {
      const session = this.#client.startSession();
      try {
        await session.withTransaction(async () => {
          const { deletedCount } = await this.#accounts.deleteOne({ _id: from }, { session });
          if (deletedCount === 0) throw new AccountConflictError('no such account');
          await this.#aliases.insertOne({ _id: from, into: into.id }, { session });
          const { matchedCount } = await this.#accounts.replaceOne({ _id: into.id }, toDoc(into), { session });
          if (matchedCount === 0) throw new AccountConflictError('no such account');
        });
      } finally {
        await session.endSession();
      }
    });
  }

}
