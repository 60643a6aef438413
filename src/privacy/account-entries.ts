// A short list kept with each account, newest first: one record per account in durable
// storage (where the accounts are), the latest `kept` entries, kept `keptS` after the latest.
// What the privacy code keeps of a person this way (operators' accesses, their logins) goes
// where the account goes: a merge joins two lists, the erasure takes them. A write reads the
// list and writes it back, so two entries of one account at the same moment may keep one of
// them; the log lines stay the full record.

import type { StorageAdapter } from '../storage/adapter.ts';

/** How one kind of entry is kept. */
export interface EntriesKept<T extends { readonly at: number }> {
  /** The entries a record keeps, newest first. */
  readonly kept: number;
  /** Seconds a record is kept after its latest entry. */
  readonly keptS: number;
  /** Whether what storage returned is an entry (anything else is left out). */
  readonly isEntry: (value: unknown) => value is T;
  /** An entry as it is stored: its own fields only. */
  readonly stored: (entry: T) => T;
}

export class AccountEntries<T extends { readonly at: number }> {
  readonly #adapter: StorageAdapter;
  readonly #kind: EntriesKept<T>;

  constructor(adapter: StorageAdapter, kind: EntriesKept<T>) {
    this.#adapter = adapter;
    this.#kind = kind;
  }

  /** An entry for the account `sub` (the account's own, merged ones resolved). */
  async record(sub: string, entry: T): Promise<void> {
    await this.#write(sub, [entry, ...await this.of(sub)].sort(newestFirst));
  }

  /** The accounts `absorbed` were merged into `into`: their entries join its own, and the person still sees them. */
  async absorb(into: string, absorbed: readonly string[]): Promise<void> {
    const theirs = (await Promise.all(absorbed.map((sub) => this.of(sub)))).flat();
    if (theirs.length === 0) return;
    await this.#write(into, [...await this.of(into), ...theirs].sort(newestFirst));
    await Promise.all(absorbed.map((sub) => this.forget(sub)));
  }

  /** The account's entries, newest first. */
  async of(sub: string): Promise<T[]> {
    const entries = (await this.#adapter.find(sub))?.entries;
    return Array.isArray(entries) ? entries.filter(this.#kind.isEntry) : [];
  }

  /** The account's entries as `edit` changes them (newest first, as they are kept). */
  async change(sub: string, edit: (entries: T[]) => T[]): Promise<void> {
    await this.#write(sub, edit(await this.of(sub)));
  }

  /** An erased account's entries go with it. */
  async forget(sub: string): Promise<void> {
    await this.#adapter.destroy(sub);
  }

  /** `entries` (newest first) as the account's, the latest `kept` of them. */
  async #write(sub: string, entries: readonly T[]): Promise<void> {
    await this.#adapter.upsert(sub, { entries: entries.slice(0, this.#kind.kept).map(this.#kind.stored) }, this.#kind.keptS);
  }
}

const newestFirst = (a: { at: number }, b: { at: number }) => b.at - a.at;
