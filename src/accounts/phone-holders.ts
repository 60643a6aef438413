// Which account a phone number was last given to, so that a number that moves to another
// account is noticed (the caller logs it). Carriers recycle numbers: the number is never a
// linking key, and both accounts keep what they have; the operator only learns that it
// happened. A record is keyed by the number's SHA-256, never the number itself (keys show
// up in storage tools), names the account, and goes with the account's erasure (or after
// three years, when it says little anyway).

import { createHash } from 'node:crypto';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { Account, AccountId } from './account.ts';

export const PHONE_HOLDER_MODEL = 'PhoneHolder';
const KEPT_S = 3 * 365 * 86_400;

const keyOf = (number: string): string => createHash('sha256').update(number).digest('base64url');

export class PhoneHolders {
  readonly #adapter: StorageAdapter;

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter;
  }

  /** `account` now holds `number`: the account that held it before, when that was another one. */
  async hand(number: string, account: AccountId): Promise<AccountId | undefined> {
    const key = keyOf(number);
    const before = (await this.#adapter.find(key))?.holder;
    await this.#adapter.upsert(key, { holder: account }, KEPT_S);
    return typeof before === 'string' && before !== account ? before as AccountId : undefined;
  }

  /** The account `number` was last given to. */
  async holderOf(number: string): Promise<AccountId | undefined> {
    const holder = (await this.#adapter.find(keyOf(number)))?.holder;
    return typeof holder === 'string' ? holder as AccountId : undefined;
  }

  /** An erased account's number no longer names it. */
  async forget(account: Account): Promise<void> {
    const number = account.contacts?.phone?.value;
    if (number === undefined) return;
    const key = keyOf(number);
    if ((await this.#adapter.find(key))?.holder === account.id) await this.#adapter.destroy(key);
  }
}
