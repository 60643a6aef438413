// The account store contract. Stores enforce uniqueness themselves (a unionid, and an
// (appid, openid) pair, belong to at most one account), so two first logins of one
// person at the same moment cannot make two accounts: the loser gets AccountConflictError.

import type { Account, AccountId, Identity } from './account.ts';
import type { Unionid } from '../wechat/types.ts';

export class AccountConflictError extends Error {
  readonly code = 'ACCOUNT_CONFLICT';
  constructor(message = 'unionid or (appid, openid) already belongs to another account') {
    super(message);
    this.name = 'AccountConflictError';
  }
}

/**
 * WeChat named, for an openid that already belongs to an account with one unionid,
 * another unionid. WeChat gives an openid exactly one unionid, so this is WeChat's error
 * (or a forged answer), and linking on it would hand one person's account to another:
 * the login is refused and nothing changes.
 */
export class IdentityConflictError extends Error {
  readonly code = 'IDENTITY_CONFLICT';
  /** The account the openid belongs to. */
  readonly account: AccountId;

  constructor(account: AccountId) {
    super('WeChat gave an openid a unionid other than the one its account has');
    this.name = 'IdentityConflictError';
    this.account = account;
  }
}

export interface AccountStore {
  /** The account, following merges: a merged-away id resolves to the account it joined. */
  findById(id: AccountId): Promise<Account | undefined>;
  findByUnionid(unionid: Unionid): Promise<Account | undefined>;
  findByIdentity(identity: Identity): Promise<Account | undefined>;
  /** Inserts a new account and its index entries at once, or throws AccountConflictError. */
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
}
