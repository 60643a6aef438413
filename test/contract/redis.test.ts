// The contracts against a real redis-server, the same server through a real Sentinel, and
// a real 3-node Redis Cluster.

import test from 'ava';
import { RedisAccountStore } from '../../src/accounts/redis-store.ts';
import { parseRedisUrl } from '../../src/config/config.ts';
import { connectRedis, redisReady, type RedisClient } from '../../src/storage/redis-connection.ts';
import { RedisCounters } from '../../src/storage/counters.ts';
import { RedisStorage } from '../../src/storage/redis.ts';
import {
  startRedis, startRedisCluster, startSentinel, type RedisCluster, type RedisSentinel, type RedisServer,
} from '../helpers/redis.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';
import { countersContract } from './counters-contract.ts';

let server: RedisServer;
let cluster: RedisCluster;
let sentinel: RedisSentinel;
const clients: RedisClient[] = [];
const open = (url: string) => {
  const client = connectRedis(parseRedisUrl('REDIS_URL', url), 2000);
  clients.push(client);
  return client;
};
let single: RedisClient;
let clustered: RedisClient;
let viaSentinel: RedisClient;

test.before(async () => {
  [server, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  sentinel = await startSentinel(server);
  single = open(server.url);
  clustered = open(cluster.url);
  viaSentinel = open(sentinel.url);
  for (const client of [single, clustered, viaSentinel]) if (!await redisReady(client, 10_000)) throw new Error('Redis not ready');
});

test.after.always(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  await Promise.all([server?.stop(), cluster?.stop(), sentinel?.stop()]);
});

adapterContract(test, 'redis', () => new RedisStorage(single, 'contract:'));
accountStoreContract(test, 'redis', () => new RedisAccountStore(single, 'contract:'));
adapterContract(test, 'redis via sentinel', () => new RedisStorage(viaSentinel, 'sentinel:'));
accountStoreContract(test, 'redis via sentinel', () => new RedisAccountStore(viaSentinel, 'sentinel:'));
adapterContract(test, 'redis cluster', () => new RedisStorage(clustered, 'contract:'));
accountStoreContract(test, 'redis cluster', () => new RedisAccountStore(clustered, 'contract:'));
countersContract(test, 'redis', () => new RedisCounters(single, { prefix: 'contract:' }));
countersContract(test, 'redis cluster', () => new RedisCounters(clustered, { prefix: 'contract:' }));
