// Protocol state in MongoDB: one collection per model, documents {_id, payload, expiresAt}.
// A TTL index removes expired documents (within a minute), and reads ignore them before
// that. Consuming is one findOneAndUpdate on a not-yet-consumed document: atomic.

import type { Collection, Db } from 'mongodb';
import type { AdapterPayload, ProtocolStorage, StorageAdapter } from './adapter.ts';
import { StorageGuard, type StorageObserver } from './errors.ts';

const STORE = 'MongoDB';

interface Doc {
  _id: string;
  payload: AdapterPayload;
  expiresAt?: Date;
}

const live = () => ({ $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date() } }] });

class MongoAdapter implements StorageAdapter {
  readonly #collection: Collection<Doc>;
  readonly #guard: StorageGuard;

  constructor(collection: Collection<Doc>, guard: StorageGuard) {
    this.#collection = collection;
    this.#guard = guard;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return this.#guard.run(async () => {
      const doc: Doc = { _id: id, payload, ...(expiresIn ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}) };
      await this.#collection.replaceOne({ _id: id }, doc, { upsert: true });
    });
  }

  #findOne(filter: Record<string, unknown>): Promise<AdapterPayload | undefined> {
    return this.#guard.run(async () => (await this.#collection.findOne({ ...filter, ...live() }))?.payload);
  }

  find(id: string) { return this.#findOne({ _id: id }); }
  findByUid(uid: string) { return this.#findOne({ 'payload.uid': uid }); }
  findByUserCode(userCode: string) { return this.#findOne({ 'payload.userCode': userCode }); }

  claim(id: string): Promise<AdapterPayload | undefined> {
    return this.#guard.run(async () => {
      const consumed = Math.floor(Date.now() / 1000);
      const before = await this.#collection.findOneAndUpdate(
        { _id: id, 'payload.consumed': { $exists: false }, ...live() },
        { $set: { 'payload.consumed': consumed } },
      );
      return before ? { ...before.payload, consumed } : undefined;
    });
  }

  destroy(id: string): Promise<void> {
    return this.#guard.run(async () => { await this.#collection.deleteOne({ _id: id }); });
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.#guard.run(async () => { await this.#collection.deleteMany({ 'payload.grantId': grantId }); });
  }
}

/** Models whose records can be found by something other than their id. */
const INDEXED: Record<string, string> = { Session: 'payload.uid', DeviceCode: 'payload.userCode' };

export class MongoStorage implements ProtocolStorage {
  readonly kind = 'mongodb';
  readonly #db: Db;
  readonly #collections = new Map<string, Collection<Doc>>();
  readonly #indexes: Array<Promise<unknown>> = [];
  readonly #guard: StorageGuard;

  constructor(db: Db, observe?: StorageObserver) {
    this.#db = db;
    this.#guard = new StorageGuard(STORE, observe);
  }

  adapter(model: string): StorageAdapter {
    let collection = this.#collections.get(model);
    if (!collection) {
      collection = this.#db.collection<Doc>(`oidc_${model}`);
      this.#collections.set(model, collection);
      // Created at first use, idempotently; failures surface at the first real call.
      this.#indexes.push(collection.createIndexes([
        { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
        { key: { 'payload.grantId': 1 }, sparse: true },
        ...(INDEXED[model] ? [{ key: { [INDEXED[model]]: 1 }, sparse: true }] : []),
      ]).catch(() => undefined));
    }
    return new MongoAdapter(collection, this.#guard);
  }

  ping(): Promise<void> {
    return this.#guard.run(async () => { await this.#db.command({ ping: 1 }); });
  }

  /** Lets index creation still under way finish before the client closes. */
  async settle(): Promise<void> {
    await Promise.all(this.#indexes);
  }
}
