// The embedded account store: one process, nothing kept across restarts.

import { lastSeen, subsOf, type Account, type AccountId, type Identity, type LastLogin } from './account.ts';
import { AccountConflictError, type AccountStore, type Reservation } from './store.ts';
import type { Unionid } from '../wechat/types.ts';

const identityKey = (identity: Identity): string => `${identity.appid}\n${identity.openid}`;

export class MemoryAccountStore implements AccountStore {
  readonly #accounts = new Map<AccountId, Account>();
  /** A merged-away id → the account it joined; an erased id → '' (taken, resolving to nothing). */
  readonly #aliases = new Map<AccountId, AccountId | ''>();
  readonly #byUnionid = new Map<Unionid, AccountId>();
  readonly #byIdentity = new Map<string, AccountId>();

  async findById(id: AccountId): Promise<Account | undefined> {
    const target = this.#aliases.get(id) ?? id;
    return target === '' ? undefined : this.#accounts.get(target);
  }

  /** Index entries may name a merged-away id: they resolve through it, as in the other stores. */
  async findByUnionid(unionid: Unionid): Promise<Account | undefined> {
    const id = this.#byUnionid.get(unionid);
    return id === undefined ? undefined : this.findById(id);
  }

  async findByIdentity(identity: Identity): Promise<Account | undefined> {
    const id = this.#byIdentity.get(identityKey(identity));
    return id === undefined ? undefined : this.findById(id);
  }

  async create(account: Account): Promise<void> {
    if (subsOf(account).some((id) => this.#accounts.has(id) || this.#aliases.has(id))) throw new AccountConflictError('account id taken');
    this.#claim(account, new Set());
    for (const id of account.mergedFrom ?? []) this.#aliases.set(id, account.id);
    this.#accounts.set(account.id, structuredClone(account));
  }

  async update(account: Account, seen: number): Promise<void> {
    this.#unchanged(account.id, seen, account.lastLogin);
    this.#claim(account, new Set([account.id]));
    this.#accounts.set(account.id, structuredClone(account));
  }

  async merge(into: Account, seen: number, from: Account): Promise<void> {
    this.#unchanged(into.id, seen, into.lastLogin);
    this.#unchanged(from.id, from.updatedAt, from.lastLogin);
    this.#claim(into, new Set([into.id, from.id]));
    this.#accounts.delete(from.id);
    this.#aliases.set(from.id, into.id);
    for (const [alias, target] of this.#aliases) if (target === from.id) this.#aliases.set(alias, into.id);
    this.#accounts.set(into.id, structuredClone(into));
  }

  async touch(id: AccountId, login: LastLogin): Promise<void> {
    const stored = this.#accounts.get(id);
    if (stored && !(stored.lastLogin && stored.lastLogin.at >= login.at)) this.#accounts.set(id, { ...stored, lastLogin: { ...login } });
  }

  async unlink(account: Account, seen: number, identity: Identity): Promise<void> {
    this.#unchanged(account.id, seen, account.lastLogin);
    const key = identityKey(identity);
    const holder = this.#byIdentity.get(key);
    if (holder !== undefined && subsOf(account).includes(holder)) this.#byIdentity.delete(key);
    this.#accounts.set(account.id, structuredClone(account));
  }

  async erase(account: Account, seen: number): Promise<void> {
    this.#unchanged(account.id, seen, account.lastLogin);
    const owners = new Set(subsOf(account));
    for (const index of [this.#byUnionid, this.#byIdentity] as Array<Map<string, AccountId>>) {
      for (const [key, holder] of index) if (owners.has(holder)) index.delete(key);
    }
    this.#accounts.delete(account.id);
    for (const id of owners) this.#aliases.set(id, '');
  }

  async* erased(): AsyncIterable<AccountId> {
    for (const [id, target] of [...this.#aliases]) if (target === '') yield id;
  }

  async reserve(id: AccountId): Promise<Reservation> {
    const alias = this.#aliases.get(id);
    if (alias === '') return 'present';
    if (alias !== undefined || this.#accounts.has(id)) return 'taken';
    this.#aliases.set(id, '');
    return 'reserved';
  }

  async* idleSince(before: number): AsyncIterable<Account> {
    for (const account of [...this.#accounts.values()]) if (lastSeen(account) < before) yield structuredClone(account);
  }

  async* suspended(): AsyncIterable<Account> {
    for (const account of [...this.#accounts.values()]) if (account.suspended) yield structuredClone(account);
  }

  /** The account is as it was read (updatedAt `seen`), and no login newer than `login` was recorded since. */
  #unchanged(id: AccountId, seen: number, login: LastLogin | undefined): void {
    const stored = this.#accounts.get(id);
    if (!stored) throw new AccountConflictError('no such account');
    if (stored.updatedAt !== seen) throw new AccountConflictError('the account changed since it was read');
    if (stored.lastLogin && stored.lastLogin.at > (login?.at ?? -Infinity)) throw new AccountConflictError('a login since it was read');
  }


  /** Checks every index entry of `account` first, then writes them all: all or nothing. */
  #claim(account: Account, owners: ReadonlySet<AccountId>): void {
    const free = (holder: AccountId | undefined) => holder === undefined || owners.has(holder);
    if (account.unionid !== undefined && !free(this.#byUnionid.get(account.unionid))) throw new AccountConflictError();
    for (const identity of account.identities) {
      if (!free(this.#byIdentity.get(identityKey(identity)))) throw new AccountConflictError();
    }
    if (account.unionid !== undefined) this.#byUnionid.set(account.unionid, account.id);
    for (const identity of account.identities) this.#byIdentity.set(identityKey(identity), account.id);
  }
}
