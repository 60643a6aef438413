// Counting requests in fixed windows, for rate limits: in Redis when Redis is configured
// (so a limit holds across every instance), else in this process. Each key's window starts
// at its first hit and lasts `windowS` seconds.

import { StorageGuard, type StorageObserver } from './errors.ts';
import { LuaScript } from './lua.ts';
import type { RedisClient } from './redis-connection.ts';

export interface Hit {
  /** Hits of the key in its current window, this one included. */
  readonly count: number;
  /** Seconds until the window ends. */
  readonly resetInS: number;
}

export interface Counters {
  hit(key: string, windowS: number): Promise<Hit>;
  /** The key's hits in its current window, without adding one (0 when it has none). */
  count(key: string): Promise<Hit>;
}

/** Keys this process keeps at most; past that, ended windows are swept first. */
const MAX_KEYS = 100_000;

export class MemoryCounters implements Counters {
  readonly #windows = new Map<string, { count: number; endsAt: number }>();

  async hit(key: string, windowS: number): Promise<Hit> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.endsAt <= now) {
      if (this.#windows.size >= MAX_KEYS) this.#sweep(now);
      window = { count: 0, endsAt: now + windowS * 1000 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetInS: Math.ceil((window.endsAt - now) / 1000) };
  }

  async count(key: string): Promise<Hit> {
    const window = this.#windows.get(key);
    const now = Date.now();
    return window && window.endsAt > now ? { count: window.count, resetInS: Math.ceil((window.endsAt - now) / 1000) } : { count: 0, resetInS: 0 };
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key);
    if (this.#windows.size >= MAX_KEYS) this.#windows.clear();
  }
}

/** One key per counter (Cluster-safe): INCR, and the expiry set by the first hit. */
const HIT = new LuaScript(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}`);

/** A key's hits and the seconds left of its window, as one command (a GET and a TTL were two: the token endpoint counts two keys on every request). */
const COUNT = new LuaScript(`
local count = redis.call('GET', KEYS[1])
if not count then return {0, 0} end
return {tonumber(count), redis.call('TTL', KEYS[1])}`);

export class RedisCounters implements Counters {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #guard: StorageGuard;

  constructor(redis: RedisClient, options: { readonly prefix: string; readonly observe?: StorageObserver }) {
    [this.#redis, this.#prefix] = [redis, `${options.prefix}rate:`];
    this.#guard = new StorageGuard('Redis (rate limits)', options.observe);
  }

  hit(key: string, windowS: number): Promise<Hit> {
    return this.#guard.run('hit', async () => {
      const [count, ttl] = await HIT.run(this.#redis, [`${this.#prefix}${key}`], String(windowS)) as [number, number];
      return { count, resetInS: ttl > 0 ? ttl : windowS };
    });
  }

  count(key: string): Promise<Hit> {
    return this.#guard.run('count', async () => {
      const [count, ttl] = await COUNT.run(this.#redis, [`${this.#prefix}${key}`]) as [number, number];
      return { count, resetInS: Math.max(0, ttl) };
    });
  }
}
