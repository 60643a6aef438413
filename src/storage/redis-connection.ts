// One ioredis client for a RedisTarget (server, Sentinel or Cluster), set to fail fast:
// no offline queue, a command timeout, and reconnection forever in the background.

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-url.ts';

export type RedisClient = Redis | Cluster;

export function connectRedis(target: RedisTarget, timeoutMs: number): RedisClient {
  const common: RedisOptions = {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
    // Named, so operators (and the tests) can tell the broker's connections in CLIENT LIST and MONITOR.
    connectionName: 'wechat-oidc-broker',
  };
  switch (target.kind) {
    case 'standalone':
      return new Redis(target.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
        name: target.name,
        password: target.password,
        db: target.db,
        ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
    case 'cluster':
      return new Cluster(target.nodes.map(({ host, port }) => ({ host, port })), {
        redisOptions: { ...common, password: target.password, ...(target.tls ? { tls: {} } : {}) },
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      });
  }
}

/** Resolves when the client is connected (true) or `timeoutMs` passed (false). */
export function redisReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { client.off('ready', onReady); resolve(false); }, timeoutMs);
    timer.unref();
    const onReady = () => { clearTimeout(timer); resolve(true); };
    client.once('ready', onReady);
  });
}
