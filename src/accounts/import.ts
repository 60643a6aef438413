// Accounts brought in from a company's earlier WeChat login (`npm run accounts -- import`),
// so that moving to the broker changes nobody's user id: each person's account is written
// ahead of their first login through the broker, with the `sub` the company's apps already
// know them by, and that login finds it by the unionid or the (appid, openid) it carries.
// One JSON object a line (JSON Lines), every field checked before anything is written; a
// line whose unionid or identity already belongs to another account, or whose sub is taken,
// is refused and changes nothing (the store's own uniqueness decides, as for two first logins
// at once); a line already imported as written is left as it is, so a run can be repeated.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { httpsAvatar } from '../wechat/avatar.ts';
import { isWeChatId, type AppId, type Openid, type Unionid } from '../wechat/types.ts';
import { isWeComCorpid, isWeComUserId } from '../wechat/wecom.ts';
import { isAccountId, REASON_MAX, sameIdentity, suspensionReason, weComIdentity, weComMemberOf, type Account, type AccountId, type Suspension } from './account.ts';
import { AccountConflictError, type AccountStore } from './store.ts';

const wechatId = z.string().refine(isWeChatId, { error: 'expected a WeChat id (letters, digits, - and _, at most 128)' });

/** An identity: a WeChat app's (appid, openid), or a WeCom member's (corpid, userid), as the admin API shows them. */
const IDENTITY = z.strictObject({
  appid: z.string().regex(/^wx[0-9a-f]{16}$/, { error: 'expected a WeChat AppID (wx and 16 hex digits)' }).optional(),
  openid: wechatId.optional(),
  wecom_corpid: z.string().refine(isWeComCorpid, { error: 'expected a WeCom corpid' }).optional(),
  wecom_userid: z.string().refine(isWeComUserId, { error: 'expected a WeCom userid' }).optional(),
}).refine((identity) => (identity.appid !== undefined && identity.openid !== undefined && identity.wecom_corpid === undefined && identity.wecom_userid === undefined)
  || (identity.wecom_corpid !== undefined && identity.wecom_userid !== undefined && identity.appid === undefined && identity.openid === undefined),
{ error: 'expected appid and openid (WeChat), or wecom_corpid and wecom_userid (a WeCom member)' });

const LINE = z.strictObject({
  // As the admin API and the accounts CLI take a `sub` (OIDC Core 2: at most 255 ASCII characters).
  sub: z.string().refine(isAccountId, { error: 'expected letters, digits, - and _ (at most 128)' }).optional(),
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
    until: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 date-time with its offset' }).optional(),
  }).optional(),
}).refine((line) => line.unionid !== undefined || (line.identities?.length ?? 0) > 0, { error: 'a unionid or an identity is needed: nothing else links a login to the account' });

export type ImportLine = z.infer<typeof LINE>;
/** A line as it is written in the file. */
export type WrittenLine = z.input<typeof LINE>;

/** What became of one line of the file. */
export type Imported =
  | { readonly line: number; readonly outcome: 'created' | 'present'; readonly sub: string }
  | { readonly line: number; readonly outcome: 'refused'; readonly reason: string };

/** The account a checked line describes, created at `now` unless it says when. */
function accountOf(line: ImportLine, now: number): Account {
  const createdAt = line.created_at === undefined ? now : Math.min(now, Date.parse(line.created_at));
  const picture = line.picture === undefined ? undefined : httpsAvatar(line.picture);
  return {
    id: (line.sub ?? randomUUID()) as AccountId,
    createdAt,
    updatedAt: now,
    ...(line.unionid === undefined ? {} : { unionid: line.unionid as Unionid }),
    identities: (line.identities ?? []).map((identity) => (identity.appid === undefined
      ? weComIdentity(identity.wecom_corpid!, { userid: identity.wecom_userid! })
      : { appid: identity.appid as AppId, openid: identity.openid as Openid })),
    profile: { ...(line.nickname === undefined ? {} : { nickname: line.nickname }), ...(picture === undefined ? {} : { picture }) },
    ...(line.suspended === undefined ? {} : { suspended: suspensionOfLine(line.suspended) }),
  };
}

/**
 * An account as a line of the file (`npm run accounts -- dump`): what an import makes it
 * again, in this broker or another. A WeCom non-member's identity and the subs merged into
 * the account are not carried (an import makes neither).
 */
export function lineOf(account: Account): WrittenLine {
  const identities = account.identities.flatMap((identity): NonNullable<WrittenLine['identities']> => {
    const member = weComMemberOf(identity);
    if (member) return [{ wecom_corpid: member.corpid, wecom_userid: member.userid }];
    return identity.appid.includes(':') ? [] : [{ appid: identity.appid, openid: identity.openid }];
  });
  return {
    sub: account.id,
    ...(account.unionid === undefined ? {} : { unionid: account.unionid }),
    ...(identities.length ? { identities } : {}),
    ...(account.profile.nickname === undefined ? {} : { nickname: account.profile.nickname }),
    ...(account.profile.picture === undefined ? {} : { picture: account.profile.picture }),
    created_at: new Date(account.createdAt).toISOString(),
    ...(account.suspended ? { suspended: suspensionLine(account.suspended) } : {}),
  };
}

function suspensionOfLine({ at, by, reason, until }: NonNullable<ImportLine['suspended']>): Suspension {
  return { at: Date.parse(at), by, reason, ...(until === undefined ? {} : { until: Date.parse(until) }) };
}

function suspensionLine({ at, by, reason, until }: Suspension): NonNullable<WrittenLine['suspended']> {
  return { at: new Date(at).toISOString(), by, reason, ...(until === undefined ? {} : { until: new Date(until).toISOString() }) };
}

/** The line's first problem, as the operator should read it. */
function problemOf(text: string): { line?: ImportLine; reason?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { reason: 'not JSON' };
  }
  const parsed = LINE.safeParse(json);
  if (parsed.success) return { line: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { reason: issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message };
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
    && account.identities.every((identity) => found.identities.some((held) => sameIdentity(held, identity)));
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

/** Imports one line (numbered from 1) of the file. */
export async function importLine(store: AccountStore, text: string, number: number, now = Date.now()): Promise<Imported> {
  const { line, reason } = problemOf(text);
  if (!line) return { line: number, outcome: 'refused', reason: reason! };
  const account = accountOf(line, now);
  const present = await alreadyThere(store, line, account);
  if (present) return { line: number, outcome: 'present', sub: present.id };
  try {
    await store.create(account);
    return { line: number, outcome: 'created', sub: account.id };
  } catch (error) {
    if (!(error instanceof AccountConflictError)) throw error;
    return { line: number, outcome: 'refused', reason: await holderOf(store, account) ?? `the sub ${account.id} is taken (an account's, or an erased one's)` };
  }
}
