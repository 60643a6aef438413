// Which store holds what, decided once:
//   protocol state (oidc-provider's records and the broker's login states):
//     Redis if REDIS_URL, else MongoDB if MONGODB_URI, else memory;
//   accounts: MongoDB if MONGODB_URI, else Redis if REDIS_URL, else memory.

import { MongoClient } from 'mongodb';
import { MemoryAccountStore } from '../accounts/memory-store.ts';
import { MongoAccountStore } from '../accounts/mongodb-store.ts';
import { RedisAccountStore } from '../accounts/redis-store.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { StorageSettings } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { ProtocolStorage, StorageKind } from './adapter.ts';
import { guarded } from './errors.ts';
import { MemoryStorage } from './memory.ts';
import { MongoStorage } from './mongodb.ts';
import { connectRedis, redisReady, type RedisClient } from './redis-connection.ts';
import { RedisStorage } from './redis.ts';

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

export function openStores(settings: StorageSettings, log: Logger): Stores {
  const redis: RedisClient | undefined = settings.redis && connectRedis(settings.redis, settings.timeoutMs);
  redis?.on('error', (error: Error) => log.warn({ store: 'redis', reason: error.message }, 'Redis connection problem'));
  const mongo = settings.mongodbUri
    ? new MongoClient(settings.mongodbUri, {
      serverSelectionTimeoutMS: settings.timeoutMs,
      connectTimeoutMS: settings.timeoutMs,
      socketTimeoutMS: Math.max(settings.timeoutMs * 5, 10_000),
      appName: 'wechat-oidc-broker',
    })
    : undefined;
  const db = mongo?.db(mongoDbName(settings.mongodbUri!));

  const protocol: ProtocolStorage = redis ? new RedisStorage(redis, settings.redisPrefix)
    : db ? new MongoStorage(db) : new MemoryStorage();

  let accounts: AccountStore;
  let accountsKind: StorageKind;
  if (mongo && db) {
    const store = new MongoAccountStore(mongo, db);
    initAccountIndexes(store, log);
    [accounts, accountsKind] = [store, 'mongodb'];
  } else if (redis) {
    [accounts, accountsKind] = [new RedisAccountStore(redis, settings.redisPrefix), 'redis'];
  } else {
    [accounts, accountsKind] = [new MemoryAccountStore(), 'memory'];
  }

  return {
    protocol,
    accounts,
    accountsKind,
    async ping() {
      const mongoAccounts = db && protocol.kind !== 'mongodb'
        ? guarded('MongoDB', async () => { await db.command({ ping: 1 }); }) : undefined;
      await Promise.all([protocol.ping(), mongoAccounts]);
    },
    async ready(timeoutMs) {
      return redis ? redisReady(redis, timeoutMs) : true;
    },
    async close() {
      await Promise.all([protocol.close(), accounts.close()]);
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await mongo?.close();
    },
  };
}
