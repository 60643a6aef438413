// The embedded protocol storage: one process, lost on restart, expiry checked on read and
// swept every minute.

import { accountOf, GRANT_TOKEN_MODELS, type AccountRecord, type AdapterPayload, type ProtocolStorage, type StorageAdapter } from './adapter.ts';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

const SWEEP_MS = 60_000;

class MemoryAdapter implements StorageAdapter {
  readonly #model: string;
  readonly #storage: MemoryStorage;

  constructor(model: string, storage: MemoryStorage) {
    this.#model = model;
    this.#storage = storage;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.#storage.set(this.#key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.#storage.get(this.#key(id));
    return payload && structuredClone(payload);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.#storage.uidIndex.get(`${this.#model}:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = this.#storage.userCodeIndex.get(`${this.#model}:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async claim(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.#storage.get(this.#key(id));
    if (!payload || payload.consumed) return undefined;
    payload.consumed = Math.floor(Date.now() / 1000);
    return structuredClone(payload);
  }

  async insert(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    if (this.#storage.get(this.#key(id))) return false;
    this.#storage.set(this.#key(id), payload, expiresIn);
    return true;
  }

  async replaceIfUnchanged(id: string, seen: AdapterPayload, payload: AdapterPayload, expiresIn?: number): Promise<boolean> {
    const current = this.#storage.get(this.#key(id));
    if (!current || JSON.stringify(current) !== JSON.stringify(seen)) return false;
    // The stored object itself changes, so the entry keeps its expiry unless given another.
    for (const key of Object.keys(current)) delete current[key];
    Object.assign(current, structuredClone(payload));
    if (expiresIn !== undefined) this.#storage.expire(this.#key(id), expiresIn);
    return true;
  }

  async destroy(id: string): Promise<void> {
    this.#storage.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.#storage.deleteGrant(grantId);
  }

  async findByAccount(accountId: string): Promise<AccountRecord[]> {
    const records: AccountRecord[] = [];
    for (const key of this.#storage.accountKeys(this.#model, accountId)) {
      const payload = this.#storage.get(key);
      // The index may name a record since destroyed, or reused for someone else.
      if (payload?.accountId === accountId) records.push({ id: key.slice(this.#model.length + 1), payload: structuredClone(payload) });
    }
    return records;
  }
}

export class MemoryStorage implements ProtocolStorage {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entry>();
  readonly #grants = new Map<string, Set<string>>();
  /** `<model>\n<accountId>` → record keys. */
  readonly #accounts = new Map<string, Set<string>>();
  readonly uidIndex = new Map<string, string>();
  readonly userCodeIndex = new Map<string, string>();
  readonly #sweeper = setInterval(() => this.#sweep(), SWEEP_MS).unref();

  adapter(model: string): StorageAdapter {
    return new MemoryAdapter(model, this);
  }

  async ping(): Promise<void> {}

  /** Stops the sweeper. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  set(key: string, payload: AdapterPayload, expiresIn?: number): void {
    const model = key.slice(0, key.indexOf(':'));
    const id = key.slice(model.length + 1);
    this.#entries.set(key, {
      payload: structuredClone(payload),
      // expiresIn 0 (or less) is a record that has already expired, not one that never does.
      expiresAt: expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000,
    });
    if (typeof payload.grantId === 'string' && GRANT_TOKEN_MODELS.has(model)) addTo(this.#grants, payload.grantId, key);
    const accountId = accountOf(model, payload);
    if (accountId !== undefined) addTo(this.#accounts, `${model}\n${accountId}`, key);
    if (typeof payload.uid === 'string') this.uidIndex.set(`${model}:${payload.uid}`, id);
    if (typeof payload.userCode === 'string') this.userCodeIndex.set(`${model}:${payload.userCode}`, id);
  }

  /** The entry `key` expires `expiresIn` seconds from now. */
  expire(key: string, expiresIn: number): void {
    const entry = this.#entries.get(key);
    if (entry) entry.expiresAt = Date.now() + expiresIn * 1000;
  }

  /** The stored payload itself (claim mutates it in place), or undefined once expired. */
  get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  delete(key: string): void {
    const payload = this.#entries.get(key)?.payload;
    this.#entries.delete(key);
    const model = key.slice(0, key.indexOf(':'));
    const accountId = payload && accountOf(model, payload);
    if (accountId === undefined) return;
    const keys = this.#accounts.get(`${model}\n${accountId}`);
    keys?.delete(key);
    if (keys?.size === 0) this.#accounts.delete(`${model}\n${accountId}`);
  }

  accountKeys(model: string, accountId: string): string[] {
    return [...this.#accounts.get(`${model}\n${accountId}`) ?? []];
  }

  deleteGrant(grantId: string): void {
    for (const key of this.#grants.get(grantId) ?? []) this.#entries.delete(key);
    this.#grants.delete(grantId);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const index of [this.uidIndex, this.userCodeIndex]) {
      for (const [key, id] of index) if (!this.#entries.has(`${key.slice(0, key.indexOf(':'))}:${id}`)) index.delete(key);
    }
    for (const sets of [this.#grants, this.#accounts]) {
      for (const [name, keys] of sets) {
        for (const key of keys) if (!this.#entries.has(key)) keys.delete(key);
        if (keys.size === 0) sets.delete(name);
      }
    }
  }
}

function addTo(sets: Map<string, Set<string>>, name: string, key: string): void {
  const keys = sets.get(name) ?? new Set<string>();
  keys.add(key);
  sets.set(name, keys);
}
