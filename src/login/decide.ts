// What a WeChat callback comes to: a pure decision from what is known once WeChat has
// answered (the attempt, WeChat's result, the account the openid already has, the scopes
// the relying party asked for) to one outcome. The policy is the tables below; callback.ts
// gathers the inputs and respond.ts carries the outcome out.

import type { Account } from '../accounts/account.ts';
import type { ConfiguredApp } from '../config/config.ts';
import type { InteractionError } from '../oidc/interactions.ts';
import type { LoginOutcome } from '../ops/metrics.ts';
import type { ErrorPageKind } from '../pages/views.ts';
import type { WeChatError, WeChatErrorCode } from '../wechat/errors.ts';
import type { WeChatUser } from '../wechat/types.ts';
import type { Attempt } from './attempts.ts';
import { accountCovers } from './upstream.ts';

/** A rejected code gets one fresh authorization: WeChat sometimes spends a code twice. */
const MAX_ROUNDS = 2;

/** What WeChat answered the callback's attempt. */
export type UpstreamResult =
  | { readonly type: 'refused' }
  | { readonly type: 'user'; readonly user: WeChatUser }
  | { readonly type: 'failed'; readonly error: WeChatError };

export interface CallbackFacts {
  readonly attempt: Attempt;
  readonly app: ConfiguredApp;
  readonly result: UpstreamResult;
  /** The account of WeChat's (appid, openid), looked up when only snsapi_base was asked. */
  readonly account: Account | undefined;
  readonly scopes: ReadonlySet<string>;
}

/** What the operator's log says about an outcome. */
export interface Note {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
}

export type Outcome =
  | { readonly type: 'login'; readonly user: WeChatUser; readonly metric: 'success'; readonly note: Note }
  /** Another trip to WeChat for the same interaction: an upgrade of scope, or a fresh code. */
  | { readonly type: 'again'; readonly attempt: Attempt; readonly note?: Note }
  /** The interaction ends with an OAuth error for the relying party. */
  | { readonly type: 'rp-error'; readonly error: InteractionError; readonly metric: LoginOutcome; readonly note?: Note }
  /** A page for the person; `retry` offers to start the login again. */
  | { readonly type: 'page'; readonly page: ErrorPageKind; readonly status: number; readonly retry: boolean; readonly metric: LoginOutcome; readonly note: Note };

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

/** What each kind of WeChat failure comes to. */
const ON_WECHAT_ERROR: Record<WeChatErrorCode, (facts: CallbackFacts) => Outcome> = {
  WECHAT_SNAPSHOT_USER: () => ({
    type: 'page', page: 'snapshot', status: 403, retry: true, metric: 'snapshot', note: { level: 'info', msg: 'snapshot-page user refused' },
  }),
  WECHAT_CODE_REJECTED: ({ attempt }) => (attempt.round < MAX_ROUNDS
    ? { type: 'again', attempt: { ...attempt, round: attempt.round + 1 }, note: { level: 'warn', msg: 'WeChat rejected the code, trying once more with a fresh authorization' } }
    : { type: 'page', page: 'code', status: 400, retry: true, metric: 'code_rejected', note: { level: 'warn', msg: 'WeChat rejected the code twice' } }),
  WECHAT_CREDENTIALS: ({ app }) => ({
    type: 'page', page: 'misconfigured', status: 503, retry: false, metric: 'misconfigured',
    note: { level: 'error', msg: `WeChat refused the app credentials: check ${app.configuredBy}` },
  }),
  WECHAT_UNAVAILABLE: () => unavailable({ level: 'warn', msg: 'WeChat unavailable' }),
  WECHAT_TICKET: ({ app }) => ({
    type: 'page', page: 'starting', status: 503, retry: true, metric: 'unavailable',
    note: { level: 'warn', msg: `third-party platform ${app.via ?? ''} has no valid component_verify_ticket yet: WeChat pushes one every 10 minutes to its auth-events URL` },
  }),
  WECHAT_IP_NOT_ALLOWED: ({ app }) => ({
    type: 'page', page: 'misconfigured', status: 503, retry: false, metric: 'misconfigured',
    note: { level: 'error', msg: app.via ? `WeChat refused this server's IP (61004): add it to the whitelist of third-party platform ${app.via}` : `WeChat refused this server's IP (40164): add it to the IP whitelist (IP白名单) of ${app.id}` },
  }),
  WECHAT_AUTHORIZATION_LAPSED: ({ app }) => ({
    type: 'page', page: 'misconfigured', status: 503, retry: false, metric: 'misconfigured',
    note: { level: 'error', msg: `the authorization of ${app.id} to third-party platform ${app.via ?? ''} lapsed (61023): the account's owner must authorize the platform again` },
  }),
  WECHAT_HIGH_RISK_USER: () => ({
    type: 'rp-error', error: { error: 'access_denied', error_description: 'WeChat blocked this account as high-risk' }, metric: 'refused',
    note: { level: 'warn', msg: 'WeChat blocked the user as high-risk (40226)' },
  }),
  WECHAT_RATE_LIMITED: () => unavailable({ level: 'warn', msg: 'WeChat rate limit reached (45011)' }),
  WECHAT_TOKEN_REFUSED: () => unavailable({ level: 'error', msg: 'WeChat refused a fresh component_access_token' }),
  WECHAT_SCOPE: () => unavailable({ level: 'error', msg: 'WeChat refused a call the broker made' }),
  WECHAT_TOKEN: () => unavailable({ level: 'error', msg: 'WeChat refused a call the broker made' }),
  WECHAT_REQUEST: () => unavailable({ level: 'error', msg: 'WeChat refused a call the broker made' }),
};

/** WeChat vouched for the person: log in, unless snsapi_base did not give what is asked. */
function onUser(user: WeChatUser, { attempt, account, scopes }: CallbackFacts): Outcome {
  if (attempt.scope !== 'snsapi_base' || accountCovers(account, scopes)) {
    return { type: 'login', user, metric: 'success', note: { level: 'info', msg: 'login succeeded' } };
  }
  if (attempt.silent) return LOGIN_REQUIRED;
  return { type: 'again', attempt: { ...attempt, scope: 'snsapi_userinfo', silent: false } };
}

export function decide(facts: CallbackFacts): Outcome {
  const { result } = facts;
  switch (result.type) {
    case 'refused':
      return REFUSED;
    case 'failed':
      return ON_WECHAT_ERROR[result.error.code](facts);
    case 'user':
      return onUser(result.user, facts);
  }
}
