// How the admin API, the accounts CLI and the export show an account and what is held
// for it, and find one by key: the same JSON whichever way it is asked for.

import { isAccountId, suspensionOf, weComCorpidOf, weComIdentity, weComMemberOf, type Account, type Contact, type Identity, type LastLogin, type Suspension } from '../accounts/account.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type Provider from 'oidc-provider';
import type { Held } from '../oidc/account-records.ts';
import { accountOfPairwise } from '../oidc/pairwise.ts';
import type { AppId, Openid, Unionid } from '../wechat/types.ts';
import { isWeChatId } from '../wechat/types.ts';
import { isWeComCorpid, isWeComOpenid, isWeComUserId } from '../wechat/wecom.ts';
import type { AccessesView, AccountView, HeldView, LoginsView, LoginView, RecentLoginView, SignedOutView, SuspensionView } from './view-schemas.ts';
import type { Access } from './access-log.ts';
import type { LoginEntry } from './login-history.ts';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

const contactView = (contact: Contact | undefined) =>
  contact ? { value: contact.value, verified: contact.verified, source: contact.source, at: new Date(contact.at).toISOString() } : null;

/** A WeCom identity's company with its userid (a member's) or openid (a non-member's), named as a lookup names them. */
function weComView(identity: Identity): { wecom_corpid: string; wecom_userid: string } | { wecom_corpid: string; wecom_openid: string } | undefined {
  const member = weComMemberOf(identity);
  if (member) return { wecom_corpid: member.corpid, wecom_userid: member.userid };
  const corpid = weComCorpidOf(identity);
  return corpid === undefined ? undefined : { wecom_corpid: corpid, wecom_openid: identity.openid };
}

/** The account as the admin API shows it: identities with the app id they belong to (a WeCom one's with its company and userid or openid). */
export function accountView(account: Account, apps: readonly ConfiguredApp[]): AccountView {
  const appOf = (appid: string) => apps.find((app) => app.appid === appid)?.id ?? null;
  const identity = ({ appid, openid }: Identity) => ({ app: appOf(appid), appid, openid, ...weComView({ appid, openid }) });
  const { lastLogin } = account;
  return {
    sub: account.id,
    unionid: account.unionid ?? null,
    identities: account.identities.map(identity),
    profile: { nickname: account.profile.nickname ?? null, picture: account.profile.picture ?? null },
    // Contact details with where and when they were given: what the phone and email claims say.
    contacts: {
      phone: contactView(account.contacts?.phone),
      email: contactView(account.contacts?.email),
    },
    created_at: new Date(account.createdAt).toISOString(),
    updated_at: new Date(account.updatedAt).toISOString(),
    last_login: lastLogin ? loginView(lastLogin, apps) : null,
    merged_from: [...account.mergedFrom ?? []],
    // Identities an operator unlinked: kept so that the unionid never links them back.
    unlinked_identities: (account.detached ?? []).map(({ appid, openid }) => ({ app: appOf(appid), appid, openid })),
    // An operator's suspension while it holds: when, who (admin:<client>, console:<sub>, cli), why, until when.
    suspended: suspensionView(suspensionOf(account, Date.now())),
  };
}


/** A login as the views show it: when, through which app (its id in WECHAT_APPS_FILE, and WeChat's AppID), for which relying party. */
function loginView({ at, appid, client }: LastLogin, apps: readonly ConfiguredApp[]): LoginView {
  return { at: new Date(at).toISOString(), app: apps.find((app) => app.appid === appid)?.id ?? null, appid, client: client ?? null };
}

/** One of the person's recent logins, as the export and the admin API show it: where it completed, and whether they disowned it. */
export function recentLoginView(login: LoginEntry, apps: readonly ConfiguredApp[]): RecentLoginView {
  return { ...loginView(login, apps), device: login.device ?? null, device_flow: login.deviceFlow === true, disowned_at: iso(login.disowned) };
}

/** The person's recent logins (GET …/:sub/logins, `accounts logins`). */
export function loginsView(account: Account, logins: readonly LoginEntry[], apps: readonly ConfiguredApp[]): LoginsView {
  return { sub: account.id, logins: logins.map((login) => recentLoginView(login, apps)) };
}

/** An operator's suspension as the admin API and the console show it. */
function suspensionView(suspension: Suspension | undefined): SuspensionView | null {
  if (!suspension) return null;
  const { at, by, reason, until } = suspension;
  return { at: new Date(at).toISOString(), by, reason, until: until === undefined ? null : new Date(until).toISOString() };
}

/** A list of suspended accounts (PersonalData.suspended): each `sub` with its suspension. */
export function suspendedView(accounts: readonly Account[]): Array<SuspensionView & { sub: string }> {
  return accounts.flatMap((account) => {
    const suspension = suspensionView(suspensionOf(account, Date.now()));
    return suspension ? [{ sub: account.id, ...suspension }] : [];
  });
}

/** The person's sessions and the relying parties' grants, as the export shows them. */
export function heldView(held: Held): HeldView {
  return {
    sessions: held.sessions.map((session) => ({
      // Its stable uid (not its id, the cookie's secret): what ends this one session. An app's own login (token exchange) has none.
      uid: session.uid ?? null, sub: session.sub, logged_in_at: iso(session.loginAt), expires_at: iso(session.expiresAt), clients: [...session.sids.keys()],
      device: session.device?.name ?? null, last_used_at: iso(session.device?.usedAt),
    })),
    grants: held.grants.map((grant) => ({
      sub: grant.sub, client: grant.client, scope: grant.scope, apis: grant.resources, granted_at: iso(grant.grantedAt), expires_at: iso(grant.expiresAt),
    })),
  };
}

/** An operator's audited call as the person's export shows it: when, what, through what (never who). */
export const accessView = ({ at, action, by }: Access) => ({ at: new Date(at).toISOString(), action, by });

/** The operators' audited calls about the account, newest first, with which client or operator made each (for operators only). */
export function accessesView(account: Account, accesses: readonly Access[]): AccessesView {
  return { sub: account.id, accesses: accesses.map((access) => ({ ...accessView(access), who: access.who ?? null })) };
}

/** What signing a person out everywhere ended, as the admin API and the accounts CLI answer it. */
export function signedOutView(account: Account, held: Held): SignedOutView {
  return { sub: account.id, sessions_ended: held.sessions.length, grants_revoked: held.grants.length };
}

/**
 * What a lookup can name: an account's own `sub`, a unionid, one WeChat identity (appid and
 * openid), a WeCom member (corpid and userid) or non-member (corpid and openid), a phone
 * number (one a mini program's phone button or a WeCom member's login gave), or a pairwise
 * client and the `sub` it knows the person by (OIDC Core 8.1). The admin API's query, the
 * console's search and the accounts CLI all take these names.
 */
export const LOOKUP_NAMES = ['sub', 'unionid', 'appid', 'openid', 'wecom_corpid', 'wecom_userid', 'wecom_openid', 'client', 'phone'] as const;

export type AccountKey = Readonly<Partial<Record<(typeof LOOKUP_NAMES)[number], unknown>>>;

/** The lookup a request's query names (its other parameters left out). */
export const keyOf = (query: Readonly<Record<string, unknown>>): AccountKey =>
  Object.fromEntries(LOOKUP_NAMES.filter((name) => query[name] !== undefined).map((name) => [name, query[name]]));

/** The lookups that are not the account store's own, each giving the account or why it cannot be asked. */
export interface Lookups {
  /** The account behind pairwise client `client`'s `sub` (oidc/pairwise.ts). */
  readonly pairwise: (client: string, sub: string) => Promise<Account | undefined | string>;
  /** The account that holds a phone number (personal-data.ts `accountOfPhone`). */
  readonly phone: (number: string) => Promise<Account | undefined | string>;
}

/** The lookups for the broker's stores: pairwise `sub`s by the provider's clients and PAIRWISE_SECRET, phone numbers by what is held (personal-data.ts). */
export function lookupsOf(provider: Provider, pairwiseSecret: string | undefined, accounts: AccountStore, personalData: { accountOfPhone: Lookups['phone'] }): Lookups {
  return {
    pairwise: (client, sub) => accountOfPairwise(provider, pairwiseSecret, accounts, client, sub),
    phone: (number) => personalData.accountOfPhone(number),
  };
}

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
const PAIRWISE_SUB = /^[A-Za-z0-9_-]{1,128}$/;

/** The account a lookup names, or the reason it names none properly. */
export async function findAccount(accounts: AccountStore, key: AccountKey, lookups: Lookups): Promise<Account | undefined | string> {
  const { unionid, appid, openid, wecom_corpid: corpid, wecom_userid: userid, wecom_openid: guest, client, sub, phone } = key;
  const given = Object.keys(key).filter((name) => key[name as keyof AccountKey] !== undefined).sort().join(' ');
  if (given === 'client sub') {
    return typeof client === 'string' && CLIENT_ID.test(client) && typeof sub === 'string' && PAIRWISE_SUB.test(sub) ? lookups.pairwise(client, sub) : 'client and sub must be a client_id and a sub';
  }
  if (given === 'sub') return isAccountId(sub) ? accounts.findById(sub) : 'sub is not an account id';
  if (given === 'phone') return typeof phone === 'string' ? lookups.phone(phone) : 'phone must be one number';
  if (given === 'unionid') return isWeChatId(unionid) ? accounts.findByUnionid(unionid as Unionid) : 'unionid is not a WeChat id';
  if (given === 'appid openid') {
    return isWeChatId(appid) && isWeChatId(openid) ? accounts.findByIdentity({ appid: appid as AppId, openid: openid as Openid }) : 'appid and openid must be WeChat ids';
  }
  if (given === 'wecom_corpid wecom_userid') {
    return isWeComCorpid(corpid) && isWeComUserId(userid) ? accounts.findByIdentity(weComIdentity(corpid, { userid })) : 'wecom_corpid and wecom_userid must be a WeCom corpid and userid';
  }
  if (given === 'wecom_corpid wecom_openid') {
    return isWeComCorpid(corpid) && isWeComOpenid(guest) ? accounts.findByIdentity(weComIdentity(corpid, { openid: guest })) : 'wecom_corpid and wecom_openid must be a WeCom corpid and a non-member\'s openid';
  }
  return 'give sub, or unionid, or appid and openid, or wecom_corpid and wecom_userid (or wecom_openid), or a phone number, or a pairwise client and its sub';
}


/** A phone number as audit lines show it: enough to tell a search apart (its last four digits), not the number. */
const maskedPhone = (text: string) => `…${text.replace(/\D/g, '').slice(-4)}`;

/**
 * The identifiers an admin call names, as given (strings only, bounded): what its audit line
 * says it was about. A phone number is personal data, not an identifier of the broker's: masked.
 */
function auditTarget(given: Readonly<Partial<Record<TargetName, unknown>>>): Record<string, string> {
  return Object.fromEntries(Object.entries(given).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => [name, name === 'phone' ? maskedPhone(value) : value.slice(0, 128)]));
}

/** The identifiers an audit line names: an account, a lookup's keys, a client, a session's uid. */
const TARGET_NAMES = [...LOOKUP_NAMES, 'uid'] as const;
type TargetName = (typeof TARGET_NAMES)[number];

/** What a request names, from where it gives it (its path's parameters, its query, its form: the first to have a name wins). */
export function requestTarget(...sources: ReadonlyArray<Readonly<Record<string, unknown>>>): Record<string, string> {
  return auditTarget(Object.fromEntries(TARGET_NAMES.map((name) => [name, sources.map((source) => source[name]).find((value) => value !== undefined)])));
}
