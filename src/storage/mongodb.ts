// Protocol state in MongoDB: one collection per model, documents {_id, payload, expiresAt}.
// A TTL index removes expired documents (within a minute), and reads ignore them before
// that. Consuming is one findOneAndUpdate on a not-yet-consumed document: atomic.

import type { Collection, Db } from 'mongodb';
import type { AdapterPayload, ProtocolStorage, StorageAdapter } from './adapter.ts';
import { guarded } from './errors.ts';

const STORE = 'MongoDB';

interface Doc {
  _id: string;
  payload: AdapterPayload;
  expiresAt?: Date;
}

const live = () => ({ $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date() } }] });

class MongoAdapter implements StorageAdapter {
  readonly #collection: Collection<Doc>;

  constructor(collection: Collection<Doc>) {
    this.#collection = collection;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return guarded(STORE, async () => {
      const doc: Doc = { _id: id, payload, ...(expiresIn ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}) };
      await this.#collection.replaceOne({ _id: id }, doc, { upsert: true });
    });
  }

  #findOne(filter: Record<string, unknown>): Promise<AdapterPayload | undefined> {
    return guarded(STORE, async () => (await this.#collection.findOne({ ...filter, ...live() }))?.payload);
  }

  find(id: string) { return this.#findOne({ _id: id }); }
  findByUid(uid: string) { return this.#findOne({ 'payload.uid': uid }); }
  findByUserCode(userCode: string) { return this.#findOne({ 'payload.userCode': userCode }); }

  async consume(id: string): Promise<void> {
    await this.claim(id);
  }

  claim(id: string): Promise<AdapterPayload | undefined> {
    return guarded(STORE, async () => {
      const consumed = Math.floor(Date.now() / 1000);
      const before = await this.#collection.findOneAndUpdate(
        { _id: id, 'payload.consumed': { $exists: false }, ...live() },
        { $set: { 'payload.consumed': consumed } },
      );
      return before ? { ...before.payload, consumed } : undefined;
    });
  }

  destroy(id: string): Promise<void> {
    return guarded(STORE, async () => { await this.#collection.deleteOne({ _id: id }); });
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return guarded(STORE, async () => { await this.#collection.deleteMany({ 'payload.grantId': grantId }); });
  }
}

/** Models whose records can be found by something other than their id. */
const INDEXED: Record<string, string> = { Session: 'payload.uid', DeviceCode: 'payload.userCode' };

export class MongoStorage implements ProtocolStorage {
  readonly kind = 'mongodb';
  readonly #db: Db;
  readonly #collections = new Map<string, Collection<Doc>>();
  readonly #indexes: Array<Promise<unknown>> = [];

  constructor(db: Db) {
    this.#db = db;
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
    return new MongoAdapter(collection);
  }

  ping(): Promise<void> {
    return guarded(STORE, async () => { await this.#db.command({ ping: 1 }); });
  }

  async close(): Promise<void> {
    await Promise.all(this.#indexes);
  }
}
