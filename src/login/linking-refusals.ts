// What the account store's refusals come to, for every way a login ends: WeChat's
// answer would merge two people (IdentityConflictError: nothing changed, the login is
// refused), the account kept changing under this login's writes past every retry
// (AccountConflictError, logins of one person at the same moment: nothing is lost, try
// again), or an operator suspended the account (AccountSuspendedError). Never a 500.

import { AccountConflictError, AccountSuspendedError, IdentityConflictError } from '../accounts/store.ts';
import type { LoginOutcome } from '../ops/metrics.ts';
import type { ErrorData } from '../pages/error-pages.ts';

export const IDENTITY_CONFLICT_NOTE = {
  level: 'error', msg: 'WeChat gave an openid a unionid other than its account\'s: login refused, no account changed',
} as const;

export const ACCOUNT_BUSY_NOTE = {
  level: 'warn', msg: 'the account kept changing during the login (logins of one person at the same moment): asked to try again',
} as const;

export const SUSPENDED_NOTE = {
  level: 'info', msg: 'the account is suspended: login refused',
} as const;

/** A suspended account's page: its own sentence, with the suspension's end when it has one; 403 (RFC 9110 15.5.4: understood, and refused). */
export function suspendedPage(error: AccountSuspendedError): ErrorData {
  return { kind: 'suspended', status: 403, ...(error.until === undefined ? {} : { until: error.until }) };
}

export interface LinkingRefusal {
  readonly metric: Extract<LoginOutcome, 'identity_conflict' | 'account_busy' | 'suspended'>;
  readonly note: typeof IDENTITY_CONFLICT_NOTE | typeof ACCOUNT_BUSY_NOTE | typeof SUSPENDED_NOTE;
  /** The person's page; `retryHref` where trying again can help. */
  readonly page: ErrorData;
}

/** The refusal `error` is, or undefined when it is none of the account store's. */
export function linkingRefusal(error: unknown, retryHref?: string): LinkingRefusal | undefined {
  if (error instanceof AccountSuspendedError) return { metric: 'suspended', note: SUSPENDED_NOTE, page: suspendedPage(error) };
  if (error instanceof IdentityConflictError) return { metric: 'identity_conflict', note: IDENTITY_CONFLICT_NOTE, page: { kind: 'conflict', status: 409 } };
  if (error instanceof AccountConflictError) {
    return { metric: 'account_busy', note: ACCOUNT_BUSY_NOTE, page: { kind: 'storage', status: 503, ...(retryHref ? { retryHref } : {}) } };
  }
  return undefined;
}
