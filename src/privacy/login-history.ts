// The person's recent logins, for them to see (their page, their export) and for operators
// (the console): when, through which WeChat app, to which relying party. A person who sees a
// login that was not theirs signs out everywhere and tells the company. Each login the
// linker resolves is kept with the account (accounts/linking.ts `onLogin`), the latest
// LOGINS_KEPT, for 180 days after the latest (account-entries.ts: a merge joins two lists,
// the erasure takes them, and so does the retention job's). The account's `lastLogin` stays
// what the retention job reads.

import type { LastLogin } from '../accounts/account.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { AccountEntries } from './account-entries.ts';

export const LOGIN_HISTORY_MODEL = 'AccountLogins';
/** The logins a person's record keeps, newest first. */
export const LOGINS_KEPT = 20;
const KEPT_S = 180 * 86_400;

function isLogin(value: unknown): value is LastLogin {
  const entry = value as Partial<LastLogin> | null;
  return typeof entry?.at === 'number' && typeof entry.appid === 'string' && (entry.client === undefined || typeof entry.client === 'string');
}

export class LoginHistory extends AccountEntries<LastLogin> {
  constructor(adapter: StorageAdapter) {
    super(adapter, { kept: LOGINS_KEPT, keptS: KEPT_S, isEntry: isLogin, stored: ({ at, appid, client }) => ({ at, appid, ...(client === undefined ? {} : { client }) }) });
  }
}
