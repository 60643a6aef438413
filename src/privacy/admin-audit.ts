// The audit of the operators' access to people's data (PIPL article 51: the company
// controls and records who reaches personal information): every call of the admin API and
// every view and action in the console, refused ones included, is a log line (`admin call`,
// or `admin call refused`) and a metric, in one shape. The line names who (the calling
// client; the operator's `sub` in the console), the action, the identifiers the request
// gave, the outcome and the `sub` found, never profile data; so probing for people by
// identifier is attributable.

import type { Logger } from '../log.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';

export interface AdminCall {
  /** The calling client (`unknown` when a refused token named none; the console's own client there). */
  readonly client: string;
  /** The operator, in the console: their account's `sub`. */
  readonly operator?: string;
  readonly action: string;
  /** The identifiers the request named (privacy/account-view.ts `requestTarget`). */
  readonly target: Readonly<Record<string, string>>;
  readonly outcome: string;
  /** The account found. */
  readonly sub?: string | undefined;
}

export function auditAdminCall(log: Logger, metrics: BrokerMetrics, call: AdminCall, refused?: { readonly ip: string; readonly reason?: string | undefined }): void {
  metrics.adminCall(call.client, call.action, call.outcome);
  const admin = { client: call.client, ...(call.operator ? { operator: call.operator } : {}), action: call.action, target: call.target, outcome: call.outcome, ...(call.sub ? { sub: call.sub } : {}) };
  if (refused) log.warn({ admin, ip: refused.ip, ...(refused.reason ? { reason: refused.reason } : {}) }, 'admin call refused');
  else log.info({ admin }, 'admin call');
}
