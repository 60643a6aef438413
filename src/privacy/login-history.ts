// The person's recent logins, for them to see (their page, their export) and for operators
// (the console): when, through which WeChat app, to which relying party, in which browser or
// device (browser-name.ts's few fixed words, never the User-Agent). A person who sees a
// login that was not theirs says so on their page ("not me": personal-data.ts `disownLogin`),
// which signs them out everywhere and tells the company. Each login the
// linker resolves is kept with the account (accounts/linking.ts `onLogin`), the latest
// LOGINS_KEPT, for 180 days after the latest (account-entries.ts: a merge joins two lists,
// the erasure takes them, and so does the retention job's). The account's `lastLogin` stays
// what the retention job reads. A device's login (RFC 8628) is kept when the person confirms
// it, logged in here already or just now (login/consent.ts): the device itself gets the
// tokens, so a code someone else sent them to enter (device-code phishing) shows here too.

import type { LastLogin } from '../accounts/account.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { AccountEntries } from './account-entries.ts';

export const LOGIN_HISTORY_MODEL = 'AccountLogins';
/** The logins a person's record keeps, newest first. */
export const LOGINS_KEPT = 20;
const KEPT_S = 180 * 86_400;

/** A login as the history keeps it: the account's `lastLogin`, and where it completed (absent: a mini program's own login). */
export interface LoginEntry extends LastLogin {
  readonly device?: string;
  /** A device's login (RFC 8628) the person confirmed with its code; `device` is where they confirmed it. */
  readonly deviceFlow?: true;
  /** When the person said it was not theirs (ms since the epoch). */
  readonly disowned?: number;
}

const optionalText = (value: unknown) => value === undefined || typeof value === 'string';

function isLogin(value: unknown): value is LoginEntry {
  const entry = value as Partial<LoginEntry> | null;
  return typeof entry?.at === 'number' && typeof entry.appid === 'string' && optionalText(entry.client) && optionalText(entry.device)
    && (entry.deviceFlow === undefined || entry.deviceFlow === true) && (entry.disowned === undefined || typeof entry.disowned === 'number');
}

export class LoginHistory extends AccountEntries<LoginEntry> {
  constructor(adapter: StorageAdapter) {
    super(adapter, {
      kept: LOGINS_KEPT, keptS: KEPT_S, isEntry: isLogin,
      stored: ({ at, appid, client, device, deviceFlow, disowned }) => ({
        at, appid, ...(client === undefined ? {} : { client }), ...(device === undefined ? {} : { device }),
        ...(deviceFlow ? { deviceFlow } : {}), ...(disowned === undefined ? {} : { disowned }),
      }),
    });
  }

  /** Marks the account's login made at `at` as not the person's, `now`. */
  async disown(sub: string, at: number, now: number): Promise<void> {
    await this.change(sub, (entries) => entries.map((entry) => (entry.at === at && entry.disowned === undefined ? { ...entry, disowned: now } : entry)));
  }
}
