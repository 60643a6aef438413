// One MongoDB connection for the broker's stores, owned here rather than left to the
// driver's implicit connect: when the first implicit connect fails, the driver closes the
// topology it made and keeps it, and every later operation fails at once with
// MongoTopologyClosedError until a restart. So the broker connects explicitly, retries
// with backoff (each `connect()` after a failure opens a new topology), checks the
// deployment once it answers, and runs the stores' setup steps (indexes, migrations)
// until each has succeeded. Readiness is true only then.
//
// Timeouts, chosen so that a replica set election does not turn into errors:
//   serverSelectionTimeoutMS 12 s  an election takes up to electionTimeoutMillis (10 s by
//                                  default) plus a heartbeat; operations wait for the new
//                                  primary rather than fail, and retryable reads and
//                                  writes (the driver's default) are retried on it once;
//   connectTimeoutMS               STORAGE_TIMEOUT_MS, for a socket to a reachable host;
//   socketTimeoutMS                5 × STORAGE_TIMEOUT_MS (at least 10 s), for a stalled socket.
// /readyz pings with readPreference primaryPreferred, so a secondary answering during an
// election keeps an instance ready.

import { MongoClient, type Collection, type Db, type Document } from 'mongodb';
import { StorageGuard, StorageUnavailableError, type StorageObserver } from './errors.ts';

const STORE = 'MongoDB';
const DEFAULT_DB = 'wechat_broker';
export const SERVER_SELECTION_TIMEOUT_MS = 12_000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

/** A step a store needs once per connection before it may serve (indexes, migrations). */
export type SetupStep = (db: Db) => Promise<void>;

export interface MongoSettings {
  readonly uri: string;
  readonly timeoutMs: number;
}

/** What the connection tells the operator. */
export interface MongoEvents {
  readonly onProblem: (message: string, error?: unknown) => void;
  /** Connected and set up; or, with a message, a server answers again. */
  readonly onReady: (message?: string) => void;
  /** The deployment can never work (a standalone server): the broker must not run on it. */
  readonly onFatal: (message: string) => void;
}

function dbName(uri: string): string {
  return /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri)?.[1] ?? DEFAULT_DB;
}

/**
 * Merges run in a transaction, which needs a replica set (or a sharded cluster): a
 * standalone server would fail the first merge only, locking that person out.
 */
async function checkDeployment(db: Db): Promise<string | undefined> {
  const hello = await db.admin().command({ hello: 1 });
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return undefined;
  return 'MONGODB_URI names a standalone server: the broker needs a replica set (merging accounts is a transaction); see README, "Storage"';
}

export class MongoConnection {
  readonly #guard: StorageGuard;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #steps = new Map<string, { step: SetupStep; done: boolean }>();
  readonly #events: MongoEvents;
  #connected = false;
  #closed = false;
  /** Settles once: true when connected and set up, false when the deployment can never work. */
  readonly #settled = Promise.withResolvers<boolean>();
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: MongoSettings, events: MongoEvents, observe?: StorageObserver) {
    this.#client = new MongoClient(settings.uri, {
      serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
      connectTimeoutMS: settings.timeoutMs,
      socketTimeoutMS: Math.max(settings.timeoutMs * 5, 10_000),
      // Absent values are left out of documents, never written as null (the stores also
      // build documents without them; this is the second line).
      ignoreUndefined: true,
      appName: 'wechat-oidc-broker',
    });
    this.#db = this.#client.db(dbName(settings.uri));
    this.#events = events;
    this.#watchServers();
    this.#guard = new StorageGuard(STORE, observe);
  }

  /** Tells the operator when a server stops answering and when it answers again. */
  #watchServers(): void {
    this.#client.on('serverDescriptionChanged', ({ address, previousDescription, newDescription }) => {
      const was = previousDescription.type !== 'Unknown';
      const is = newDescription.type !== 'Unknown';
      if (was && !is) this.#events.onProblem(`MongoDB server ${address} stopped answering (${newDescription.error?.message ?? 'no reason given'})`);
      if (!was && is && this.#connected) this.#events.onReady(`MongoDB server ${address} answers again`);
    });
  }

  /** Registers a setup step; it runs at every (re)connection until it succeeds. */
  setup(name: string, step: SetupStep): void {
    this.#steps.set(name, { step, done: false });
  }

  /** Whether setup step `name` has succeeded: until then its store refuses what needs it. */
  isSetUp(name: string): boolean {
    return this.#steps.get(name)?.done === true;
  }

  collection<T extends Document>(name: string): Collection<T> {
    return this.#db.collection<T>(name);
  }

  get client(): MongoClient {
    return this.#client;
  }

  /** Starts connecting in the background; retries with backoff until connected and set up. */
  start(): void {
    void this.#attempt(RETRY_FIRST_MS);
  }

  async #attempt(delayMs: number): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#connectAndSetUp();
      if (this.#closed) return;
      this.#settled.resolve(true);
      this.#events.onReady();
    } catch (error) {
      if (this.#closed) return;
      this.#events.onProblem(`MongoDB is not ready yet (${error instanceof Error ? error.message : String(error)}); retrying in ${delayMs} ms`, error);
      this.#timer = setTimeout(() => void this.#attempt(Math.min(delayMs * 2, RETRY_MAX_MS)), delayMs);
      this.#timer.unref();
    }
  }

  async #connectAndSetUp(): Promise<void> {
    if (!this.#connected) {
      await this.#client.connect();
      const fatal = await checkDeployment(this.#db);
      if (fatal) {
        this.#closed = true;
        this.#settled.resolve(false);
        this.#events.onFatal(fatal);
        return;
      }
      this.#connected = true;
    }
    for (const entry of this.#steps.values()) {
      if (entry.done) continue;
      await entry.step(this.#db);
      entry.done = true;
    }
  }

  /**
   * Runs one store operation (`operation`: what it is, for the metrics' observer). Before the first connection it fails at once (a request
   * gets a clear 503 rather than waiting out server selection); after it, the driver
   * waits for a primary, elections included.
   */
  run<T>(operation: string, call: () => Promise<T>, isAnswer?: (error: unknown) => boolean): Promise<T> {
    if (!this.#connected) return this.#guard.run(operation, () => Promise.reject(new StorageUnavailableError(STORE, 'not connected yet')));
    return this.#guard.run(operation, call, isAnswer);
  }

  /** Whether MongoDB got connected and set up within `timeoutMs` (false at once for a deployment that can never work). */
  async whenReady(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      return await Promise.race([this.#settled.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when MongoDB is connected, set up and answering; rejects with why not otherwise. */
  ping(): Promise<void> {
    return this.#guard.run('ping', async () => {
      if (!this.#connected) throw new StorageUnavailableError(STORE, 'not connected yet');
      const pending = [...this.#steps].filter(([, entry]) => !entry.done).map(([name]) => name);
      if (pending.length) throw new StorageUnavailableError(STORE, `not set up yet: ${pending.join(', ')}`);
      await this.#db.command({ ping: 1 }, { readPreference: 'primaryPreferred' });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#client.close();
  }
}
