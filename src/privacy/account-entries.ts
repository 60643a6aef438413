// A short list kept with each account, newest first: one record per account in durable
// storage (where the accounts are), the latest `kept` entries, kept `keptS` after the latest.
// What the privacy code keeps of a person this way (operators' accesses, their logins) goes
// where the account goes: a merge joins two lists, the erasure takes them. A write reads the
// list and writes it back only if nobody wrote it meanwhile (the adapter's insert and
// conditional replace), else reads again: entries of one account at the same moment (a
// person logging in on two devices at once) are all kept. Within one process the writes of
// one list (and its erasure) take turns, so that only writes from other instances ever
// overtake one, and a read waits for the writes this process has under way.

import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdapterPayload, StorageAdapter } from '../storage/adapter.ts';
import { Turns } from './turns.ts';

/** Writes of one list at the same moment each get in within this many reads. */
const ATTEMPTS = 32;

/** Every write of one list was overtaken (another instance's got in first) ATTEMPTS times in a row: this one's entry is not written. */
export class ListOvertakenError extends Error {
  readonly code = 'LIST_OVERTAKEN';
  constructor(sub: string) {
    super(`the list of ${sub} kept changing: ${ATTEMPTS} writes in a row were overtaken`);
    this.name = 'ListOvertakenError';
  }
}

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
  /** Each list's writes (and erasure) in this process, in turn; a read waits for those under way. */
  readonly #turns = new Turns();

  constructor(adapter: StorageAdapter, kind: EntriesKept<T>) {
    this.#adapter = adapter;
    this.#kind = kind;
  }

  /** An entry for the account `sub` (the account's own, merged ones resolved). */
  async record(sub: string, entry: T): Promise<void> {
    await this.change(sub, (entries) => [entry, ...entries].sort(newestFirst));
  }

  /** The accounts `absorbed` were merged into `into`: their entries join its own, and the person still sees them. */
  async absorb(into: string, absorbed: readonly string[]): Promise<void> {
    const theirs = (await Promise.all(absorbed.map((sub) => this.of(sub)))).flat();
    if (theirs.length === 0) return;
    await this.change(into, (entries) => [...entries, ...theirs].sort(newestFirst));
    await Promise.all(absorbed.map((sub) => this.forget(sub)));
  }

  /** The account's entries, newest first, once this process's writes of them are done. */
  async of(sub: string): Promise<T[]> {
    await this.#turns.settled(sub);
    return this.#entriesOf(await this.#adapter.find(sub));
  }

  /**
   * The account's entries as `edit` changes them (newest first, as they are kept), the
   * record kept `keptS` from now, after this process's writes of the list before it.
   * Written only over what `edit` saw; another instance's write in between means reading
   * again (jittered, so that writers in step fall out of it).
   */
  change(sub: string, edit: (entries: T[]) => T[]): Promise<void> {
    return this.#turns.run(sub, () => this.#write(sub, edit));
  }

  /**
   * Entries brought from elsewhere (an import of a dumped account), joined with the list's own
   * (one already there is not doubled): the record is kept `keptS` after the latest of them,
   * as if they had been recorded here, and entries already past that are not brought.
   */
  restore(sub: string, entries: readonly T[], now: number): Promise<void> {
    const keptMs = this.#kind.keptS * 1000;
    const live = entries.filter((entry) => entry.at > now - keptMs);
    if (live.length === 0) return Promise.resolve();
    const same = (entry: T) => JSON.stringify(this.#kind.stored(entry));
    const joined = (held: T[]) => [...new Map([...held, ...live].map((entry) => [same(entry), entry])).values()].sort(newestFirst);
    return this.#turns.run(sub, () => this.#write(sub, joined, (newest) => Math.max(1, Math.ceil((newest.at + keptMs - now) / 1000))));
  }

  /** An erased account's entries go with it (after this process's writes of them). */
  forget(sub: string): Promise<void> {
    return this.#turns.run(sub, () => this.#adapter.destroy(sub));
  }

  /** `keptS` of the record: from now, unless `expiresIn` says how long from its newest entry. */
  async #write(sub: string, edit: (entries: T[]) => T[], expiresIn?: (newest: T) => number): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      const seen = await this.#adapter.find(sub);
      const entries = edit(this.#entriesOf(seen)).slice(0, this.#kind.kept);
      const list = { entries: entries.map(this.#kind.stored) };
      const keptS = expiresIn && entries[0] ? expiresIn(entries[0]) : this.#kind.keptS;
      const written = seen ? await this.#adapter.replaceIfUnchanged(sub, seen, list, keptS) : await this.#adapter.insert(sub, list, keptS);
      if (written) return;
      await sleep(randomInt(1, 2 + attempt));
    }
    throw new ListOvertakenError(sub);
  }

  #entriesOf(record: AdapterPayload | undefined | void): T[] {
    const entries = record?.entries;
    return Array.isArray(entries) ? entries.filter(this.#kind.isEntry) : [];
  }
}

const newestFirst = (a: { at: number }, b: { at: number }) => b.at - a.at;
