// Every phone number a login brings (WeCom's member details) or a mini program's phone button
// gives is noted as its account's (accounts/phone-holders.ts): the admin API, the accounts CLI
// and the console find people by it, and a number that moves to another account (carriers
// recycle numbers) is logged, never linked.

import type { AccountId } from '../accounts/account.ts';
import type { PhoneHolders } from '../accounts/phone-holders.ts';
import type { Logger } from '../log.ts';

/** `number` is `account`'s now (through the app `app`); the account that held it before is logged. */
export async function holdPhone(holders: PhoneHolders, log: Logger, number: string, account: AccountId, app: string): Promise<void> {
  const before = await holders.hand(number, account);
  if (before) log.info({ app, from: before, to: account }, 'a phone number moved to another account (kept on both: a number is never a linking key)');
}
