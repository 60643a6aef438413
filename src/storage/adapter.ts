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
}

export type StorageKind = 'memory' | 'redis' | 'mongodb';

/** Where protocol state lives: one adapter per model name. */
export interface ProtocolStorage {
  readonly kind: StorageKind;
  adapter(model: string): StorageAdapter;
  /** Resolves when the storage answers; rejects when it does not. */
  ping(): Promise<void>;
}
