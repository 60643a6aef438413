// A person as the broker knows them. `id` is the OIDC `sub`: opaque, stable, never an openid.

import { z } from 'zod';
import type { AppId, Openid, Unionid } from '../wechat/types.ts';

export type AccountId = string & { readonly __brand: 'AccountId' };

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * What a `sub` the broker gives or takes can look like (a UUID it made, or a company's own id
 * brought in by an import): the one rule the admin API, the accounts CLI and the import share.
 */
export function isAccountId(value: unknown): value is AccountId {
  return typeof value === 'string' && ACCOUNT_ID.test(value);
}

/**
 * One (appid, openid) pair WeChat vouched for. A WeCom member (企业微信) is kept the same
 * way as (`wecom:<corpid>`, userid), and somebody WeCom names but who is not a member as
 * (`wecom-guest:<corpid>`, openid) (weComIdentity below): no WeChat appid has a colon, and
 * such an identity never comes with a unionid, so it is never linked to a WeChat person
 * (no WeCom API links a member to a unionid; ../shared/wecom-and-phone.md 1.4).
 */
export interface Identity {
  readonly appid: AppId;
  readonly openid: Openid;
}

const WECOM_MEMBER = 'wecom:';
const WECOM_GUEST = 'wecom-guest:';

/** A WeCom member's identity (`userid`), or a non-member's (`openid`), in the company `corpid`. */
export function weComIdentity(corpid: string, person: { readonly userid: string } | { readonly openid: string }): Identity {
  return 'userid' in person
    ? { appid: `${WECOM_MEMBER}${corpid}` as AppId, openid: person.userid as Openid }
    : { appid: `${WECOM_GUEST}${corpid}` as AppId, openid: person.openid as Openid };
}

/** The WeCom company of an identity, a member's or a guest's; undefined for a WeChat one. */
export function weComCorpidOf(identity: Identity): string | undefined {
  const prefix = [WECOM_MEMBER, WECOM_GUEST].find((kind) => identity.appid.startsWith(kind));
  return prefix === undefined ? undefined : identity.appid.slice(prefix.length);
}

/** The company and userid of a WeCom member's identity; undefined for any other. */
export function weComMemberOf(identity: Identity): { readonly corpid: string; readonly userid: string } | undefined {
  return identity.appid.startsWith(WECOM_MEMBER) ? { corpid: identity.appid.slice(WECOM_MEMBER.length), userid: identity.openid } : undefined;
}

export interface Profile {
  readonly nickname?: string;
  /** An https URL of the avatar. */
  readonly picture?: string;
}

/** The contact details a person can have: OIDC's `phone` and `email` scopes (OIDC Core 5.4). */
export type ContactKind = 'phone' | 'email';

/**
 * A phone number (E.164) or an email address, as WeChat or WeCom gave it. Never a linking
 * key: carriers recycle numbers, and two accounts with one number stay two accounts.
 */
export interface Contact {
  readonly value: string;
  /** Whether the source verified it is the person's (OIDC Core 5.1 `phone_number_verified`, `email_verified`). */
  readonly verified: boolean;
  /** Where it came from: `wecom:<corpid>` (a member's consent, snsapi_privateinfo), `wechat-phone:<appid>` (a mini program's phone button). */
  readonly source: string;
  /** When it was given, ms since the epoch. */
  readonly at: number;
}

export type Contacts = Partial<Record<ContactKind, Contact>>;

const PHONE_BUTTON = 'wechat-phone:';

/** The source of a number a mini program's phone-number button gave. */
export function phoneButtonSource(appid: string): string {
  return `${PHONE_BUTTON}${appid}`;
}

/** The mini program a contact detail came from, when its phone-number button gave it. */
export function phoneButtonApp(contact: Contact): string | undefined {
  return contact.source.startsWith(PHONE_BUTTON) ? contact.source.slice(PHONE_BUTTON.length) : undefined;
}

/** The latest login: when, through which WeChat app, for which relying party (when one asked). */
export interface LastLogin {
  /** ms since the epoch. */
  readonly at: number;
  readonly appid: AppId;
  readonly client?: string;
}

export interface Account {
  readonly id: AccountId;
  /** ms since the epoch; the older of two accounts wins a merge. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly unionid?: Unionid;
  readonly identities: readonly Identity[];
  readonly profile: Profile;
  readonly contacts?: Contacts;
  readonly lastLogin?: LastLogin;
  /** The `sub`s merged into this account (they keep resolving to it). */
  readonly mergedFrom?: readonly AccountId[];
  /** Identities an operator unlinked from this account: its unionid never links them back. */
  readonly detached?: readonly Identity[];
  /** Set while an operator keeps the person from signing in (accounts/linking.ts `suspend`). */
  readonly suspended?: Suspension;
}

/** An operator's suspension of an account: no login, no token, until reinstated or until it ends. */
export interface Suspension {
  /** ms since the epoch. */
  readonly at: number;
  /** Who suspended it: an admin API client (`admin:<client_id>`), a console operator (`console:<sub>`), or `cli`. */
  readonly by: string;
  /** Why, as the operator wrote it (for operators and the person's export; never shown on a login page). */
  readonly reason: string;
  /**
   * When it ends by itself (ms since the epoch); absent, it lasts until an operator lifts
   * it. An ended one stays written until the account's next login or suspension
   * (accounts/linking.ts), which is when the apps are told; it holds nothing meanwhile.
   */
  readonly until?: number;
}

/** The account's suspension while it holds at `now`; undefined when there is none or it has ended. */
export function suspensionOf(account: Account, now: number): Suspension | undefined {
  const suspension = account.suspended;
  return suspension && (suspension.until === undefined || suspension.until > now) ? suspension : undefined;
}

/** The later-ending of two suspensions (one without an end outlasts any), `first` on a tie. */
export function longerSuspension(first: Suspension | undefined, second: Suspension | undefined): Suspension | undefined {
  if (!first || !second) return first ?? second;
  return (second.until ?? Infinity) > (first.until ?? Infinity) ? second : first;
}

/**
 * The moment of the account's last sign of life: its last login, or, for an account
 * written before logins were recorded, its last change (never merely its creation: an
 * upgrade that switches retention on must not erase people who were active all along).
 */
export function lastSeen(account: Account): number {
  return account.lastLogin?.at ?? account.updatedAt;
}

/** The account's own id and every id merged into it: all the `sub`s it answers to. */
export function subsOf(account: Account): AccountId[] {
  return [account.id, ...account.mergedFrom ?? []];
}

/** The longest reason a suspension keeps. */
export const REASON_MAX = 500;

/** Why an operator suspends an account, as given (trimmed); undefined when it is empty, too long or holds a control character. */
export function suspensionReason(value: unknown): string | undefined {
  const reason = typeof value === 'string' ? value.trim() : '';
  return reason && reason.length <= REASON_MAX && !/\p{Cc}/u.test(reason) ? reason : undefined;
}

/**
 * When a suspension given as `value` ends: an RFC 3339 date-time with its offset
 * (`2027-01-31T00:00:00+08:00`), after `now`; ms since the epoch, or undefined when it is
 * not such a time.
 */
export function suspensionEnd(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || !RFC3339.safeParse(value).success) return undefined;
  const end = Date.parse(value);
  return end > now ? end : undefined;
}

const RFC3339 = z.iso.datetime({ offset: true });

/** What one WeChat login tells the broker about a person. */
export interface LoginFacts {
  readonly identity: Identity;
  readonly unionid?: Unionid;
  /** Present when WeChat returned a profile (snsapi_userinfo, snsapi_login). */
  readonly profile?: Profile;
  /** Contact details the login gave (WeCom's privateinfo); each is stamped with the time it was recorded. */
  readonly contacts?: Partial<Record<ContactKind, Omit<Contact, 'at'>>>;
  /** The relying party the login is for, when it is a login (not, say, a lookup). */
  readonly client?: string;
  /**
   * The browser or device the login completes in, in http/browser-name.ts's few fixed words
   * ("Chrome · Windows"), for the person's recent logins; absent where there is none (a mini
   * program's own login). The account keeps none of it.
   */
  readonly device?: string;
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.appid === b.appid && a.openid === b.openid;
}
