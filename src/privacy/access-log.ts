// Who at the company looked at a person's data or acted on their account, for the person
// (PIPL article 44: the right to know how their information is handled; an operator reading
// it is handling it too). Each audited operator call that found the person (the admin API,
// the console, the accounts CLI: admin-audit.ts's lines) is also kept with their account, the
// latest ACCESSES_KEPT of them, for three years after the latest (as long as a phone number's
// holder); their page shows them, their export carries them, a merge joins two lists, and the
// erasure takes them (account-entries.ts). The log lines stay the operator's full record.

import type { StorageAdapter } from '../storage/adapter.ts';
import { AccountEntries } from './account-entries.ts';

export const ACCESS_LOG_MODEL = 'OperatorAccess';
/** The entries a person's record keeps, newest first. */
export const ACCESSES_KEPT = 100;
const KEPT_S = 3 * 365 * 86_400;

/** Who made a call: a tool of the company's (an admin API client), a person at the console, or someone at a shell. */
export type AccessChannel = 'admin' | 'console' | 'cli';

export interface Access {
  /** ms since the epoch. */
  readonly at: number;
  /** The audit line's action: show, find, export, logout, suspend, … */
  readonly action: string;
  readonly by: AccessChannel;
  /** Which client or operator: the admin API's client_id, the operator's `sub`; for operators only (the console), never the person's page or export. */
  readonly who?: string;
}

function isAccess(value: unknown): value is Access {
  const entry = value as Partial<Access> | null;
  return typeof entry?.at === 'number' && typeof entry.action === 'string' && (entry.by === 'admin' || entry.by === 'console' || entry.by === 'cli')
    && (entry.who === undefined || typeof entry.who === 'string');
}

/** Operators' calls about each person, the latest ACCESSES_KEPT, three years after the latest. */
export class AccessLog extends AccountEntries<Access> {
  constructor(adapter: StorageAdapter) {
    super(adapter, { kept: ACCESSES_KEPT, keptS: KEPT_S, isEntry: isAccess, stored: ({ at, action, by, who }) => ({ at, action, by, ...(who === undefined ? {} : { who }) }) });
  }
}
