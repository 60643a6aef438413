// Accounts brought in from a company's earlier WeChat login (`npm run accounts -- import`),
// so that moving to the broker changes nobody's user id: each person's account is written
// ahead of their first login through the broker, with the `sub` the company's apps already
// know them by, and that login finds it by the unionid or the (appid, openid) it carries.
// One JSON object a line (JSON Lines), every field checked before anything is written; a
// line whose unionid or identity already belongs to another account, or whose sub is taken,
// is refused and changes nothing (the store's own uniqueness decides, as for two first logins
// at once); a line already imported as written is left as it is, so a run can be repeated.
// A dumped line carries all the account is (`lineOf`): its contact details, its last login
// (the retention clock), the subs merged into it and the identities an operator unlinked
// from it, so that a move to another store or broker loses nothing of it.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { httpsAvatar } from '../wechat/avatar.ts';
import { e164 } from '../wechat/phone-number.ts';
import { isWeChatId, type AppId, type Openid, type Unionid } from '../wechat/types.ts';
import { isWeComCorpid, isWeComEmail, isWeComOpenid, isWeComUserId } from '../wechat/wecom.ts';
import {
  isAccountId, phoneButtonApp, REASON_MAX, sameIdentity, suspensionReason, weComCorpidOf, weComIdentity, weComMemberOf,
  type Account, type AccountId, type Contact, type Identity, type Suspension,
} from './account.ts';
import { AccountConflictError, type AccountStore } from './store.ts';

const wechatId = z.string().refine(isWeChatId, { error: 'expected a WeChat id (letters, digits, - and _, at most 128)' });
const APPID = /^wx[0-9a-f]{16}$/;
// As the admin API and the accounts CLI take a `sub` (OIDC Core 2: at most 255 ASCII characters).
const sub = z.string().refine(isAccountId, { error: 'expected letters, digits, - and _ (at most 128)' });

/** The fields of each kind of identity: exactly one kind's, both of them. */
const IDENTITY_FORMS = [['appid', 'openid'], ['wecom_corpid', 'wecom_userid'], ['wecom_corpid', 'wecom_openid']] as const;
const sameKeys = (identity: object, form: readonly string[]) => {
  const given = Object.entries(identity).filter(([, value]) => value !== undefined).map(([key]) => key);
  return given.length === form.length && form.every((key) => given.includes(key));
};

/**
 * An identity: a WeChat app's (appid, openid), a WeCom member's (corpid, userid), or a WeCom
 * non-member's (corpid, the openid the company gave them), as the admin API shows them.
 */
const IDENTITY = z.strictObject({
  appid: z.string().regex(APPID, { error: 'expected a WeChat AppID (wx and 16 hex digits)' }).optional(),
  openid: wechatId.optional(),
  wecom_corpid: z.string().refine(isWeComCorpid, { error: 'expected a WeCom corpid' }).optional(),
  wecom_userid: z.string().refine(isWeComUserId, { error: 'expected a WeCom userid' }).optional(),
  wecom_openid: z.string().refine(isWeComOpenid, { error: 'expected a WeCom non-member\'s openid' }).optional(),
}).refine((identity) => IDENTITY_FORMS.some((form) => sameKeys(identity, form)),
  { error: 'expected appid and openid (WeChat), wecom_corpid and wecom_userid (a WeCom member), or wecom_corpid and wecom_openid (a WeCom non-member)' });

/** Where a contact detail came from (account.ts `Contact`): a WeCom company's admins, or a mini program's phone-number button. */
function isContactSource(source: string): boolean {
  const app = phoneButtonApp({ source } as Contact);
  return app === undefined ? source.startsWith('wecom:') && isWeComCorpid(weComCorpidOf({ appid: source } as Identity)) : APPID.test(app);
}

/** A contact detail as the admin API shows it; `value` checked as the login that gave it checked it. */
const contact = (value: z.ZodType<string>) => z.strictObject({
  value,
  verified: z.boolean(),
  source: z.string().refine(isContactSource, { error: 'expected wecom:<corpid> or wechat-phone:<appid>' }),
  at: DATE_TIME,
});
const PHONE = z.string().refine(async (number) => await e164(number) === number, { error: 'expected a phone number that can exist, in E.164 (+8613800138000)' });
const EMAIL = z.string().refine(isWeComEmail, { error: 'expected an email address' });

/** The app of a login: a WeChat app's AppID, or a WeCom company's (`wecom:<corpid>`, `wecom-guest:<corpid>`), as the account keeps it. */
export const LOGIN_APPID = z.string().refine((appid) => APPID.test(appid) || isWeComCorpid(weComCorpidOf({ appid } as Identity)), { error: 'expected a WeChat AppID, or wecom:<corpid>' });
/** A relying party's client_id (RFC 6749 A.1: VSCHAR). */
export const CLIENT_ID = z.string().regex(/^[\x20-\x7E]{1,255}$/, { error: 'expected a client_id' });
/** A time in a line of the file. */
export const DATE_TIME = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 date-time with its offset' });

const LINE = z.strictObject({
  sub: sub.optional(),
  unionid: wechatId.optional(),
  identities: z.array(IDENTITY).max(100).optional(),
  nickname: z.string().min(1).max(100).optional(),
  picture: z.string().refine((url) => httpsAvatar(url) !== undefined, { error: 'expected an https URL (or an http one on qlogo.cn)' }).optional(),
  created_at: z.iso.datetime({ offset: true }).optional(),
  // An operator's suspension, as `dump` writes it: a move to another broker keeps it.
  suspended: z.strictObject({
    at: z.iso.datetime({ offset: true }),
    by: z.string().min(1).max(200),
    reason: z.string().refine((reason) => suspensionReason(reason) === reason, { error: `expected why, on one line, at most ${REASON_MAX} characters` }),
    // When it ends by itself; one that has ended is carried as it is, and lifted at the next login.
    until: DATE_TIME.optional(),
  }).optional(),
  // What the account had when it was dumped: as the admin API shows each.
  contacts: z.strictObject({ phone: contact(PHONE).optional(), email: contact(EMAIL).optional() }).optional(),
  // The retention clock (ACCOUNT_RETENTION_DAYS) goes on from it, not from the import.
  last_login: z.strictObject({ at: DATE_TIME, appid: LOGIN_APPID, client: CLIENT_ID.optional() }).optional(),
  // They go on resolving to the account, and are never given to anyone else.
  merged_from: z.array(sub).max(100).optional(),
  // An operator unlinked them: the account's unionid never links them back.
  unlinked_identities: z.array(IDENTITY).max(100).optional(),
}).refine((line) => line.unionid !== undefined || (line.identities?.length ?? 0) > 0, { error: 'a unionid or an identity is needed: nothing else links a login to the account' })
  .refine((line) => new Set([line.sub, ...line.merged_from ?? []]).size === 1 + (line.merged_from?.length ?? 0), { error: 'merged_from: each sub once, and not the account\'s own' })
  .refine((line) => !(line.unlinked_identities ?? []).some((unlinked) => (line.identities ?? []).some((linked) => sameIdentity(identityOfLine(linked), identityOfLine(unlinked)))), { error: 'unlinked_identities: an identity is either linked or unlinked' });

/** An erased account's sub, kept from being given again wherever the dump goes (`dump` writes one line for each). */
const ERASED = z.strictObject({ erased: sub });

export type ImportLine = z.infer<typeof LINE>;
/** A line as it is written in the file. */
export type WrittenLine = z.input<typeof LINE>;

/** What became of one line of the file. */
export type Imported =
  | { readonly line: number; readonly outcome: 'created' | 'present'; readonly sub: string }
  | { readonly line: number; readonly outcome: 'refused'; readonly reason: string };

type LineIdentity = z.input<typeof IDENTITY>;

/** A line's identity as the account keeps it. */
function identityOfLine(identity: LineIdentity): Identity {
  if (identity.appid !== undefined) return { appid: identity.appid as AppId, openid: identity.openid as Openid };
  const corpid = identity.wecom_corpid!;
  return identity.wecom_userid === undefined ? weComIdentity(corpid, { openid: identity.wecom_openid! }) : weComIdentity(corpid, { userid: identity.wecom_userid });
}

/** An identity as a line gives it. */
function lineIdentity(identity: Identity): LineIdentity {
  const member = weComMemberOf(identity);
  if (member) return { wecom_corpid: member.corpid, wecom_userid: member.userid };
  const corpid = weComCorpidOf(identity);
  return corpid === undefined ? { appid: identity.appid, openid: identity.openid } : { wecom_corpid: corpid, wecom_openid: identity.openid };
}

type LineContact = z.infer<ReturnType<typeof contact>>;

const contactOfLine = ({ value, verified, source, at }: LineContact): Contact => ({ value, verified, source, at: Date.parse(at) });
const contactLine = ({ value, verified, source, at }: Contact): LineContact => ({ value, verified, source, at: new Date(at).toISOString() });

/** What a line carries beyond its identifiers and profile: contacts, last login, merged subs, unlinked identities. */
function restOfLine(line: ImportLine, now: number): Partial<Account> {
  const { contacts, last_login: login, merged_from: merged, unlinked_identities: unlinked } = line;
  const held = {
    ...(contacts?.phone ? { phone: contactOfLine(contacts.phone) } : {}),
    ...(contacts?.email ? { email: contactOfLine(contacts.email) } : {}),
  };
  return {
    ...(Object.keys(held).length ? { contacts: held } : {}),
    // A login to come would keep the account from retention for good: no later than now.
    ...(login ? { lastLogin: { at: Math.min(now, Date.parse(login.at)), appid: login.appid as AppId, ...(login.client === undefined ? {} : { client: login.client }) } } : {}),
    ...(merged?.length ? { mergedFrom: merged as AccountId[] } : {}),
    ...(unlinked?.length ? { detached: unlinked.map(identityOfLine) } : {}),
  };
}

/** The account a checked line describes, created at `now` unless it says when. */
function accountOf(line: ImportLine, now: number): Account {
  const createdAt = line.created_at === undefined ? now : Math.min(now, Date.parse(line.created_at));
  const picture = line.picture === undefined ? undefined : httpsAvatar(line.picture);
  return {
    id: (line.sub ?? randomUUID()) as AccountId,
    createdAt,
    updatedAt: now,
    ...(line.unionid === undefined ? {} : { unionid: line.unionid as Unionid }),
    identities: (line.identities ?? []).map(identityOfLine),
    profile: { ...(line.nickname === undefined ? {} : { nickname: line.nickname }), ...(picture === undefined ? {} : { picture }) },
    ...(line.suspended === undefined ? {} : { suspended: suspensionOfLine(line.suspended) }),
    ...restOfLine(line, now),
  };
}

/** What `restOfLine` reads back. */
function restLine(account: Account): Partial<WrittenLine> {
  const { contacts, lastLogin: login, mergedFrom: merged, detached } = account;
  const unlinked = (detached ?? []).map(lineIdentity);
  return {
    ...(contacts?.phone || contacts?.email ? {
      contacts: { ...(contacts.phone ? { phone: contactLine(contacts.phone) } : {}), ...(contacts.email ? { email: contactLine(contacts.email) } : {}) },
    } : {}),
    ...(login ? { last_login: { at: new Date(login.at).toISOString(), appid: login.appid, ...(login.client === undefined ? {} : { client: login.client }) } } : {}),
    ...(merged?.length ? { merged_from: [...merged] } : {}),
    ...(unlinked.length ? { unlinked_identities: unlinked } : {}),
  };
}

/**
 * An account as a line of the file (`npm run accounts -- dump`): what an import makes it
 * again, in this broker or another.
 */
export function lineOf(account: Account): WrittenLine {
  const identities = account.identities.map(lineIdentity);
  return {
    sub: account.id,
    ...(account.unionid === undefined ? {} : { unionid: account.unionid }),
    ...(identities.length ? { identities } : {}),
    ...(account.profile.nickname === undefined ? {} : { nickname: account.profile.nickname }),
    ...(account.profile.picture === undefined ? {} : { picture: account.profile.picture }),
    created_at: new Date(account.createdAt).toISOString(),
    ...(account.suspended ? { suspended: suspensionLine(account.suspended) } : {}),
    ...restLine(account),
  };
}

function suspensionOfLine({ at, by, reason, until }: NonNullable<ImportLine['suspended']>): Suspension {
  return { at: Date.parse(at), by, reason, ...(until === undefined ? {} : { until: Date.parse(until) }) };
}

function suspensionLine({ at, by, reason, until }: Suspension): NonNullable<WrittenLine['suspended']> {
  return { at: new Date(at).toISOString(), by, reason, ...(until === undefined ? {} : { until: new Date(until).toISOString() }) };
}

/** The line's first problem, as the operator should read it. */
async function problemOf(json: unknown): Promise<{ line?: ImportLine; reason?: string }> {
  const parsed = await LINE.safeParseAsync(json);
  if (parsed.success) return { line: parsed.data };
  return { reason: reasonOf(parsed.error) };
}

/** A schema's first complaint, where it is: `identities.0.appid: expected …`. */
export function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/**
 * The account the store already holds as the line describes it (a repeated run): by its
 * `sub`, or for a line without one, by its unionid or first identity.
 */
async function alreadyThere(store: AccountStore, line: ImportLine, account: Account): Promise<Account | undefined> {
  const [first] = account.identities;
  const found = line.sub !== undefined ? await store.findById(account.id)
    : account.unionid !== undefined ? await store.findByUnionid(account.unionid) : first && await store.findByIdentity(first);
  const same = found !== undefined && (line.sub === undefined || found.id === account.id) && found.unionid === account.unionid
    && account.identities.every((identity) => found.identities.some((held) => sameIdentity(held, identity)))
    && (account.mergedFrom ?? []).every((id) => found.mergedFrom?.includes(id));
  return same ? found : undefined;
}

/** Who already holds the line's unionid or an identity of it, for the refusal. */
async function holderOf(store: AccountStore, account: Account): Promise<string | undefined> {
  const byUnionid = account.unionid === undefined ? undefined : await store.findByUnionid(account.unionid);
  if (byUnionid) return `the unionid belongs to account ${byUnionid.id}`;
  for (const identity of account.identities) {
    const holder = await store.findByIdentity(identity);
    if (holder) return `the identity ${identity.appid}/${identity.openid} belongs to account ${holder.id}`;
  }
  return undefined;
}

/** The line that keeps an erased sub erased. */
export const erasedLine = (id: AccountId): z.input<typeof ERASED> => ({ erased: id });

/** Whether a line is an erased sub's (`{"erased": …}`) rather than an account's. */
export const isErasedLine = (json: unknown): boolean => typeof json === 'object' && json !== null && 'erased' in json;

/** An erased sub's line: a tombstone, unless an account has the sub (then it is refused: an import never erases). */
async function importErased(store: AccountStore, json: unknown, number: number): Promise<Imported> {
  const parsed = ERASED.safeParse(json);
  if (!parsed.success) return { line: number, outcome: 'refused', reason: reasonOf(parsed.error) };
  const id = parsed.data.erased as AccountId;
  const done = await store.reserve(id);
  if (done === 'taken') return { line: number, outcome: 'refused', reason: `the erased sub ${id} is an account's here: it is not erased by an import` };
  return { line: number, outcome: done === 'reserved' ? 'created' : 'present', sub: id };
}

/** Imports the account of one line (numbered from 1) of the file, read as JSON, or keeps an erased sub erased. */
export async function importAccount(store: AccountStore, json: unknown, number: number, now: number): Promise<Imported> {
  if (isErasedLine(json)) return importErased(store, json, number);
  const { line, reason } = await problemOf(json);
  if (!line) return { line: number, outcome: 'refused', reason: reason! };
  const account = accountOf(line, now);
  const present = await alreadyThere(store, line, account);
  if (present) return { line: number, outcome: 'present', sub: present.id };
  try {
    await store.create(account);
    return { line: number, outcome: 'created', sub: account.id };
  } catch (error) {
    if (!(error instanceof AccountConflictError)) throw error;
    const subs = account.mergedFrom?.length ? `the sub ${account.id} or one of merged_from` : `the sub ${account.id}`;
    return { line: number, outcome: 'refused', reason: await holderOf(store, account) ?? `${subs} is taken (an account's, or an erased one's)` };
  }
}
