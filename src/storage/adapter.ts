// The storage contract shared by oidc-provider's models and the broker's own records.
// Memory, Redis and MongoDB implement it and pass the same contract suite.

import type { Adapter, AdapterPayload } from 'oidc-provider';

export type { AdapterPayload };

/**
 * oidc-provider's adapter less `consume`, which oidc/consume-once.ts builds on `claim`
 * for every store alike.
 */
export interface StorageAdapter extends Omit<Adapter, 'consume'> {
  /**
   * Marks the record consumed and returns it, atomically: of any number of concurrent
   * calls for one record, exactly one gets the payload; the others (and any call for a
   * missing, expired or already consumed record) get undefined.
   */
  claim(id: string): Promise<AdapterPayload | undefined>;
  /**
   * Stores the record only when no live record has this id, atomically: of any number of
   * concurrent inserts of one id exactly one gets true. For the broker's own small records
   * (a nonce seen, a lock held); `payload` is not indexed by uid, userCode or grant.
   */
  insert(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean>;
  /**
   * The live records of this model held for the account (payload.accountId), for the
   * models in ACCOUNT_MODELS; none for the others. What an export shows and an erasure
   * removes.
   */
  findByAccount(accountId: string): Promise<AccountRecord[]>;
  /**
   * Replaces the payload of a live record only if it is still exactly `seen` (as `find`
   * returned it), keeping its expiry unless `expiresIn` gives a new one; false when it
   * changed, expired or is gone, and the caller reads again. For editing records
   * oidc-provider saves too (a person's session): an edit never undoes a save made
   * meanwhile; and for lists that writers at the same moment must each add to (a person's
   * recent logins). The edit may not change what the record is indexed by (uid, userCode,
   * grant, account), and is for records never consumed.
   */
  replaceIfUnchanged(id: string, seen: AdapterPayload, payload: AdapterPayload, expiresIn?: number): Promise<boolean>;
}

/** One record found by its account. */
export interface AccountRecord {
  readonly id: string;
  readonly payload: AdapterPayload;
}

/**
 * The models whose records are held for a person and are found by account: the sessions
 * they logged in with and the grants they gave. Tokens are reached through their grant.
 */
export const ACCOUNT_MODELS: ReadonlySet<string> = new Set(['Session', 'Grant']);

/** The account a record of `model` is held for, where the model is indexed by account. */
export function accountOf(model: string, payload: AdapterPayload): string | undefined {
  return ACCOUNT_MODELS.has(model) && typeof payload.accountId === 'string' ? payload.accountId : undefined;
}

/**
 * The models whose records are issued under a grant, and so go with it when it is revoked
 * (oidc-provider's revoke helper). An Interaction or a Session may carry a grantId too, but
 * is not issued under it: an interaction in progress must survive, say, the logout that an
 * account switch performs in the middle of it.
 */
export const GRANT_TOKEN_MODELS: ReadonlySet<string> = new Set([
  'AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

export type StorageKind = 'memory' | 'redis' | 'mongodb';

/** Where protocol state lives: one adapter per model name. */
export interface ProtocolStorage {
  readonly kind: StorageKind;
  adapter(model: string): StorageAdapter;
  /** Resolves when the storage answers; rejects when it does not. */
  ping(): Promise<void>;
}
