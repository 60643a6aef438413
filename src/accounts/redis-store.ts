// Accounts in Redis. An account and its index keys (unionid, each appid+openid) are
// checked and written by one Lua script, so the store itself refuses a second account
// for a person. All account keys share the `{accounts}` hash tag: on a Redis Cluster they
// live in one slot, which is what lets one script touch them together.
// Accounts are long-lived data: run Redis with AOF (appendonly yes) when it holds them.

import type { Account, AccountId, Identity } from './account.ts';
import { AccountConflictError, type AccountStore } from './store.ts';
import { StorageGuard, type StorageObserver } from '../storage/errors.ts';
import type { RedisClient } from '../storage/redis-connection.ts';
import type { Unionid } from '../wechat/types.ts';

const STORE = 'Redis (accounts)';
const MAX_ALIAS_HOPS = 8;

/**
 * KEYS: account, account's alias, from, from's alias, then index keys.
 * ARGV: account id, mode (create | update | merge), account JSON, from id, the account's
 * updatedAt when it was read, from's updatedAt. An update or merge of an account that
 * changed since it was read is a conflict: the linker reads again and retries.
 */
const WRITE = `
local id, mode, from = ARGV[1], ARGV[2], ARGV[4]
local function unchanged(key, seen)
  local json = redis.call('GET', key)
  return json and cjson.decode(json).updatedAt == tonumber(seen)
end
if mode == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 'CONFLICT' end
elseif not unchanged(KEYS[1], ARGV[5]) or (mode == 'merge' and not unchanged(KEYS[3], ARGV[6])) then
  return 'CONFLICT'
end
for i = 5, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= id and holder ~= from then return 'CONFLICT' end
end
for i = 5, #KEYS do redis.call('SET', KEYS[i], id) end
redis.call('SET', KEYS[1], ARGV[3])
if mode == 'merge' then
  redis.call('DEL', KEYS[3])
  redis.call('SET', KEYS[4], id)
end
return 'OK'`;

export class RedisAccountStore implements AccountStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #guard: StorageGuard;

  constructor(redis: RedisClient, prefix: string, observe?: StorageObserver) {
    this.#redis = redis;
    this.#prefix = `${prefix}{accounts}:`;
    this.#guard = new StorageGuard(STORE, observe);
  }

  #account = (id: string) => `${this.#prefix}id:${id}`;
  #alias = (id: string) => `${this.#prefix}alias:${id}`;
  #unionid = (unionid: string) => `${this.#prefix}unionid:${unionid}`;
  #identity = (identity: Identity) => `${this.#prefix}identity:${identity.appid}:${identity.openid}`;

  findById(id: AccountId): Promise<Account | undefined> {
    return this.#guard.run(async () => {
      let current: string = id;
      for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop += 1) {
        const json = await this.#redis.get(this.#account(current));
        if (json) return JSON.parse(json) as Account;
        const next = await this.#redis.get(this.#alias(current));
        if (!next) return undefined;
        current = next;
      }
      return undefined;
    });
  }

  async #byIndex(key: string): Promise<Account | undefined> {
    const id = await this.#guard.run(() => this.#redis.get(key));
    return id ? this.findById(id as AccountId) : undefined;
  }

  findByUnionid(unionid: Unionid): Promise<Account | undefined> {
    return this.#byIndex(this.#unionid(unionid));
  }

  findByIdentity(identity: Identity): Promise<Account | undefined> {
    return this.#byIndex(this.#identity(identity));
  }

  create(account: Account): Promise<void> {
    return this.#write('create', account);
  }

  update(account: Account, seen: number): Promise<void> {
    return this.#write('update', account, seen);
  }

  merge(into: Account, seen: number, from: Account): Promise<void> {
    return this.#write('merge', into, seen, from);
  }


  async #write(mode: 'create' | 'update' | 'merge', account: Account, seen = 0, from?: Account): Promise<void> {
    const indexes = [
      ...(account.unionid === undefined ? [] : [this.#unionid(account.unionid)]),
      ...account.identities.map(this.#identity),
    ];
    const fromId = from?.id ?? '';
    const keys = [this.#account(account.id), this.#alias(account.id), this.#account(fromId), this.#alias(fromId), ...indexes];
    const args = [account.id, mode, JSON.stringify(account), fromId, String(seen), String(from?.updatedAt ?? 0)];
    const result = await this.#guard.run(() => this.#redis.eval(WRITE, keys.length, ...keys, ...args));
    if (result !== 'OK') throw new AccountConflictError();
  }
}
