// What the account store's two refusals come to, for every way a login ends: WeChat's
// answer would merge two people (IdentityConflictError: nothing changed, the login is
// refused), or the account kept changing under this login's writes past every retry
// (AccountConflictError, logins of one person at the same moment: nothing is lost, try
// again). Never a 500.

import { AccountConflictError, IdentityConflictError } from '../accounts/store.ts';
import type { LoginOutcome } from '../ops/metrics.ts';
import type { ErrorData } from '../pages/error-pages.ts';

export const IDENTITY_CONFLICT_NOTE = {
  level: 'error', msg: 'WeChat gave an openid a unionid other than its account\'s: login refused, no account changed',
} as const;

export const ACCOUNT_BUSY_NOTE = {
  level: 'warn', msg: 'the account kept changing during the login (logins of one person at the same moment): asked to try again',
} as const;

export interface LinkingRefusal {
  readonly metric: Extract<LoginOutcome, 'identity_conflict' | 'account_busy'>;
  readonly note: typeof IDENTITY_CONFLICT_NOTE | typeof ACCOUNT_BUSY_NOTE;
  /** The person's page; `retryHref` where trying again can help. */
  readonly page: ErrorData;
}

/** The refusal `error` is, or undefined when it is none of the account store's. */
export function linkingRefusal(error: unknown, retryHref?: string): LinkingRefusal | undefined {
  if (error instanceof IdentityConflictError) return { metric: 'identity_conflict', note: IDENTITY_CONFLICT_NOTE, page: { kind: 'conflict', status: 409 } };
  if (error instanceof AccountConflictError) {
    return { metric: 'account_busy', note: ACCOUNT_BUSY_NOTE, page: { kind: 'storage', status: 503, ...(retryHref ? { retryHref } : {}) } };
  }
  return undefined;
}
