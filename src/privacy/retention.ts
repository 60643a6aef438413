// ACCOUNT_RETENTION_DAYS: accounts with no login for that long are erased, with the same
// erasure and notifications as a request (personal-data.ts). The job wakes every hour;
// a run takes a lock record in shared storage that lives for the interval (an atomic
// insert: in Redis or MongoDB, one instance of many wins), so the estate runs it at most
// once an hour, on whichever instance got there first. A long run renews its lock as it
// goes (every RENEW_EVERY accounts), and stops if another instance holds it meanwhile, so
// two runs never overlap. An account under a suspension that still holds is kept: erasing
// it would let the person it keeps out come back as someone new (a suspension is an
// operator's decision to keep the account; an erasure is theirs to make, as before).

import { randomUUID } from 'node:crypto';
import { suspensionOf } from '../accounts/account.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { PersonalData } from './personal-data.ts';

/** The lock records' model. */
export const RETENTION_LOCK_MODEL = 'RetentionLock';
const LOCK_ID = 'account-retention';
const DAY_MS = 86_400_000;
export const RETENTION_INTERVAL_MS = 60 * 60_000;
/** Idle accounts looked at between two renewals of the lock. */
const RENEW_EVERY = 200;
/** The first run waits a little after the start, so that a broker starts without delay. */
const FIRST_RUN_MS = 60_000;

export interface RetentionParts {
  readonly days: number;
  readonly accounts: AccountStore;
  /** The erasure in force (the broker rebuilds it on SIGHUP). */
  readonly personalData: () => PersonalData;
  readonly locks: StorageAdapter;
  readonly log: Logger;
  readonly now?: () => number;
  readonly intervalMs?: number;
  /** Idle accounts between two renewals of the lock (tests make it small). */
  readonly renewEvery?: number;
}

export class Retention {
  readonly #parts: RetentionParts;
  #timer: NodeJS.Timeout | undefined;

  constructor(parts: RetentionParts) {
    this.#parts = parts;
  }

  start(): void {
    const run = () => { this.run().catch((error: unknown) => this.#parts.log.error({ err: error }, 'account retention: the run failed; the next one tries again')); };
    this.#timer = setTimeout(() => {
      run();
      this.#timer = setInterval(run, this.#interval()).unref();
    }, FIRST_RUN_MS).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
  }

  #interval(): number {
    return this.#parts.intervalMs ?? RETENTION_INTERVAL_MS;
  }

  /** One run: the accounts erased, or undefined when another instance holds this interval's lock. */
  async run(): Promise<number | undefined> {
    const { days, accounts, locks, log } = this.#parts;
    const now = (this.#parts.now ?? Date.now)();
    const holder = randomUUID();
    const ttl = Math.ceil(this.#interval() / 1000);
    if (!await locks.insert(LOCK_ID, { at: now, holder }, ttl)) return undefined;
    let [erased, suspended, seen] = [0, 0, 0];
    for await (const account of accounts.idleSince(now - days * DAY_MS)) {
      seen += 1;
      if (seen % (this.#parts.renewEvery ?? RENEW_EVERY) === 0 && !await this.#renew(holder, ttl)) {
        log.warn({ retention: { days, erased, suspended } }, 'account retention: another instance holds the lock now; this run stops');
        return erased;
      }
      if (suspensionOf(account, now)) suspended += 1;
      else if (await this.#parts.personalData().eraseIdle(account)) erased += 1;
    }
    log.info({ retention: { days, erased, suspended } }, `account retention: ${erased} accounts with no login for ${days} days erased${suspended ? `, ${suspended} suspended kept` : ''}`);
    return erased;
  }

  /**
   * Extends this run's lock by an interval; false when it is no longer this run's. A
   * conditional write: a lock that lapsed and was taken by another instance between the read
   * and the write stays that instance's.
   */
  async #renew(holder: string, ttl: number): Promise<boolean> {
    const { locks } = this.#parts;
    const held = await locks.find(LOCK_ID);
    return held?.holder === holder && locks.replaceIfUnchanged(LOCK_ID, { ...held }, { ...held }, ttl);
  }
}
