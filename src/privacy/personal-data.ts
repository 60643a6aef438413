// A person's rights over what the broker holds about them (PIPL articles 44, 45 and 47),
// what operators do to an account (sign-outs, suspension) and what they looked at (which the
// person's page lists: access-log.ts) and their recent logins (login-history.ts), in one place for every way of asking: the admin API,
// the console, the accounts CLI, the person's own page and the retention job. An erasure takes the account first (so that a login in the
// middle makes a new account rather than joining the old one), then every session and
// grant held for any of its `sub`s, with every token issued under them; each relying
// party that took part is told by Back-Channel Logout, and those that asked to hear of it
// that the account is gone (a security event: oidc/security-events.ts). Those that asked also
// hear when two accounts turn out to be one person and merge (accounts/linking.ts): which
// `sub` the one they knew became.

import { subsOf, suspensionOf, type Account, type AccountId, type Identity, type LastLogin, type Suspension } from '../accounts/account.ts';
import type { AccountLinker, LoginPlace } from '../accounts/linking.ts';
import type { PhoneHolders } from '../accounts/phone-holders.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { e164 } from '../wechat/phone-number.ts';
import type { Logger } from '../log.ts';
import type { AccountRecords, Held } from '../oidc/account-records.ts';
import type { SecurityEvents } from '../oidc/security-events.ts';
import { accessView, accountView, heldView, recentLoginView } from './account-view.ts';
import type { Access, AccessLog } from './access-log.ts';
import type { LoginEntry, LoginHistory } from './login-history.ts';
import type { ExportView } from './view-schemas.ts';

/** The clients that held a grant or a session among `held`. */
const tookPart = (held: Held): Set<string> => new Set([...held.grants.map((grant) => grant.client), ...held.sessions.flatMap((session) => [...session.sids.keys()])]);

/** Who asked for a change, for the log: an admin client, an operator in the console, the CLI, the person, the retention job. */
export type Requester =
  | { readonly by: 'admin'; readonly client: string }
  | { readonly by: 'console'; readonly operator: AccountId }
  | { readonly by: 'cli' | 'self' | 'retention' };

/** The requester as an account's suspension records it: `admin:<client_id>`, `console:<sub>`, or who else asked. */
function nameOf(requester: Requester): string {
  if (requester.by === 'admin') return `admin:${requester.client}`;
  return requester.by === 'console' ? `console:${requester.operator}` : requester.by;
}

/** The most suspended accounts an operator's list shows. */
export const SUSPENSIONS_LISTED = 500;

export interface PersonalDataParts {
  readonly linker: AccountLinker;
  /** Which account a phone number was last given to: an erased account's goes with it. */
  readonly holders: PhoneHolders;
  readonly records: AccountRecords;
  /** Relying parties told that an erased account is gone. */
  readonly events: SecurityEvents;
  /** Operators' calls about each person, which their page shows. */
  readonly accesses: AccessLog;
  /** The person's recent logins, which their page shows. */
  readonly logins: LoginHistory;
  readonly apps: readonly ConfiguredApp[];
  readonly log: Logger;
}

export class PersonalData {
  readonly #parts: PersonalDataParts;
  /** The logins being kept (loggedIn), which the person's page can do without for a moment but a shutdown must not lose. */
  readonly #keeping = new Set<Promise<void>>();

  constructor(parts: PersonalDataParts) {
    this.#parts = parts;
  }

  /** The account of a `sub` (a merged-away one gives the account it joined). */
  account(sub: AccountId): Promise<Account | undefined> {
    return this.#parts.linker.byId(sub);
  }

  /**
   * The account that holds the phone number `text` (written as people write it: China's
   * without its country code), as a mini program's phone button or a WeCom member's login
   * gave it (login/phone-holding.ts); or why `text` is
   * no number. Numbers are recycled: the account found is the one that holds it now.
   */
  async accountOfPhone(text: string): Promise<Account | undefined | string> {
    const number = await e164(text);
    if (!number) return 'phone is not a phone number that can exist';
    const holder = await this.#parts.holders.holderOf(number);
    const account = holder && await this.account(holder);
    return account?.contacts?.phone?.value === number ? account : undefined;
  }

  /** The account with its sessions and grants. */
  async held(sub: AccountId): Promise<{ account: Account; held: Held } | undefined> {
    const account = await this.account(sub);
    return account && { account, held: await this.#parts.records.held(subsOf(account)) };
  }

  /** Everything the broker holds about the person, as one document (PIPL article 45). */
  async export(sub: AccountId, issuer: string): Promise<ExportView | undefined> {
    const found = await this.held(sub);
    if (!found) return undefined;
    return {
      exported_at: new Date().toISOString(), issuer,
      account: accountView(found.account, this.#parts.apps),
      ...heldView(found.held),
      // Which operator stays the company's (the console shows it; the audit log has it).
      operator_accesses: (await this.#parts.accesses.of(found.account.id)).map(accessView),
      recent_logins: (await this.#parts.logins.of(found.account.id)).map((login) => recentLoginView(login, this.#parts.apps)),
    };
  }

  /**
   * An operator's audited call (admin-audit.ts's line): when it found someone who is still
   * there, kept for them to see. Never fails the call: a failure is logged.
   */
  async accessed(call: { readonly sub?: string | undefined; readonly outcome: string; readonly action: string; readonly by: Access['by']; readonly who?: string }): Promise<void> {
    const { sub, outcome, action, by, who } = call;
    if (!sub || outcome !== 'ok' || action === 'delete') return;
    await this.#parts.accesses.record(sub, { at: Date.now(), action, by, ...(who === undefined ? {} : { who }) })
      .catch((error: unknown) => this.#parts.log.warn({ err: error, sub }, 'an operator\'s access could not be kept for the person\'s page'));
  }

  /** The operators' calls about the person, newest first. */
  accessesOf(sub: AccountId): Promise<Access[]> {
    return this.#parts.accesses.of(sub);
  }

  /**
   * A login the linker let through (its listener), where it completed, kept for the person to see,
   * without holding the login up: logins of one person at once would otherwise queue for
   * their list (on Redis a tenth more CPU a login). The list's reads in this process wait for
   * it. Never fails the login: a failure is logged.
   */
  async loggedIn(account: Account, login: LastLogin, { device, deviceFlow }: LoginPlace): Promise<void> {
    const keeping = this.#keepLogin(account.id, { ...login, ...(device === undefined ? {} : { device }), ...(deviceFlow ? { deviceFlow } : {}) })
      .catch((error: unknown) => this.#parts.log.warn({ err: error, sub: account.id }, 'a login could not be kept for the person\'s page'));
    this.#keeping.add(keeping);
    void keeping.finally(() => this.#keeping.delete(keeping));
  }

  /** Resolves once the logins being kept are written: a shutdown waits for it before storage closes. */
  async settled(): Promise<void> {
    await Promise.all(this.#keeping);
  }

  /**
   * An erasure or a merge elsewhere (another instance) may have taken the list away just
   * before this write put it back: after it, the account is looked up again, and the list
   * follows it (forgotten with an erased account, joined to a merged one's survivor).
   */
  async #keepLogin(sub: AccountId, login: LoginEntry): Promise<void> {
    await this.#parts.logins.record(sub, login);
    const now = await this.account(sub);
    if (!now) await this.#parts.logins.forget(sub);
    else if (now.id !== sub) await this.#parts.logins.absorb(now.id, [sub]);
  }

  /** The person's recent logins, newest first. */
  loginsOf(sub: AccountId): Promise<LoginEntry[]> {
    return this.#parts.logins.of(sub);
  }

  /**
   * The person says their login made at `at` was not theirs: it is marked so, a warning line
   * tells the company's security people (what was logged in, where), and the person is signed
   * out everywhere. The login as it was; undefined when the account has no such login.
   */
  async disownLogin(sub: AccountId, at: number): Promise<LoginEntry | undefined> {
    const account = await this.account(sub);
    const login = account && (await this.#parts.logins.of(account.id)).find((entry) => entry.at === at);
    if (!account || !login) return undefined;
    await this.#parts.logins.disown(account.id, at, Date.now());
    // A device's login confirmed with its code (deviceFlow) is what device-code phishing looks like.
    const { appid, client, device, deviceFlow } = login;
    this.#parts.log.warn({ privacy: { action: 'login-disowned', sub: account.id, login: { at: new Date(at).toISOString(), appid, client, device, deviceFlow } } }, 'a person says a login was not theirs');
    await this.logout(account.id, { by: 'self' });
    return login;
  }

  /** Erases the person (PIPL article 47): the account, its sessions, grants and tokens. Undefined when there is no such account. */
  async erase(sub: AccountId, requester: Requester): Promise<Account | undefined> {
    const account = await this.#parts.linker.erase(sub);
    // Without an account, whatever an interrupted erasure left behind (the account gone, a
    // storage failure before its sessions went) is ended too: asking again finishes it.
    const held = await this.#parts.records.endAll(account ? subsOf(account) : [sub]);
    if (!account) return undefined;
    await this.#erased(account, held);
    this.#parts.log.info({ privacy: { action: 'erase', sub: account.id, ...requester, sessions: held.sessions.length, grants: held.grants.length } }, 'account erased');
    return account;
  }

  /**
   * The retention job's erasure: `listed` goes only if it is exactly as it was when the job
   * listed it as idle; someone who logged in since (or an account that changed, or was
   * merged into another) stays. False when it stayed.
   */
  async eraseIdle(listed: Account): Promise<boolean> {
    if (!await this.#parts.linker.eraseUnchanged(listed)) return false;
    const held = await this.#parts.records.endAll(subsOf(listed));
    await this.#erased(listed, held);
    this.#parts.log.info({ privacy: { action: 'erase', sub: listed.id, by: 'retention', sessions: held.sessions.length, grants: held.grants.length } }, 'account erased');
    return true;
  }

  /** After an erasure: the phone number's holder forgotten, and the relying parties that asked told the account is gone. */
  async #erased(account: Account, held: Held): Promise<void> {
    await Promise.all([this.#parts.holders.forget(account), this.#parts.accesses.forget(account.id), this.#parts.logins.forget(account.id)]);
    await this.#parts.events.accountPurged(subsOf(account), tookPart(held));
  }

  /**
   * Two accounts turned out to be one person, and `absorbed` are now `into` (the linker's
   * listener, in the login that found out): the relying parties that knew an absorbed `sub`
   * (and asked to hear) are told the survivor's, so that they join their two users into one.
   * Their sessions, grants and tokens stay valid. Never fails the login: a failure is logged.
   */
  async merged(into: Account, absorbed: readonly AccountId[]): Promise<void> {
    try {
      const held = await this.#parts.records.held(absorbed);
      await this.#parts.events.accountMerged(absorbed, into.id, tookPart(held));
      this.#parts.log.info({ privacy: { action: 'merge', sub: into.id, absorbed } }, 'accounts merged: one person');
    } catch (error) {
      this.#parts.log.warn({ err: error, sub: into.id }, 'accounts merged, but the relying parties could not be told');
    }
    await this.#parts.accesses.absorb(into.id, absorbed)
      .catch((error: unknown) => this.#parts.log.warn({ err: error, sub: into.id }, 'accounts merged, but operators\' accesses to the absorbed ones could not be joined'));
    await this.#parts.logins.absorb(into.id, absorbed)
      .catch((error: unknown) => this.#parts.log.warn({ err: error, sub: into.id }, 'accounts merged, but the absorbed ones\' recent logins could not be joined'));
  }

  /**
   * Signs the person out everywhere (an operator's answer to a person who lost a phone or
   * saw a login that was not theirs): every session and grant ends, with every token issued
   * under them, and each relying party that took part is told; the account stays, and the
   * person's next login is theirs again with the same `sub`. Undefined when there is no such account.
   */
  async logout(sub: AccountId, requester: Requester): Promise<{ account: Account; held: Held } | undefined> {
    const account = await this.account(sub);
    if (!account) return undefined;
    const held = await this.#parts.records.endAll(subsOf(account));
    this.#parts.log.info({ privacy: { action: 'logout', sub: account.id, ...requester, sessions: held.sessions.length, grants: held.grants.length } }, 'signed out everywhere');
    return { account, held };
  }

  /**
   * Suspends the person (fraud, abuse, a compromised WeChat account): every session and
   * grant ends as a logout everywhere does, each relying party told, and they sign in
   * nowhere until reinstated, or until `until` when given (ms since the epoch); the account
   * and what it holds stay. A suspension already there is replaced (its reason and end; the
   * apps are told nothing more: the account was disabled already). Undefined when
   * there is no such account.
   */
  async suspend(sub: AccountId, given: { readonly reason: string; readonly until?: number | undefined }, requester: Requester): Promise<{ account: Account; held: Held } | undefined> {
    const { reason, until } = given;
    const done = await this.#parts.linker.suspend(sub, { by: nameOf(requester), reason, ...(until === undefined ? {} : { until }) });
    if (!done) return undefined;
    const { account, changed } = done;
    // After the suspension is written: a login in between is refused, not given a session this misses.
    const held = await this.#parts.records.endAll(subsOf(account));
    if (changed) await this.#parts.events.accountDisabled(subsOf(account));
    this.#parts.log.info({ privacy: { action: 'suspend', sub: account.id, ...requester, sessions: held.sessions.length, grants: held.grants.length } }, changed ? 'account suspended' : 'suspension replaced');
    return { account, held };
  }

  /**
   * Every suspended account, the latest suspension first, at most SUSPENSIONS_LISTED (for an
   * operator's review, not a request path: the account store's `suspended()`, from an index
   * on MongoDB, a pass over the accounts elsewhere).
   */
  async suspended(): Promise<Account[]> {
    const found: Account[] = [];
    const now = Date.now();
    for await (const account of this.#parts.linker.suspendedAccounts()) if (suspensionOf(account, now)) found.push(account);
    return found.sort((a, b) => b.suspended!.at - a.suspended!.at).slice(0, SUSPENSIONS_LISTED);
  }

  /** Lifts the person's suspension: they sign in again as before, with the same `sub`. Undefined when there is no such account. */
  async reinstate(sub: AccountId, requester: Requester): Promise<Account | undefined> {
    const done = await this.#parts.linker.reinstate(sub);
    if (!done) return undefined;
    if (done.changed) await this.#parts.events.accountEnabled(subsOf(done.account));
    this.#parts.log.info({ privacy: { action: 'reinstate', sub: done.account.id, ...requester } }, 'account reinstated');
    return done.account;
  }

  /**
   * A suspension that ended by itself was lifted at the person's login (accounts/linking.ts):
   * the company's apps are told, as at a reinstatement. The login waits for this, and a
   * failure to tell is logged, never the login's.
   */
  async suspensionEnded(account: Account, ended: Suspension): Promise<void> {
    try {
      await this.#parts.events.accountEnabled(subsOf(account));
    } catch (error) {
      this.#parts.log.warn({ err: error, sub: account.id }, 'a suspension ended, but the relying parties could not be told');
    }
    this.#parts.log.info({ privacy: { action: 'suspension-ended', sub: account.id, until: new Date(ended.until ?? 0).toISOString() } }, 'account reinstated: its suspension ended');
  }

  /** Logs the person out of one browser or device (its session's uid): its apps are told, its grants and tokens end. False when they have no such session. */
  async logoutSession(sub: AccountId, uid: string, requester: Requester): Promise<boolean> {
    const account = await this.account(sub);
    if (!account || !await this.#parts.records.endSession(subsOf(account), uid)) return false;
    this.#parts.log.info({ privacy: { action: 'logout-session', sub: account.id, ...requester } }, 'signed out of one device');
    return true;
  }

  /** Takes one identity out of the account; it logs in as a new account from then on. */
  async unlink(sub: AccountId, identity: Identity, requester: Requester): Promise<Account | undefined> {
    const account = await this.#parts.linker.unlink(sub, identity);
    if (account) this.#parts.log.info({ privacy: { action: 'unlink', sub: account.id, appid: identity.appid, ...requester } }, 'identity unlinked');
    return account;
  }

  /** Revokes one relying party's access (its grants and tokens); it is told. False when it had none. */
  async revoke(sub: AccountId, client: string, requester: Requester): Promise<boolean> {
    const account = await this.account(sub);
    if (!account || !await this.#parts.records.revokeClient(subsOf(account), client)) return false;
    this.#parts.log.info({ privacy: { action: 'revoke', sub: account.id, client, ...requester } }, 'grant revoked');
    return true;
  }
}
