// Who at the company looked at a person's data or acted on their account, for the person
// (PIPL article 44: the right to know how their information is handled; an operator reading
// it is handling it too). Each audited operator call that found the person (the admin API,
// the console, the accounts CLI: admin-audit.ts's lines) is also kept with their account, the
// latest ACCESSES_KEPT of them, for three years after the latest (as long as a phone number's
// holder); their page shows them, their export carries them, a merge joins two lists, and the
// erasure takes them. The log lines stay the operator's full record: two calls about one
// person at the same moment may keep one entry here, but never lose a log line.

import type { StorageAdapter } from '../storage/adapter.ts';

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

export class AccessLog {
  readonly #adapter: StorageAdapter;

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter;
  }

  /** An operator's call about the account `sub` (the account's own, merged ones resolved). */
  async record(sub: string, access: Access): Promise<void> {
    await this.#write(sub, [access, ...await this.of(sub)]);
  }

  /** The accounts `absorbed` were merged into `into`: their entries join its own, and the person still sees them. */
  async absorb(into: string, absorbed: readonly string[]): Promise<void> {
    const theirs = (await Promise.all(absorbed.map((sub) => this.of(sub)))).flat();
    if (theirs.length === 0) return;
    await this.#write(into, [...await this.of(into), ...theirs].sort((a, b) => b.at - a.at));
    await Promise.all(absorbed.map((sub) => this.forget(sub)));
  }

  /** The account's entries, newest first. */
  async of(sub: string): Promise<Access[]> {
    const entries = (await this.#adapter.find(sub))?.entries;
    return Array.isArray(entries) ? entries.filter(isAccess) : [];
  }

  /** An erased account's entries go with it. */
  async forget(sub: string): Promise<void> {
    await this.#adapter.destroy(sub);
  }

  /** `entries` (newest first) as the account's, the latest ACCESSES_KEPT of them. */
  async #write(sub: string, entries: readonly Access[]): Promise<void> {
    await this.#adapter.upsert(sub, { entries: entries.slice(0, ACCESSES_KEPT).map(({ at, action, by, who }) => ({ at, action, by, ...(who === undefined ? {} : { who }) })) }, KEPT_S);
  }
}
