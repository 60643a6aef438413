// oidc-provider checks a code's (or refresh token's) `consumed` and then consumes it: two
// concurrent redemptions can both pass the check. Here the store's atomic claim decides,
// and every loser gets invalid_grant, so exactly one redemption succeeds.

import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { StorageAdapter } from '../storage/adapter.ts';

export class ConsumeOnceAdapter implements Adapter {
  readonly #store: StorageAdapter;

  constructor(store: StorageAdapter) {
    this.#store = store;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number) { return this.#store.upsert(id, payload, expiresIn); }
  find(id: string) { return this.#store.find(id); }
  findByUid(uid: string) { return this.#store.findByUid(uid); }
  findByUserCode(userCode: string) { return this.#store.findByUserCode(userCode); }
  destroy(id: string) { return this.#store.destroy(id); }
  revokeByGrantId(grantId: string) { return this.#store.revokeByGrantId(grantId); }

  async consume(id: string): Promise<void> {
    if (!await this.#store.claim(id)) throw new errors.InvalidGrant('grant request is invalid (already consumed)');
  }
}
