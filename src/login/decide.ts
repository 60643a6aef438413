// What a WeChat callback comes to: a pure decision from what is known once WeChat has
// answered (the attempt, WeChat's result, the account the openid already has, the scopes
// the relying party asked for) to one outcome. WeChat's failures follow the one policy of
// wechat/failures.ts; callback.ts
// gathers the inputs and carry-out.ts carries the outcome out.

import type { Account } from '../accounts/account.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import type { WeComPerson } from '../upstreams/wecom/wecom-login.ts';
import type { InteractionError } from '../oidc/interactions.ts';
import type { LoginOutcome } from '../ops/metrics.ts';
import type { ErrorPageKind } from '../pages/error-pages.ts';
import type { WeChatError } from '../wechat/errors.ts';
import type { WeChatUser } from '../wechat/types.ts';
import type { Attempt } from './attempts.ts';
import { accountCovers, contactsCover } from '../upstreams/choose.ts';
import { failureOf } from '../wechat/failures.ts';

/** A rejected code gets one fresh authorization: WeChat sometimes spends a code twice. */
const MAX_ROUNDS = 2;

/** What WeChat answered the callback's attempt. */
export type UpstreamResult =
  | { readonly type: 'refused' }
  | { readonly type: 'user'; readonly user: WeChatUser }
  /** WeCom's answer: a member of the company, or somebody who is not one. */
  | { readonly type: 'member'; readonly person: WeComPerson }
  | { readonly type: 'failed'; readonly error: WeChatError };

export interface CallbackFacts {
  readonly attempt: Attempt;
  readonly app: ConfiguredApp | ConfiguredWeComApp;
  readonly result: UpstreamResult;
  /** The account of WeChat's (appid, openid), or of WeCom's member, looked up when only snsapi_base was asked. */
  readonly account: Account | undefined;
  readonly scopes: ReadonlySet<string>;
}

/** What the operator's log says about an outcome. */
export interface Note {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
}

export type Outcome =
  | { readonly type: 'login'; readonly user: WeChatUser | WeComPerson; readonly metric: 'success'; readonly note: Note }
  /** Another trip to WeChat for the same interaction: an upgrade of scope, or a fresh code. */
  | { readonly type: 'again'; readonly attempt: Attempt; readonly note?: Note }
  /** The interaction ends with an OAuth error for the relying party. */
  | { readonly type: 'rp-error'; readonly error: InteractionError; readonly metric: LoginOutcome; readonly note?: Note }
  /** A page for the person; `retry` offers to start the login again. */
  | { readonly type: 'page'; readonly page: ErrorPageKind; readonly status: number; readonly retry: boolean; readonly metric: LoginOutcome; readonly note: Note; readonly until?: number };

const REFUSED: Outcome = {
  type: 'rp-error',
  error: { error: 'access_denied', error_description: 'the End-User declined the WeChat authorization' },
  metric: 'refused',
  note: { level: 'info', msg: 'login refused at WeChat' },
};

const LOGIN_REQUIRED: Outcome = {
  type: 'rp-error', error: { error: 'login_required', error_description: 'End-User authentication is required' }, metric: 'login_required',
};

const unavailable = (note: Note): Outcome => ({
  type: 'rp-error', error: { error: 'temporarily_unavailable', error_description: 'WeChat is temporarily unavailable' }, metric: 'unavailable', note,
});

/** Why WeChat or WeCom refuses the person, for the relying party. */
const REFUSALS: Partial<Record<WeChatError['code'], string>> = { WECHAT_OUTSIDE_RANGE: 'the member is outside the app\'s visible range in WeCom' };

/** What each kind of WeChat failure (wechat/failures.ts, the one policy) comes to at a callback. */
function onFailure(error: WeChatError, { attempt, app }: CallbackFacts): Outcome {
  const { kind, note } = failureOf(error, app);
  switch (kind) {
    case 'code':
      return attempt.round < MAX_ROUNDS
        ? { type: 'again', attempt: { ...attempt, round: attempt.round + 1 }, note: { level: 'warn', msg: 'WeChat rejected the code, trying once more with a fresh authorization' } }
        : { type: 'page', page: 'code', status: 400, retry: true, metric: 'code_rejected', note: { level: 'warn', msg: 'WeChat rejected the code twice' } };
    case 'snapshot':
      return { type: 'page', page: 'snapshot', status: 403, retry: true, metric: 'snapshot', note };
    case 'misconfigured':
      return { type: 'page', page: 'misconfigured', status: 503, retry: false, metric: 'misconfigured', note };
    case 'starting':
      return { type: 'page', page: 'starting', status: 503, retry: true, metric: 'unavailable', note };
    case 'refused':
      return { type: 'rp-error', error: { error: 'access_denied', error_description: REFUSALS[error.code] ?? 'WeChat blocked this account as high-risk' }, metric: 'refused', note };
    case 'unavailable':
      return unavailable(note);
  }
}

/** WeChat vouched for the person: log in, unless snsapi_base did not give what is asked. */
function onUser(user: WeChatUser, { attempt, account, scopes }: CallbackFacts): Outcome {
  if (attempt.scope !== 'snsapi_base' || accountCovers(account, scopes)) {
    return { type: 'login', user, metric: 'success', note: { level: 'info', msg: 'login succeeded' } };
  }
  if (attempt.silent) return LOGIN_REQUIRED;
  return { type: 'again', attempt: { ...attempt, scope: 'snsapi_userinfo', silent: false } };
}

/**
 * WeCom vouched for somebody: a member logs in; anybody else only where the app allows it.
 * Inside the WeCom client, a member whose account lacks the email or mobile asked for is
 * asked once (snsapi_privateinfo, WeCom's consent page) where the app may; a silent login
 * cannot show that page (login_required, as for WeChat's profile).
 */
function onMember(person: WeComPerson, { app, attempt, account, scopes }: CallbackFacts): Outcome {
  if (person.type === 'non-member' && !(app.kind === 'wecom' && app.allowNonMembers)) {
    return { type: 'page', page: 'not_member', status: 403, retry: false, metric: 'refused', note: { level: 'info', msg: 'WeCom named somebody who is not a member of the company: refused (allow_non_members is off)' } };
  }
  const { wecom } = attempt;
  const mayAsk = person.type === 'member' && app.kind === 'wecom' && app.scope === 'snsapi_privateinfo' && wecom?.inClient === true && wecom.privateinfo !== true;
  if (mayAsk && !contactsCover(account, scopes)) {
    if (attempt.silent) return LOGIN_REQUIRED;
    return { type: 'again', attempt: { ...attempt, silent: false, wecom: { ...wecom, privateinfo: true } } };
  }
  return { type: 'login', user: person, metric: 'success', note: { level: 'info', msg: 'login succeeded' } };
}

export function decide(facts: CallbackFacts): Outcome {
  const { result } = facts;
  switch (result.type) {
    case 'refused':
      return REFUSED;
    case 'failed':
      return onFailure(result.error, facts);
    case 'user':
      return onUser(result.user, facts);
    case 'member':
      return onMember(result.person, facts);
  }
}
