// The contracts against a real redis-server, the same server through a real Sentinel, and
// a real 3-node Redis Cluster.

import test from 'ava';
import { RedisAccountStore } from '../../src/accounts/redis-store.ts';
import { parseRedisUrl } from '../../src/config/config.ts';
import { connectRedis, redisReady, type RedisClient } from '../../src/storage/redis-connection.ts';
import { RedisCounters } from '../../src/storage/counters.ts';
import { RedisStorage } from '../../src/storage/redis.ts';
import {
  monitor, startRedis, startRedisCluster, startSentinel, type RedisCluster, type RedisSentinel, type RedisServer,
} from '../helpers/redis.ts';
import { until } from '../helpers/wait.ts';
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

// What the records leave in Redis itself, which the contracts above cannot see: each record
// one hash (its payload, and `consumed` only while the payload has one) with the record's
// expiry; each index set living as long as its longest-lived member, and for ever beside a
// record that never expires.
for (const [name, client] of [['redis', () => single], ['redis cluster', () => clustered]] as const) {
  test(`${name} adapter: a record is one hash with its expiry; index sets live as long as their longest member`, async (t) => {
    const prefix = `layout-${name.replace(' ', '-')}:`;
    const redis = client();
    const tokens = new RedisStorage(redis, prefix).adapter('AccessToken');
    await tokens.upsert('t1', { grantId: 'g1', accountId: 'a1', consumed: 5 }, 100);
    t.deepEqual(await redis.hgetall(`${prefix}AccessToken:t1`), { payload: JSON.stringify({ grantId: 'g1', accountId: 'a1', consumed: 5 }), consumed: '5' });
    await tokens.upsert('t1', { grantId: 'g1', accountId: 'a1' }, 100);
    t.deepEqual(await redis.hgetall(`${prefix}AccessToken:t1`), { payload: JSON.stringify({ grantId: 'g1', accountId: 'a1' }) }, 'nothing of the record before stays');
    const ttl = (key: string) => redis.ttl(`${prefix}${key}`);
    t.true(await ttl('AccessToken:t1') > 90 && await ttl('AccessToken:t1') <= 100);
    t.true(await ttl('grant:g1') > 90 && await ttl('grant:g1') <= 100);

    await tokens.upsert('t2', { grantId: 'g1', accountId: 'a1' }, 1000);
    await tokens.upsert('t3', { grantId: 'g1', accountId: 'a1' }, 10);
    t.true(await ttl('grant:g1') > 990, 'the longest member sets it, a shorter one later does not cut it');
    t.deepEqual((await redis.smembers(`${prefix}grant:g1`)).sort(), ['t1', 't2', 't3'].map((id) => `${prefix}AccessToken:${id}`));

    const sessions = new RedisStorage(redis, prefix).adapter('Session');
    await sessions.upsert('s1', { accountId: 'a1', uid: 'u1' }, 50);
    t.true(await ttl('Session:account:a1') > 40 && await ttl('Session:uid:u1') > 40);
    await sessions.upsert('s2', { accountId: 'a1' });
    t.is(await ttl('Session:s2'), -1, 'a record without expiresIn never expires');
    t.is(await ttl('Session:account:a1'), -1, 'nor does the set that names it');
  });
}

// The token endpoint reads two counters (the IP's, the client's) on every request it
// answers: each read is one command from the broker, not a GET and a TTL, and it names its
// script by SHA1 (EVALSHA), the script's text going only to a Redis that lacks it.
test('redis counters: reading a counter is one EVALSHA, whether the key was hit or never was; the script\'s text goes once, and again after SCRIPT FLUSH', async (t) => {
  const own = await startRedis();
  const watching = await monitor(own.port).catch(async (error: unknown) => { await own.stop(); throw error; });
  const redis = connectRedis(parseRedisUrl('REDIS_URL', own.url), 2000);
  let marks = 0;
  /** The commands the client sent while `what` ran (a script's own calls show as [0 lua]): between two echoes of its own. */
  const sent = async (what: () => Promise<unknown>) => {
    const [start, end] = [`"echo" "start-${marks}"`, `"echo" "end-${marks}"`];
    await redis.echo(`start-${marks}`);
    await what();
    await redis.echo(`end-${marks}`);
    marks += 1;
    const lines = (await until('MONITOR saw the end', () => (watching.seen().includes(end) ? watching.seen() : undefined))).split('\n');
    const between = lines.slice(lines.findIndex((line) => line.includes(start)) + 1, lines.findIndex((line) => line.includes(end)));
    return between.filter((line) => !line.includes(' lua] ')).map((line) => /\] "(\w+)"/.exec(line)?.[1]);
  };
  try {
    t.true(await redisReady(redis, 10_000), 'Redis ready');
    const counters = new RedisCounters(redis, { prefix: 'reads:' });
    t.deepEqual(await sent(() => counters.hit('hit', 60)), ['evalsha', 'eval'], 'a new Redis has not the script: it is sent once');
    t.deepEqual(await sent(() => counters.hit('hit', 60)), ['evalsha'], 'then named by its SHA1');
    t.deepEqual(await sent(() => counters.count('never')), ['evalsha', 'eval']);
    t.deepEqual(await sent(async () => {
      t.like(await counters.count('hit'), { count: 2 });
      t.like(await counters.count('never'), { count: 0, resetInS: 0 });
    }), ['evalsha', 'evalsha']);
    await redis.script('FLUSH');
    t.deepEqual(await sent(async () => t.like(await counters.hit('hit', 60), { count: 3 })), ['evalsha', 'eval'], 'a Redis that lost its scripts (a restart, a failover) gets the text again');
  } finally {
    watching.stop();
    await redis.quit().catch(() => redis.disconnect());
    await own.stop();
  }
});
