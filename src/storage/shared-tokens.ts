// Tokens an upstream issues with a daily quota (a platform's component_access_token, an
// Official Account's access token), kept in shared storage with their expiry so every
// instance and a restart use the same one. A token is fetched only when none has
// `renewBeforeMs` left to live, and by one instance at a time, holding a lock in the same
// storage (Redis when Redis is configured); the others keep using the token in force, or
// wait (bounded) for the holder's.

import { randomUUID } from 'node:crypto';
import type { StorageAdapter } from './adapter.ts';

export interface FreshToken {
  readonly token: string;
  /** Seconds it lives. */
  readonly expiresIn: number;
}

interface StoredToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export interface SharedTokenOptions {
  /** A token with less left than this is renewed. */
  readonly renewBeforeMs: number;
  /** Longer than one fetch may take; a crashed holder frees the lock then. */
  readonly lockTtlS: number;
  /** How long an instance without a usable token waits for the holder's. */
  readonly waitMs: number;
}

/** Nobody finished fetching a token in time. */
export class SharedTokenTimeoutError extends Error {
  readonly code = 'SHARED_TOKEN_TIMEOUT';
}

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SharedTokens {
  readonly #kind: string;
  readonly #tokens: StorageAdapter;
  readonly #locks: StorageAdapter;
  readonly #options: SharedTokenOptions;

  /** `kind` names the tokens' model: they are kept in its adapter, and their locks in `locks` under `<kind>:<key>`. */
  constructor(kind: string, storage: { adapter(model: string): StorageAdapter }, locks: StorageAdapter, options: SharedTokenOptions) {
    [this.#kind, this.#tokens, this.#locks, this.#options] = [kind, storage.adapter(kind), locks, options];
  }

  /** Whether a token is in force for `key`. */
  async has(key: string): Promise<boolean> {
    return (await this.#stored(key)) !== undefined;
  }

  /** A token with at least `renewBeforeMs` to live, fetched with `fetch` when there is none. */
  async get(key: string, fetch: () => Promise<FreshToken>): Promise<string> {
    const current = await this.#stored(key);
    if (current && current.expiresAt - Date.now() > this.#options.renewBeforeMs) return current.token;
    return this.#renew(key, fetch, current?.token, current);
  }

  /** A token other than `refused` (the upstream just refused it): fetched unless another instance already did. */
  async #replace(key: string, refused: string, fetch: () => Promise<FreshToken>): Promise<string> {
    const current = await this.#stored(key);
    if (current && current.token !== refused) return current.token;
    return this.#renew(key, fetch, refused, undefined);
  }

  /**
   * `call` with the token; when `refused(error)` says the upstream refused it, once more
   * with a replacement (fetched unless another instance already did).
   */
  async use<T>(key: string, fetch: () => Promise<FreshToken>, call: (token: string) => Promise<T>, refused: (error: unknown) => boolean): Promise<T> {
    const token = await this.get(key, fetch);
    try {
      return await call(token);
    } catch (error) {
      if (!refused(error)) throw error;
      return call(await this.#replace(key, token, fetch));
    }
  }

  async #stored(key: string): Promise<StoredToken | undefined> {
    const stored = await this.#tokens.find(key);
    return typeof stored?.token === 'string' && typeof stored.expiresAt === 'number' && stored.expiresAt > Date.now()
      ? { token: stored.token, expiresAt: stored.expiresAt } : undefined;
  }

  /** A token other than `stale`, fetched by whichever instance takes the lock; the others use `inForce` or wait. */
  async #renew(key: string, fetch: () => Promise<FreshToken>, stale: string | undefined, inForce: StoredToken | undefined): Promise<string> {
    const lock = `${this.#kind}:${key}`;
    const deadline = Date.now() + this.#options.waitMs;
    for (;;) {
      const owner = randomUUID();
      if (await this.#locks.insert(lock, { at: Date.now(), owner }, this.#options.lockTtlS)) {
        try {
          return await this.#fetch(key, fetch, stale);
        } finally {
          await this.#release(lock, owner);
        }
      }
      if (inForce) return inForce.token;
      const stored = await this.#stored(key);
      if (stored && stored.token !== stale) return stored.token;
      if (Date.now() >= deadline) throw new SharedTokenTimeoutError(`another instance is fetching the token for ${key} and has not finished`);
      await sleep(POLL_MS);
    }
  }

  /** Releases the lock if this call still holds it: a fetch that outlived the lock's TTL must not remove another instance's. */
  async #release(lock: string, owner: string): Promise<void> {
    if ((await this.#locks.find(lock))?.owner === owner) await this.#locks.destroy(lock);
  }

  async #fetch(key: string, fetch: () => Promise<FreshToken>, stale: string | undefined): Promise<string> {
    // Another instance may have renewed between this one's read and its lock.
    const now = await this.#stored(key);
    if (now && now.token !== stale && now.expiresAt - Date.now() > this.#options.renewBeforeMs) return now.token;
    const fresh = await fetch();
    await this.#tokens.upsert(key, { token: fresh.token, expiresAt: Date.now() + fresh.expiresIn * 1000 }, fresh.expiresIn);
    return fresh.token;
  }
}
