// Who a WeChat login is. The only place that compares openids and unionids.
//
// Rules: find by unionid first, then by (appid, openid). A unionid seen for the first time
// on an openid-only account is attached to it. Two accounts that turn out to share a
// unionid are merged into the older one, but never two accounts that each have their own
// unionid: that login is refused (IdentityConflictError) and nothing changes. Nothing but WeChat's identifiers ever links
// accounts (never a nickname or an avatar). The latest profile and every (appid, openid)
// are kept. An identity an operator unlinked from an account is never linked back to it
// through the unionid: it logs in as an account of its own, without that unionid.

import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account, AccountId, Contact, ContactKind, Contacts, Identity, LastLogin, LoginFacts, Suspension } from './account.ts';
import { longerSuspension, sameIdentity, subsOf, suspensionOf } from './account.ts';
import { AccountConflictError, AccountSuspendedError, IdentityConflictError, UnlinkRefusedError, type AccountStore } from './store.ts';

/** Stores settle races by refusing a write; a few rounds, apart by a random wait, always converge. */
const ATTEMPTS = 6;
/** The first retry waits up to this long; each next one up to twice as long as the last. */
const FIRST_BACKOFF_MS = 4;

/** An account after a change that may have had nothing to do (`changed` false: it was already so). */
export interface Changed {
  readonly account: Account;
  readonly changed: boolean;
}

/** Told when two accounts turned out to be one person: `into` survives, `absorbed` are the `sub`s it took in. */
export type MergedListener = (into: Account, absorbed: readonly AccountId[]) => Promise<void>;

/** Told when a suspension that ended by itself is lifted: `ended` is what it was, `account` the account without it. */
export type SuspensionEndedListener = (account: Account, ended: Suspension) => Promise<void>;

/**
 * Where a login completed: the browser or device (http/browser-name.ts's words; none for a
 * mini program's own login), and whether it was a device's login (RFC 8628) the person
 * confirmed there with the device's code.
 */
export interface LoginPlace {
  readonly device?: string | undefined;
  readonly deviceFlow?: true;
}

/** Told of each login the linker let through (not one a suspension refused): the account, the login as its `lastLogin` records it, and where it completed. */
export type LoginListener = (account: Account, login: LastLogin, place: LoginPlace) => Promise<void>;

export class AccountLinker {
  readonly #store: AccountStore;
  readonly #now: () => number;
  #merged: MergedListener | undefined;
  #suspensionEnded: SuspensionEndedListener | undefined;
  #login: LoginListener | undefined;

  constructor(store: AccountStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Who hears of a merge (the relying parties are told through it: privacy/personal-data.ts); the login waits for it. */
  onMerged(listener: MergedListener): void {
    this.#merged = listener;
  }

  /** Who hears that a suspension ended by itself (the relying parties are told through it); the login waits for it. */
  onSuspensionEnded(listener: SuspensionEndedListener): void {
    this.#suspensionEnded = listener;
  }

  /** Who hears of each login let through (the person's login history: privacy/login-history.ts); the login waits for the listener's promise. */
  onLogin(listener: LoginListener): void {
    this.#login = listener;
  }

  /** Every account with a suspension written, held or ended (for an operator's review, never a request path). */
  suspendedAccounts(): AsyncIterable<Account> {
    return this.#store.suspended();
  }

  /** The account of a `sub` (following merges). */
  async byId(id: AccountId): Promise<Account | undefined> {
    return this.#store.findById(id);
  }

  /** The account that holds this (appid, openid), without creating one. */
  async find(identity: Identity): Promise<Account | undefined> {
    return this.#store.findByIdentity(identity);
  }

  /**
   * The account of the person behind `facts` (a login), created, completed or merged as
   * needed. A suspended account's login is recorded, then refused: AccountSuspendedError.
   * A suspension that has ended by itself is lifted here, the first time it matters.
   */
  async resolve(facts: LoginFacts): Promise<Account> {
    const resolved = await this.#retrying(() => this.#resolveOnce(facts));
    const account = resolved.suspended ? await this.#unlessSuspended(resolved) : resolved;
    // A login for a relying party records itself as the account's last (lastLoginOf).
    if (facts.client !== undefined && resolved.lastLogin) await this.#login?.(account, resolved.lastLogin, { device: facts.device });
    return account;
  }

  /**
   * A device's login (RFC 8628) that the person, logged in here, confirmed in `device`
   * (login/consent.ts): heard as a login of the device's client, whether they logged in for
   * it just now or long before, so that a code someone else got them to enter is on their
   * list of logins. (A suspended account has no session to confirm with.)
   */
  async deviceConfirmed(account: Account, login: LastLogin, device: string): Promise<void> {
    await this.#login?.(account, login, { device, deviceFlow: true });
  }

  /** `account` once its suspension ended by itself; AccountSuspendedError while one holds. */
  async #unlessSuspended(account: Account): Promise<Account> {
    const held = suspensionOf(account, this.#now());
    if (held) throw new AccountSuspendedError(account.id, held.until);
    return this.#endSuspension(account.id);
  }

  /** Lifts a suspension that ended (once, whoever gets there first) and tells the listener; refuses one written meanwhile. */
  async #endSuspension(id: AccountId): Promise<Account> {
    let ended: Suspension | undefined;
    const done = await this.#change(id, ({ suspended, ...account }, now) => {
      ended = suspended && !suspensionOf({ ...account, suspended }, now) ? suspended : undefined;
      return ended && account;
    });
    if (!done) throw new AccountConflictError('the account was erased during the login');
    if (done.account.suspended) throw new AccountSuspendedError(done.account.id, done.account.suspended.until);
    if (done.changed && ended) await this.#suspensionEnded?.(done.account, ended);
    return done.account;
  }

  /**
   * Takes `identity` out of the account of `id` (which keeps its unionid, and remembers
   * the identity as detached), so that it logs in as a new account. Undefined when there
   * is no such account; UnlinkRefusedError when the account does not hold the identity or
   * holds nothing else.
   */
  unlink(id: AccountId, identity: Identity): Promise<Account | undefined> {
    return this.#retrying(async () => {
      const account = await this.#store.findById(id);
      if (!account) return undefined;
      const identities = account.identities.filter((known) => !sameIdentity(known, identity));
      if (identities.length === account.identities.length) throw new UnlinkRefusedError('NOT_LINKED', 'the account does not hold this identity');
      if (identities.length === 0) throw new UnlinkRefusedError('LAST_IDENTITY', 'this is the account\'s only identity: erase the account instead');
      const detached = [...account.detached ?? [], identity];
      const unlinked: Account = { ...account, identities, detached, updatedAt: later(account, this.#now()) };
      await this.#store.unlink(unlinked, account.updatedAt, identity);
      return unlinked;
    });
  }

  /**
   * An identity that its upstream renamed (a WeCom admin changed a member's userid): the
   * account keeps its `sub` and answers to `to` instead of `from`. `'none'` when no account
   * holds `from`; `'taken'` when another account already holds `to` (a login under the new
   * id came first): nothing changes, and the operator decides.
   */
  rename(from: Identity, to: Identity): Promise<Account | 'none' | 'taken'> {
    return this.#retrying(async () => {
      const account = await this.#store.findByIdentity(from);
      if (!account) return 'none';
      const holder = await this.#store.findByIdentity(to);
      if (holder && holder.id !== account.id) return 'taken';
      // Two conditional writes: claim `to` (its index entry), then free `from`. In between the
      // account answers to both, never to neither.
      const both: Account = { ...account, identities: addIdentity(account.identities, to), updatedAt: later(account, this.#now()) };
      if (!holder) await this.#store.update(both, account.updatedAt);
      const base = holder ? account : both;
      const renamed: Account = { ...base, identities: base.identities.filter((known) => !sameIdentity(known, from)), updatedAt: later(base, this.#now()) };
      await this.#store.unlink(renamed, base.updatedAt, from);
      return renamed;
    });
  }

  /**
   * Gives the account of `id` a contact detail outside a login (a mini program's phone
   * number), stamped now; the account as written, or undefined when there is none. Never
   * a linking key: whoever else has the same value keeps it.
   */
  recordContact(id: AccountId, kind: ContactKind, contact: Omit<Contact, 'at'>): Promise<Account | undefined> {
    return this.#retrying(async () => {
      const account = await this.#store.findById(id);
      if (!account) return undefined;
      const now = this.#now();
      const updated: Account = { ...account, contacts: { ...account.contacts, [kind]: { ...contact, at: now } }, updatedAt: later(account, now) };
      await this.#store.update(updated, account.updatedAt);
      return updated;
    });
  }

  /**
   * Suspends the account of `id` (following merges): it keeps everything, and signs in
   * nowhere until reinstated (or until `until`). A suspension already there is replaced by
   * this one (its reason and end, with this one's time and who: what a PUT asks, RFC 9110
   * 9.3.4). The account as it now is, and whether this suspended it (`changed` false: it was
   * suspended already, and stays so); undefined when there is none.
   */
  async suspend(id: AccountId, suspension: Omit<Suspension, 'at'>): Promise<Changed | undefined> {
    let held = false;
    const done = await this.#change(id, (account, now) => {
      held = suspensionOf(account, now) !== undefined;
      return { ...account, suspended: { ...suspension, at: now } };
    });
    return done && { account: done.account, changed: !held };
  }

  /** Lifts the account's suspension: the account as it now is, and whether it was suspended; undefined when there is none. */
  reinstate(id: AccountId): Promise<Changed | undefined> {
    return this.#change(id, ({ suspended, ...account }) => (suspended ? account : undefined));
  }

  /** Writes `change` of the account of `id` unless it gives undefined (nothing to change). */
  #change(id: AccountId, change: (account: Account, now: number) => Account | undefined): Promise<Changed | undefined> {
    return this.#retrying(async () => {
      const account = await this.#store.findById(id);
      if (!account) return undefined;
      const now = this.#now();
      const changed = change(account, now);
      if (!changed) return { account, changed: false };
      const updated = { ...changed, updatedAt: later(account, now) };
      await this.#store.update(updated, account.updatedAt);
      return { account: updated, changed: true };
    });
  }

  /** Erases the account of `id` (following merges) and returns what it was; undefined when there is none. */
  erase(id: AccountId): Promise<Account | undefined> {
    return this.#retrying(async () => {
      const account = await this.#store.findById(id);
      if (account) await this.#store.erase(account, account.updatedAt);
      return account;
    });
  }

  async #retrying<T>(once: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await once();
      } catch (error) {
        if (!(error instanceof AccountConflictError) || attempt >= ATTEMPTS) throw error;
        // Jittered: logins that collided once do not collide again in step.
        await sleep(randomInt(FIRST_BACKOFF_MS << (attempt - 1)) + 1);
      }
    }
  }

  async #resolveOnce(given: LoginFacts): Promise<Account> {
    const found = given.unionid === undefined ? undefined : await this.#store.findByUnionid(given.unionid);
    // An unlinked identity: the unionid's account is not its own, and the unionid stays there.
    const detached = found?.detached?.some((identity) => sameIdentity(identity, given.identity)) ?? false;
    const facts: LoginFacts = detached ? { ...given, unionid: undefined } : given;
    const byUnionid = detached ? undefined : found;
    const byIdentity = await this.#store.findByIdentity(facts.identity);
    const now = this.#now();
    if (byUnionid && byIdentity && byUnionid.id !== byIdentity.id) {
      // Two accounts that each have their own unionid are two people, whatever WeChat said now.
      if (byIdentity.unionid !== undefined) throw new IdentityConflictError(byIdentity.id);
      const [older, younger] = byUnionid.createdAt <= byIdentity.createdAt
        ? [byUnionid, byIdentity] : [byIdentity, byUnionid];
      const absorbed = withFacts(absorb(older, younger, now), facts, now);
      const login = lastLoginOf(facts, now);
      const merged: Account = { ...absorbed, ...(login ? { lastLogin: login } : {}) };
      await this.#store.merge(merged, older.updatedAt, younger);
      await this.#merged?.(merged, subsOf(younger));
      return merged;
    }

    const existing = byUnionid ?? byIdentity;
    if (existing) return this.#loggedIn(existing, facts, now);

    const login = lastLoginOf(facts, now);
    const created: Account = {
      id: randomUUID() as AccountId,
      createdAt: now,
      updatedAt: now,
      unionid: facts.unionid,
      identities: [facts.identity],
      profile: facts.profile ?? {},
      ...withContacts(undefined, facts, now),
      ...(login ? { lastLogin: login } : {}),
    };
    await this.#store.create(created);
    return created;
  }

  /**
   * `existing` after one more login: new identity facts are a conditional write (retried
   * on a conflict); a login that changes nothing else is only recorded (`touch`), which
   * logins of one person at the same moment never contend over.
   */
  async #loggedIn(existing: Account, facts: LoginFacts, now: number): Promise<Account> {
    const login = lastLoginOf(facts, now);
    const completed = withFacts(existing, facts, now);
    if (completed !== existing) {
      const updated: Account = { ...completed, ...(login ? { lastLogin: login } : {}), updatedAt: later(existing, now) };
      await this.#store.update(updated, existing.updatedAt);
      return updated;
    }
    if (!login) return existing;
    await this.#store.touch(existing.id, login);
    return { ...existing, lastLogin: login };
  }

  /**
   * Retention: erases `listed` only if it is exactly as it was listed as idle (no login,
   * no change since); false when it is not, and nothing changes.
   */
  async eraseUnchanged(listed: Account): Promise<boolean> {
    try {
      await this.#store.erase(listed, listed.updatedAt);
      return true;
    } catch (error) {
      if (error instanceof AccountConflictError) return false;
      throw error;
    }
  }
}

/**
 * An updatedAt after `account`'s: stores write conditionally on the updatedAt they read,
 * so every write must change it, even within one millisecond.
 */
function later(account: Account, now: number): number {
  return Math.max(now, account.updatedAt + 1);
}

function addIdentity(identities: readonly Identity[], identity: Identity): readonly Identity[] {
  return identities.some((known) => sameIdentity(known, identity)) ? identities : [...identities, identity];
}

/** `older` with everything `younger` knew; the younger profile is the more recent one when it has one, each contact the more recent one. */
function absorb(older: Account, younger: Account, now: number): Account {
  const identities = younger.identities.reduce(addIdentity, older.identities);
  const profile = younger.updatedAt >= older.updatedAt ? { ...older.profile, ...younger.profile } : older.profile;
  const mergedFrom = [...older.mergedFrom ?? [], younger.id, ...younger.mergedFrom ?? []];
  const contacts: Contacts = {};
  for (const kind of CONTACT_KINDS) {
    const [mine, theirs] = [older.contacts?.[kind], younger.contacts?.[kind]];
    const newer = mine && theirs ? (theirs.at > mine.at ? theirs : mine) : mine ?? theirs;
    if (newer) contacts[kind] = newer;
  }
  // A suspension of either stays, the later-ending one: merging is never a way out of one.
  const suspended = longerSuspension(older.suspended, younger.suspended);
  const merged = { ...older, unionid: older.unionid ?? younger.unionid, identities, profile, mergedFrom, updatedAt: later(older, now), ...(suspended ? { suspended } : {}) };
  return Object.keys(contacts).length ? { ...merged, contacts } : merged;
}

const CONTACT_KINDS: readonly ContactKind[] = ['phone', 'email'];

/** `{ contacts }` of `account` with the login's contact details that differ from it, stamped `now`; `{}` when there are none. */
function withContacts(account: Account | undefined, facts: LoginFacts, now: number): { contacts?: Contacts } {
  const contacts: Contacts = { ...account?.contacts };
  for (const kind of CONTACT_KINDS) {
    const given = facts.contacts?.[kind];
    const held = contacts[kind];
    if (given && !(held && held.value === given.value && held.verified === given.verified && held.source === given.source)) contacts[kind] = { ...given, at: now };
  }
  return Object.keys(contacts).length ? { contacts } : {};
}

/**
 * `account` completed with one login's identity facts (identities, unionid, profile, contact details), or
 * `account` itself when they add nothing. An account keeps the unionid it has: WeChat gives
 * an openid exactly one unionid, so a different one would be WeChat's error, and relinking
 * on it would hand the account over.
 */
function withFacts(account: Account, facts: LoginFacts, now: number): Account {
  const identities = addIdentity(account.identities, facts.identity);
  const unionid = account.unionid ?? facts.unionid;
  const profile = facts.profile ? { ...account.profile, ...facts.profile } : account.profile;
  const { contacts } = withContacts(account, facts, now);
  const changed = identities !== account.identities
    || unionid !== account.unionid
    || profile.nickname !== account.profile.nickname
    || profile.picture !== account.profile.picture
    || CONTACT_KINDS.some((kind) => contacts?.[kind] !== account.contacts?.[kind]);
  return changed ? { ...account, identities, unionid, profile, ...(contacts ? { contacts } : {}) } : account;
}

/** A login's record: when, through which app, for which client; none for facts that are no login. */
function lastLoginOf(facts: LoginFacts, now: number): LastLogin | undefined {
  if (facts.client === undefined) return undefined;
  return { at: now, appid: facts.identity.appid, client: facts.client };
}
