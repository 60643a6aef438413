// Composition: which store holds what, decided once when the broker is built.
//   protocol state (oidc-provider's records and the broker's login attempts):
//     Redis if REDIS_URL, else MongoDB if MONGODB_URI, else memory;
//   accounts, and the records as durable as them (a platform's authorizations):
//     MongoDB if MONGODB_URI, else Redis if REDIS_URL, else memory.
// The connections are opened and closed here; the stores only use them.

import { MemoryAccountStore } from './accounts/memory-store.ts';
import { RedisAccountStore } from './accounts/redis-store.ts';
import type { AccountStore } from './accounts/store.ts';
import type { StorageSettings } from './config/config.ts';
import type { Logger } from './log.ts';
import type { ProtocolStorage, StorageKind } from './storage/adapter.ts';
import { MemoryCounters, RedisCounters, type Counters } from './storage/counters.ts';
import type { StorageObserver } from './storage/errors.ts';
import { MemoryStorage } from './storage/memory.ts';
import type { MongoConnection } from './storage/mongodb-connection.ts';
import type { RedisClient } from './storage/redis-connection.ts';
import { RedisStorage } from './storage/redis.ts';

export interface Stores {
  readonly protocol: ProtocolStorage;
  /** Records that must outlive protocol state (a platform's authorizations): where the accounts are. */
  readonly durable: ProtocolStorage;
  /** Rate-limit counters: in Redis when there is one, so limits hold across instances. */
  readonly counters: Counters;
  readonly accounts: AccountStore;
  readonly accountsKind: StorageKind;
  /**
   * One of Redis's settings (`CONFIG GET`), for the doctor: undefined without Redis, or where
   * CONFIG is not allowed (a managed Redis; a cluster answers for one node only, so not asked).
   */
  redisSetting(name: string): Promise<string | undefined>;
  /** Resolves when every store in use answers (and MongoDB is set up); rejects otherwise. */
  ping(): Promise<void>;
  /** Waits (at most `timeoutMs`) for the first connections; false when they are not up yet. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreEvents {
  readonly log: Logger;
  readonly observe: StorageObserver;
  /** The storage can never work as configured: the broker must stop, with this line. */
  readonly fatal: (message: string) => void;
}

// The drivers load only where they are configured: MongoDB's and Redis's clients are tens
// of MiB of memory each (measured: about 30 and 20) that a broker without them never needs.

/** MongoDB's connection and the stores on it, when MONGODB_URI is set. */
async function mongoFamily(settings: StorageSettings, events: StoreEvents) {
  if (!settings.mongodbUri) return undefined;
  const [{ MongoConnection }, { MongoStorage }, { MongoAccountStore }] = await Promise.all([
    import('./storage/mongodb-connection.ts'), import('./storage/mongodb.ts'), import('./accounts/mongodb-store.ts'),
  ]);
  const { log } = events;
  const connection: MongoConnection = new MongoConnection({ uri: settings.mongodbUri, timeoutMs: settings.timeoutMs }, {
    onProblem: (message) => log.warn({ store: 'mongodb' }, message),
    onReady: (message = 'MongoDB connected, indexes ready') => log.info({ store: 'mongodb' }, message),
    onFatal: events.fatal,
  }, events.observe);
  return { connection, storage: () => new MongoStorage(connection), accounts: () => new MongoAccountStore(connection) };
}

/** The Redis client, when REDIS_URL is set. */
async function redisFamily(settings: StorageSettings, log: Logger) {
  if (!settings.redis) return undefined;
  const { connectRedis, redisReady } = await import('./storage/redis-connection.ts');
  const client: RedisClient = connectRedis(settings.redis, settings.timeoutMs);
  client.on('error', (error: Error) => log.warn({ store: 'redis', reason: error.message }, 'Redis connection problem'));
  return { client, ready: (timeoutMs: number) => redisReady(client, timeoutMs) };
}

type MongoFamily = NonNullable<Awaited<ReturnType<typeof mongoFamily>>>;

function chooseAccounts(redis: RedisClient | undefined, mongo: MongoFamily | undefined, prefix: string, observe: StorageObserver) {
  if (mongo) return { accounts: mongo.accounts(), accountsKind: 'mongodb' as const };
  if (redis) return { accounts: new RedisAccountStore(redis, prefix, observe), accountsKind: 'redis' as const };
  return { accounts: new MemoryAccountStore(), accountsKind: 'memory' as const };
}

export async function openStores(settings: StorageSettings, events: StoreEvents): Promise<Stores> {
  const { log, observe } = events;
  const [redisOf, mongoOf] = await Promise.all([redisFamily(settings, log), mongoFamily(settings, events)]);
  const redis = redisOf?.client;
  const mongo = mongoOf?.connection;
  const protocol = redis ? new RedisStorage(redis, settings.redisPrefix, observe) : mongoOf ? mongoOf.storage() : new MemoryStorage();
  const counters = redis ? new RedisCounters(redis, { prefix: settings.redisPrefix, observe }) : new MemoryCounters();
  // MongoDB, when configured, holds the accounts: records as durable as they go there too.
  const durable = mongoOf && protocol.kind !== 'mongodb' ? mongoOf.storage() : protocol;
  const stores = { protocol, durable, counters, ...chooseAccounts(redis, mongoOf, settings.redisPrefix, observe) };
  // Every store has registered its setup steps: now connect.
  mongo?.start();
  return {
    ...stores,
    async redisSetting(name) {
      if (!redis || !('config' in redis)) return undefined;
      const answer = await (redis.config('GET', name) as Promise<unknown>).catch(() => undefined);
      return Array.isArray(answer) && typeof answer[1] === 'string' ? answer[1] : undefined;
    },
    async ping() {
      await Promise.all([protocol.ping(), protocol.kind === 'mongodb' ? undefined : mongo?.ping()]);
    },
    // Redis answering, and MongoDB connected with its setup done (its indexes exist): what a
    // store needs before a write, so that a CLI run does not start before it.
    ready: async (timeoutMs) => (await Promise.all([redisOf ? redisOf.ready(timeoutMs) : true, mongo ? mongo.whenReady(timeoutMs) : true])).every(Boolean),
    async close() {
      if (protocol instanceof MemoryStorage) protocol.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await mongo?.close();
    },
  };
}

/**
 * What the doctor checks of the stores (diagnostics/): those in use besides memory and
 * whether they answer (`answers`, rejecting with why), and Redis's settings where Redis
 * keeps the accounts.
 */
export function storesForDoctor(stores: Stores, answers: () => Promise<void>) {
  const kinds = [...new Set([stores.protocol.kind, stores.accountsKind])].filter((kind) => kind !== 'memory');
  return {
    ...(kinds.length ? { storage: { kinds: kinds.join(', '), answers } } : {}),
    ...(stores.accountsKind === 'redis' ? { redisSetting: (name: string) => stores.redisSetting(name) } : {}),
    // Accounts in memory are the running broker's alone: another process sees none.
    ...(stores.accountsKind === 'memory' ? {} : { accounts: stores.accounts }),
  };
}
