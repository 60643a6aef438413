// Accounts in Redis. An account and its index keys (unionid, each appid+openid) are
// checked and written by one Lua script, so the store itself refuses a second account
// for a person. All account keys share the `{accounts}` hash tag: on a Redis Cluster they
// live in one slot, which is what lets one script touch them together. An erased id's
// alias key holds '' for good: taken, resolving to nothing. The last login has a key of its
// own, set with "newer wins", so that logins of one person at the same moment never
// contend; an account reads as the newer of that key and its own record.
// Accounts are long-lived data: run Redis with AOF (appendonly yes) when it holds them.

import { lastSeen, subsOf, type Account, type AccountId, type Identity, type LastLogin } from './account.ts';
import { AccountConflictError, type AccountStore, type Reservation } from './store.ts';
import { StorageGuard, type StorageObserver } from '../storage/errors.ts';
import { LuaScript } from '../storage/lua.ts';
import type { RedisClient } from '../storage/redis-connection.ts';
import type { Unionid } from '../wechat/types.ts';

const STORE = 'Redis (accounts)';
const MAX_ALIAS_HOPS = 8;

/**
 * KEYS: account, account's alias, from, from's alias, from's last login, then n index keys,
 * then (a create of an account with merged ids, an import's) each merged id's account key
 * and alias key. ARGV: account id, mode (create | update | merge), account JSON, from id,
 * the account's updatedAt when it was read, from's updatedAt, n. An update or merge of an
 * account that changed since it was read is a conflict: the linker reads again and retries.
 */
const WRITE = new LuaScript(`
local id, mode, from, n = ARGV[1], ARGV[2], ARGV[4], tonumber(ARGV[7])
local function unchanged(key, seen)
  local json = redis.call('GET', key)
  return json and cjson.decode(json).updatedAt == tonumber(seen)
end
if mode == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 'CONFLICT' end
  for i = 6 + n, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 then return 'CONFLICT' end
  end
elseif not unchanged(KEYS[1], ARGV[5]) or (mode == 'merge' and not unchanged(KEYS[3], ARGV[6])) then
  return 'CONFLICT'
end
for i = 6, 5 + n do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= id and holder ~= from then return 'CONFLICT' end
end
for i = 6, 5 + n do redis.call('SET', KEYS[i], id) end
for i = 7 + n, #KEYS, 2 do redis.call('SET', KEYS[i], id) end
redis.call('SET', KEYS[1], ARGV[3])
if mode == 'merge' then
  redis.call('DEL', KEYS[3], KEYS[5])
  redis.call('SET', KEYS[4], id)
end
return 'OK'`);

/** Whether the account at KEYS[1] is still the one read (updatedAt ARGV[1]). */
const UNCHANGED = `
local json = redis.call('GET', KEYS[1])
if not json or cjson.decode(json).updatedAt ~= tonumber(ARGV[1]) then return 'CONFLICT' end`;

/**
 * KEYS: account, its last login, then n alias keys (the account's own and its merged
 * ids'), then index keys. ARGV: updatedAt when read, the last login's time when read (0:
 * none), n, then the ids (as the alias keys). Index entries naming one of the ids go; the
 * aliases become tombstones. A login since it was read is a conflict too.
 */
const ERASE = new LuaScript(`${UNCHANGED}
local at = cjson.decode(json).lastLogin
at = at and at.at or 0
local login = redis.call('GET', KEYS[2])
if login then at = math.max(at, cjson.decode(login).at) end
if at ~= tonumber(ARGV[2]) then return 'CONFLICT' end
local n = tonumber(ARGV[3])
local owners = {}
for i = 4, 3 + n do owners[ARGV[i]] = true end
for i = 3 + n, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and owners[holder] then redis.call('DEL', KEYS[i]) end
end
redis.call('DEL', KEYS[1], KEYS[2])
for i = 3, 2 + n do redis.call('SET', KEYS[i], '') end
return 'OK'`);

/** KEYS: the account, its last login. ARGV: the login's time, the login. Newer wins; nothing for an account gone. */
const TOUCH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'GONE' end
local login = redis.call('GET', KEYS[2])
if login and cjson.decode(login).at >= tonumber(ARGV[1]) then return 'OLDER' end
redis.call('SET', KEYS[2], ARGV[2])
return 'OK'`);

/** The account as stored, with the newer of its own last login and its last-login key's. */
function withLogin(json: string, login: string | null): Account {
  const account = JSON.parse(json) as Account;
  const touched = login ? JSON.parse(login) as LastLogin : undefined;
  return touched && touched.at > (account.lastLogin?.at ?? -1) ? { ...account, lastLogin: touched } : account;
}

/** KEYS: account, the freed identity's key. ARGV: updatedAt when read, account JSON, then the account's ids. */
const UNLINK = new LuaScript(`${UNCHANGED}
local holder = redis.call('GET', KEYS[2])
for i = 3, #ARGV do if holder == ARGV[i] then redis.call('DEL', KEYS[2]) end end
redis.call('SET', KEYS[1], ARGV[2])
return 'OK'`);

/** KEYS: the account, its alias. An erased id's tombstone, unless the id is an account's or a merged one's. */
const RESERVE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'taken' end
local alias = redis.call('GET', KEYS[2])
if alias == '' then return 'present' end
if alias then return 'taken' end
redis.call('SET', KEYS[2], '')
return 'reserved'`);

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
  #login = (id: string) => `${this.#prefix}login:${id}`;
  #unionid = (unionid: string) => `${this.#prefix}unionid:${unionid}`;
  #identity = (identity: Identity) => `${this.#prefix}identity:${identity.appid}:${identity.openid}`;

  findById(id: AccountId): Promise<Account | undefined> {
    return this.#guard.run('findById', async () => {
      let current: string = id;
      for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop += 1) {
        const [json, login] = await this.#redis.mget(this.#account(current), this.#login(current));
        if (json) return withLogin(json, login ?? null);
        const next = await this.#redis.get(this.#alias(current));
        if (!next) return undefined;
        current = next;
      }
      return undefined;
    });
  }

  async #byIndex(operation: string, key: string): Promise<Account | undefined> {
    const id = await this.#guard.run(operation, () => this.#redis.get(key));
    return id ? this.findById(id as AccountId) : undefined;
  }

  findByUnionid(unionid: Unionid): Promise<Account | undefined> {
    return this.#byIndex('findByUnionid', this.#unionid(unionid));
  }

  findByIdentity(identity: Identity): Promise<Account | undefined> {
    return this.#byIndex('findByIdentity', this.#identity(identity));
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


  async touch(id: AccountId, login: LastLogin): Promise<void> {
    const keys = [this.#account(id), this.#login(id)];
    await this.#guard.run('touch', () => TOUCH.run(this.#redis, keys, String(login.at), JSON.stringify(login)));
  }

  async unlink(account: Account, seen: number, identity: Identity): Promise<void> {
    const keys = [this.#account(account.id), this.#identity(identity)];
    const result = await this.#guard.run('unlink', () => UNLINK.run(this.#redis, keys, String(seen), JSON.stringify(account), ...subsOf(account)));
    if (result !== 'OK') throw new AccountConflictError();
  }

  async erase(account: Account, seen: number): Promise<void> {
    const ids = subsOf(account);
    const indexes = [...account.unionid === undefined ? [] : [this.#unionid(account.unionid)], ...account.identities.map(this.#identity)];
    const keys = [this.#account(account.id), this.#login(account.id), ...ids.map(this.#alias), ...indexes];
    const args = [String(seen), String(account.lastLogin?.at ?? 0), String(ids.length), ...ids];
    const result = await this.#guard.run('erase', () => ERASE.run(this.#redis, keys, ...args));
    if (result !== 'OK') throw new AccountConflictError();
  }

  async* idleSince(before: number): AsyncIterable<Account> {
    for await (const account of this.#every()) if (lastSeen(account) < before) yield account;
  }

  async* erased(): AsyncIterable<AccountId> {
    const aliases = this.#alias('');
    for await (const [keys, values] of this.#scan(`${aliases}*`, () => [])) {
      for (const [index, value] of values.entries()) if (value === '') yield keys[index]!.slice(aliases.length) as AccountId;
    }
  }

  async reserve(id: AccountId): Promise<Reservation> {
    const keys = [this.#account(id), this.#alias(id)];
    return await this.#guard.run('reserve', () => RESERVE.run(this.#redis, keys)) as Reservation;
  }

  /** A pass over every account, as the retention job's: an index of suspensions would cost every write a command for a rare review. */
  async* suspended(): AsyncIterable<Account> {
    for await (const account of this.#every()) if (account.suspended) yield account;
  }

  /** Scans the account keys, each read with its last-login key. */
  async* #every(): AsyncIterable<Account> {
    const logins = (keys: string[]) => keys.map((key) => this.#login(key.slice(this.#account('').length)));
    for await (const [keys, values] of this.#scan(this.#account('*'), logins)) {
      for (const [index, json] of values.slice(0, keys.length).entries()) {
        if (json) yield withLogin(json, values[keys.length + index] ?? null);
      }
    }
  }

  /** The keys matching `match`, a batch at a time, read with the keys `more` names beside them (on a Cluster, from the node that holds their slot). */
  async* #scan(match: string, more: (keys: string[]) => string[]): AsyncIterable<[string[], Array<string | null>]> {
    const node = 'nodes' in this.#redis ? await this.#guard.run('scan', () => this.#nodeOf(match)) : this.#redis;
    for await (const keys of node.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length === 0) continue;
      const values = await this.#guard.run('scan', () => node.mget(...keys, ...more(keys)));
      yield [keys, values];
    }
  }

  async #nodeOf(key: string) {
    const cluster = this.#redis as import('ioredis').Cluster;
    const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
    const owner = cluster.nodes('master').find((node) => {
      const { host, port } = node.options;
      return (cluster.slots[slot] ?? []).includes(`${host}:${port}`);
    });
    if (!owner) throw new Error(`no node holds slot ${slot}`);
    return owner;
  }

  async #write(mode: 'create' | 'update' | 'merge', account: Account, seen = 0, from?: Account): Promise<void> {
    const indexes = [
      ...(account.unionid === undefined ? [] : [this.#unionid(account.unionid)]),
      ...account.identities.map(this.#identity),
    ];
    const fromId = from?.id ?? '';
    const merged = mode === 'create' ? (account.mergedFrom ?? []).flatMap((id) => [this.#account(id), this.#alias(id)]) : [];
    const keys = [this.#account(account.id), this.#alias(account.id), this.#account(fromId), this.#alias(fromId), this.#login(fromId), ...indexes, ...merged];
    const args = [account.id, mode, JSON.stringify(account), fromId, String(seen), String(from?.updatedAt ?? 0), String(indexes.length)];
    const result = await this.#guard.run(mode, () => WRITE.run(this.#redis, keys, ...args));
    if (result !== 'OK') throw new AccountConflictError();
  }
}
