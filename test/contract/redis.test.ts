// The contracts against a real redis-server and a real 3-node Redis Cluster.

import test from 'ava';
import { RedisAccountStore } from '../../src/accounts/redis-store.ts';
import { parseRedisUrl } from '../../src/config/config.ts';
import { connectRedis, redisReady, type RedisClient } from '../../src/storage/redis-connection.ts';
import { RedisStorage } from '../../src/storage/redis.ts';
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../helpers/redis.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';

let server: RedisServer;
let cluster: RedisCluster;
const clients: RedisClient[] = [];
const open = (url: string) => {
  const client = connectRedis(parseRedisUrl('REDIS_URL', url), 2000);
  clients.push(client);
  return client;
};
let single: RedisClient;
let clustered: RedisClient;

test.before(async () => {
  [server, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  single = open(server.url);
  clustered = open(cluster.url);
  for (const client of [single, clustered]) if (!await redisReady(client, 10_000)) throw new Error('Redis not ready');
});

test.after.always(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  await Promise.all([server?.stop(), cluster?.stop()]);
});

adapterContract(test, 'redis', () => new RedisStorage(single, 'contract:'));
accountStoreContract(test, 'redis', () => new RedisAccountStore(single, 'contract:'));
adapterContract(test, 'redis cluster', () => new RedisStorage(clustered, 'contract:'));
accountStoreContract(test, 'redis cluster', () => new RedisAccountStore(clustered, 'contract:'));
