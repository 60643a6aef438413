// The stores a race between two writers is tried on: memory, and a real Redis (each with
// its own compare-and-replace). MongoDB's runs with the contract suite, when MONGODB_URI is set.

import type { TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { parseRedisUrl } from '../../src/config/redis-url.ts';
import type { ProtocolStorage } from '../../src/storage/adapter.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { connectRedis, redisReady, type RedisClient } from '../../src/storage/redis-connection.ts';
import { RedisStorage } from '../../src/storage/redis.ts';
import { startRedis, type RedisServer } from './redis.ts';

/** Registers the file's Redis (started before its tests, stopped after); each store by name, new each call. */
export function raceStores(test: TestFn): Array<readonly [string, () => ProtocolStorage]> {
  let redis: RedisServer | undefined;
  let client: RedisClient | undefined;
  test.before(async () => {
    redis = await startRedis();
    client = connectRedis(parseRedisUrl('REDIS_URL', redis.url), 5000);
    if (!await redisReady(client, 60_000)) throw new Error('Redis not ready');
  });
  test.after.always(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  return [['memory', () => new MemoryStorage()], ['Redis', () => new RedisStorage(client!, `race-${randomUUID()}:`, () => undefined)]];
}
