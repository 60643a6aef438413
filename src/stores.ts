// Composition: which store holds what, decided once when the broker is built.
//   protocol state (oidc-provider's records and the broker's login attempts):
//     Redis if REDIS_URL, else MongoDB if MONGODB_URI, else memory;
//   accounts: MongoDB if MONGODB_URI, else Redis if REDIS_URL, else memory.
// The connections are opened and closed here; the stores only use them.

import { MongoClient, type Db } from 'mongodb';
import { MemoryAccountStore } from './accounts/memory-store.ts';
import { MongoAccountStore } from './accounts/mongodb-store.ts';
import { RedisAccountStore } from './accounts/redis-store.ts';
import type { AccountStore } from './accounts/store.ts';
import type { StorageSettings } from './config/config.ts';
import type { Logger } from './log.ts';
import type { ProtocolStorage, StorageKind } from './storage/adapter.ts';
import { StorageGuard, type StorageObserver } from './storage/errors.ts';
import { MemoryStorage } from './storage/memory.ts';
import { MongoStorage } from './storage/mongodb.ts';
import { connectRedis, redisReady, type RedisClient } from './storage/redis-connection.ts';
import { RedisStorage } from './storage/redis.ts';

const DEFAULT_MONGODB_DB = 'wechat_broker';
const INDEX_RETRY_MS = 5000;

export interface Stores {
  readonly protocol: ProtocolStorage;
  readonly accounts: AccountStore;
  readonly accountsKind: StorageKind;
  /** Resolves when every store in use answers. */
  ping(): Promise<void>;
  /** Waits (at most `timeoutMs`) for the first connections; false when they are not up yet. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

function mongoDbName(uri: string): string {
  return /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri)?.[1] ?? DEFAULT_MONGODB_DB;
}

/** Unique indexes first: retried in the background while MongoDB is unreachable. */
function initAccountIndexes(store: MongoAccountStore, log: Logger): void {
  const attempt = () => {
    store.init()
      .then(() => log.info('MongoDB account indexes ready'))
      .catch((error: unknown) => {
        log.error({ err: error }, 'cannot create the MongoDB account indexes yet; retrying');
        setTimeout(attempt, INDEX_RETRY_MS).unref();
      });
  };
  attempt();
}

function connectMongo(settings: StorageSettings): { client: MongoClient; db: Db } | undefined {
  if (!settings.mongodbUri) return undefined;
  const client = new MongoClient(settings.mongodbUri, {
    serverSelectionTimeoutMS: settings.timeoutMs,
    connectTimeoutMS: settings.timeoutMs,
    socketTimeoutMS: Math.max(settings.timeoutMs * 5, 10_000),
    appName: 'wechat-oidc-broker',
  });
  return { client, db: client.db(mongoDbName(settings.mongodbUri)) };
}

/** MongoDB's ping, for readiness when it holds the accounts only. */
function pingMongo(db: Db, observe: StorageObserver): () => Promise<void> {
  const guard = new StorageGuard('MongoDB', observe);
  return () => guard.run(async () => { await db.command({ ping: 1 }); });
}

interface Connections {
  readonly redis: RedisClient | undefined;
  readonly mongo: { client: MongoClient; db: Db } | undefined;
}

function chooseAccounts({ redis, mongo }: Connections, prefix: string, log: Logger, observe: StorageObserver) {
  if (mongo) {
    const store = new MongoAccountStore(mongo.client, mongo.db, observe);
    initAccountIndexes(store, log);
    return { accounts: store, accountsKind: 'mongodb' as const };
  }
  if (redis) return { accounts: new RedisAccountStore(redis, prefix, observe), accountsKind: 'redis' as const };
  return { accounts: new MemoryAccountStore(), accountsKind: 'memory' as const };
}

export function openStores(settings: StorageSettings, log: Logger, observe: StorageObserver): Stores {
  const redis = settings.redis && connectRedis(settings.redis, settings.timeoutMs);
  redis?.on('error', (error: Error) => log.warn({ store: 'redis', reason: error.message }, 'Redis connection problem'));
  const mongo = connectMongo(settings);
  const protocol = redis ? new RedisStorage(redis, settings.redisPrefix, observe)
    : mongo ? new MongoStorage(mongo.db, observe) : new MemoryStorage();
  const mongoPing = mongo && protocol.kind !== 'mongodb' ? pingMongo(mongo.db, observe) : undefined;
  return {
    protocol,
    ...chooseAccounts({ redis, mongo }, settings.redisPrefix, log, observe),
    async ping() {
      await Promise.all([protocol.ping(), mongoPing?.()]);
    },
    ready: async (timeoutMs) => (redis ? redisReady(redis, timeoutMs) : true),
    async close() {
      if (protocol instanceof MemoryStorage) protocol.close();
      if (protocol instanceof MongoStorage) await protocol.settle();
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await mongo?.client.close();
    },
  };
}
