// A Lua script run by its SHA1 (EVALSHA) from Redis's script cache, its text sent only when
// that Redis lacks it: the first call on a new server, after a restart, a failover or SCRIPT
// FLUSH, each of which answers NOSCRIPT (the fallback Redis's EVALSHA documentation gives).
// EVAL sent the whole text with every command, and had Redis hash it every time.

import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.ts';

export class LuaScript {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  /** The script's answer for these keys (KEYS) and arguments (ARGV). */
  async run(redis: RedisClient, keys: readonly string[], ...args: string[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
