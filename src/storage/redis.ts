// Protocol state in Redis. Each record is a hash {payload: JSON, consumed?: seconds} at
// `<prefix><model>:<id>`, expiring with the record. Consuming is one Lua script on one
// key, so exactly one of any number of concurrent consumers wins. Writing a record is one
// script too, and adding it to an index set another: a command each where a MULTI of five
// and three commands were (ioredis spends its CPU per command, not per round trip: a login
// cost 15-20 % less CPU on Redis; the README counts what a login sends). Every command touches
// one key, so the same keys work on a Redis Cluster; the grant and account indexes (sets
// of record keys, living as long as their longest record) and the uid/userCode lookups
// are separate keys written alongside the record.

import { ACCOUNT_MODELS, accountOf, GRANT_TOKEN_MODELS, type AccountRecord, type AdapterPayload, type ProtocolStorage, type StorageAdapter } from './adapter.ts';
import { StorageGuard, type StorageObserver } from './errors.ts';
import { LuaScript } from './lua.ts';
import type { RedisClient } from './redis-connection.ts';

/** The record replaced only if it is as it was read: 1 when replaced. KEYS: the record. ARGV: the payload read, the new payload, seconds to a new expiry ('' keeps it). */
const REPLACE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'payload') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[2])
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1`);

/** HSETNX consumed: the payload when this call consumed the record, false when already consumed, nil when missing. */
const CLAIM = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 0 then return false end
return redis.call('HGET', KEYS[1], 'payload')`);

/** The record only where there is none: 1 when this call wrote it. */
const INSERT = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`);

/**
 * The record written whole, in one command: what was there goes (a `consumed` among it),
 * then the payload (and `consumed`, when the payload carries one), then the expiry.
 * KEYS: the record. ARGV: the payload, consumed ('' for none), seconds to live ('' for none).
 */
const UPSERT = new LuaScript(`
redis.call('DEL', KEYS[1])
if ARGV[2] == '' then redis.call('HSET', KEYS[1], 'payload', ARGV[1])
else redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'consumed', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1`);

/**
 * A member added to an index set, which lives as long as its longest-lived member: an
 * expiry set where it has none (NX), lengthened where it is shorter (GT); none at all for
 * a member that never expires. KEYS: the set. ARGV: the member, seconds to live ('' for none).
 */
const ADD_TO_SET = new LuaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[1])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
  redis.call('EXPIRE', KEYS[1], ARGV[2], 'GT')
end
return 1`);

/** Readiness: Redis answers, and runs the broker's scripts. */
const PING = new LuaScript(`return 'PONG'`);

const STORE = 'Redis';

class RedisAdapter implements StorageAdapter {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #model: string;
  readonly #guard: StorageGuard;

  constructor(redis: RedisClient, prefix: string, model: string, guard: StorageGuard) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#model = model;
    this.#guard = guard;
  }

  #key(id: string): string {
    return `${this.#prefix}${this.#model}:${id}`;
  }

  /** One of the adapter's operations, named with its model for the observer (`find Session`). */
  #run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.#guard.run(`${operation} ${this.#model}`, call);
  }

  #index(kind: 'uid' | 'userCode' | 'grant' | 'account', value: string): string {
    return `${this.#prefix}${kind === 'grant' ? 'grant' : `${this.#model}:${kind}`}:${value}`;
  }

  /** Adds `key` to the set `index`, which lives as long as its longest-lived member. */
  #addToSet(index: string, key: string, ttl: number | undefined): Promise<unknown> {
    return ADD_TO_SET.run(this.#redis, [index], key, ttl ? String(ttl) : '');
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return this.#run('upsert', async () => {
      const key = this.#key(id);
      // expiresIn 0 (or less) is a record that has already expired, not one that never does.
      if (expiresIn !== undefined && expiresIn <= 0) {
        await this.#redis.del(key);
        return;
      }
      const ttl = expiresIn === undefined ? undefined : Math.ceil(expiresIn);
      const consumed = payload.consumed ? String(payload.consumed) : '';
      const writes: Array<Promise<unknown>> = [UPSERT.run(this.#redis, [key], JSON.stringify(payload), consumed, ttl ? String(ttl) : '')];
      const indexes: Array<['uid' | 'userCode', unknown]> = [['uid', payload.uid], ['userCode', payload.userCode]];
      for (const [kind, value] of indexes) {
        if (typeof value === 'string') {
          writes.push(ttl ? this.#redis.set(this.#index(kind, value), id, 'EX', ttl) : this.#redis.set(this.#index(kind, value), id));
        }
      }
      if (typeof payload.grantId === 'string' && GRANT_TOKEN_MODELS.has(this.#model)) {
        writes.push(this.#addToSet(this.#index('grant', payload.grantId), key, ttl));
      }
      const accountId = accountOf(this.#model, payload);
      if (accountId !== undefined) writes.push(this.#addToSet(this.#index('account', accountId), id, ttl));
      await Promise.all(writes);
    });
  }

  insert(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    return this.#run('insert', async () => {
      const ttl = String(Math.max(1, Math.ceil(expiresIn)));
      return await INSERT.run(this.#redis, [this.#key(id)], JSON.stringify(payload), ttl) === 1;
    });
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.#run('find', () => this.#read(id));
  }

  async #read(id: string): Promise<AdapterPayload | undefined> {
    const { payload, consumed } = await this.#redis.hgetall(this.#key(id));
    if (!payload) return undefined;
    const parsed = JSON.parse(payload) as AdapterPayload;
    return consumed ? { ...parsed, consumed: Number(consumed) } : parsed;
  }

  async #findByIndex(kind: 'uid' | 'userCode', value: string): Promise<AdapterPayload | undefined> {
    const id = await this.#run(kind === 'uid' ? 'findByUid' : 'findByUserCode', () => this.#redis.get(this.#index(kind, value)));
    return id ? this.find(id) : undefined;
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findByIndex('uid', uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findByIndex('userCode', userCode);
  }

  claim(id: string): Promise<AdapterPayload | undefined> {
    return this.#run('claim', async () => {
      const consumed = Math.floor(Date.now() / 1000);
      const payload = await CLAIM.run(this.#redis, [this.#key(id)], String(consumed)) as string | null;
      return payload ? { ...JSON.parse(payload) as AdapterPayload, consumed } : undefined;
    });
  }

  /** HSET keeps the key's expiry. */
  replaceIfUnchanged(id: string, seen: AdapterPayload, payload: AdapterPayload, expiresIn?: number): Promise<boolean> {
    const ttl = expiresIn === undefined ? '' : String(Math.max(1, Math.ceil(expiresIn)));
    return this.#run('replaceIfUnchanged', async () => await REPLACE.run(this.#redis, [this.#key(id)], JSON.stringify(seen), JSON.stringify(payload), ttl) === 1);
  }

  /** Also takes the record out of its account's set (an empty set is gone: nothing names the person). */
  destroy(id: string): Promise<void> {
    return this.#run('destroy', async () => {
      const payload = ACCOUNT_MODELS.has(this.#model) ? await this.#read(id) : undefined;
      await this.#redis.del(this.#key(id));
      const accountId = payload && accountOf(this.#model, payload);
      if (accountId !== undefined) await this.#redis.srem(this.#index('account', accountId), id);
    });
  }

  findByAccount(accountId: string): Promise<AccountRecord[]> {
    return this.#run('findByAccount', async () => {
      if (!accountOf(this.#model, { accountId })) return [];
      const ids = await this.#redis.smembers(this.#index('account', accountId));
      const records = await Promise.all(ids.map(async (id) => ({ id, payload: await this.#read(id) })));
      // The set may name a record since destroyed, or reused for someone else.
      return records.filter((record): record is AccountRecord => record.payload?.accountId === accountId);
    });
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.#run('revokeByGrantId', async () => {
      const grant = this.#index('grant', grantId);
      const keys = await this.#redis.smembers(grant);
      // One DEL per key: the keys of a grant live in different Cluster slots.
      await Promise.all([...keys, grant].map((key) => this.#redis.del(key)));
    });
  }
}

export class RedisStorage implements ProtocolStorage {
  readonly kind = 'redis';
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #guard: StorageGuard;

  constructor(redis: RedisClient, prefix: string, observe?: StorageObserver) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#guard = new StorageGuard(STORE, observe);
  }

  adapter(model: string): StorageAdapter {
    return new RedisAdapter(this.#redis, this.#prefix, model, this.#guard);
  }

  /**
   * A script rather than PING: the broker's writes and rate limits are scripts, so a Redis
   * user whose ACL refuses EVALSHA or EVAL (NOPERM) is not ready, instead of ready and failing
   * every login.
   */
  ping(): Promise<void> {
    return this.#guard.run('ping', async () => {
      await PING.run(this.#redis, []);
    });
  }

}
