// The account store contract. Stores enforce uniqueness themselves (a unionid, and an
// (appid, openid) pair, belong to at most one account), so two first logins of one
// person at the same moment cannot make two accounts: the loser gets AccountConflictError.

import type { Account, AccountId, Identity, LastLogin } from './account.ts';
import type { Unionid } from '../wechat/types.ts';

export class AccountConflictError extends Error {
  readonly code = 'ACCOUNT_CONFLICT';
  constructor(message = 'unionid or (appid, openid) already belongs to another account') {
    super(message);
    this.name = 'AccountConflictError';
  }
}

/** A login the account store refuses, for what it knows of the account `account`. */
abstract class LoginRefusedError extends Error {
  abstract readonly code: string;
  readonly account: AccountId;

  constructor(account: AccountId, message: string) {
    super(message);
    this.name = new.target.name;
    this.account = account;
  }
}

/**
 * WeChat named, for an openid that already belongs to an account with one unionid,
 * another unionid. WeChat gives an openid exactly one unionid, so this is WeChat's error
 * (or a forged answer), and linking on it would hand one person's account to another:
 * the login is refused and nothing changes. `account`: the one the openid belongs to.
 */
export class IdentityConflictError extends LoginRefusedError {
  readonly code = 'IDENTITY_CONFLICT';

  constructor(account: AccountId) {
    super(account, 'WeChat gave an openid a unionid other than the one its account has');
  }
}

/**
 * The login is of an account an operator suspended: what the login told is kept (the
 * account stays accurate), and the person signs in nowhere until it is reinstated, or
 * until `until` (ms since the epoch) when the suspension has an end.
 */
export class AccountSuspendedError extends LoginRefusedError {
  readonly code = 'ACCOUNT_SUSPENDED';
  readonly until: number | undefined;

  constructor(account: AccountId, until?: number) {
    super(account, until === undefined ? 'the account is suspended' : `the account is suspended until ${new Date(until).toISOString()}`);
    this.until = until;
  }
}

/** An unlink that cannot be done: the identity is not the account's, or is all it has. */
export class UnlinkRefusedError extends Error {
  readonly code: 'NOT_LINKED' | 'LAST_IDENTITY';

  constructor(code: 'NOT_LINKED' | 'LAST_IDENTITY', message: string) {
    super(message);
    this.name = 'UnlinkRefusedError';
    this.code = code;
  }
}

/** What `reserve` made of an erased id. */
export type Reservation = 'reserved' | 'present' | 'taken';

export interface AccountStore {
  /** The account, following merges: a merged-away id resolves to the account it joined. */
  findById(id: AccountId): Promise<Account | undefined>;
  findByUnionid(unionid: Unionid): Promise<Account | undefined>;
  findByIdentity(identity: Identity): Promise<Account | undefined>;
  /**
   * Inserts a new account and its index entries at once, or throws AccountConflictError. An
   * account made with `mergedFrom` (an import of a dumped one) claims those ids too: each must
   * be free (no account's, nor merged or erased), and each then resolves to it.
   */
  create(account: Account): Promise<void>;
  /**
   * Replaces an existing account, only if it has not changed since it was read (its
   * stored updatedAt is still `seen`). New index entries (a unionid it did not have,
   * identities it did not have) are claimed at once, or nothing changes and
   * AccountConflictError is thrown: the caller reads again and retries.
   */
  update(account: Account, seen: number): Promise<void>;
  /**
   * Moves `from` into `into` (written by the caller with `from`'s data added), only if
   * neither changed since they were read (`into` had updatedAt `seen`, `from` has its
   * own); `from`'s id then resolves to `into`.
   */
  merge(into: Account, seen: number, from: Account): Promise<void>;
  /**
   * Records a login of the account `id` (found and resolved just before): its last login
   * becomes `login` unless a newer one is recorded. Never a conflict and never a change of
   * `updatedAt`, so that logins of one person at the same moment do not contend; nothing
   * happens when the account is gone meanwhile.
   */
  touch(id: AccountId, login: LastLogin): Promise<void>;
  /**
   * Writes `account`, which no longer holds `identity`, and frees that identity's index
   * entry, only if the account has not changed since it was read.
   */
  unlink(account: Account, seen: number, identity: Identity): Promise<void>;
  /**
   * Removes the account and every index entry naming it or an id merged into it, only if
   * it has not changed since it was read: neither its updatedAt (`seen`) nor its last
   * login (`account.lastLogin`, which a login may have moved without touching updatedAt). Its ids stay taken (create refuses them) and
   * resolve to nothing: a `sub` is never given to anyone else.
   */
  erase(account: Account, seen: number): Promise<void>;
  /** Every id erased (its tombstone, which keeps it from being given again): what a move must carry. */
  erased(): AsyncIterable<AccountId>;
  /**
   * Keeps `id` from ever being given (an erased account's, brought from elsewhere): `reserved`
   * when it was free and is now a tombstone, `present` when it was one already, `taken` when
   * an account (or a merge) has it, which changes nothing.
   */
  reserve(id: AccountId): Promise<Reservation>;
  /** Every account whose last login (or, without one, last change) is before `before` (ms). */
  idleSince(before: number): AsyncIterable<Account>;
  /**
   * Every account with a suspension written (one that has ended too, until it is lifted):
   * an operator's review. MongoDB answers from an index; Redis and memory look at every account.
   */
  suspended(): AsyncIterable<Account>;
}
