// What a WeChat failure comes to, once for every way in (a callback's code exchange, the
// hand-off, follow-to-login, a mini program's exchange, a platform's authorization page):
// one table from WeChat's typed error to the kind of outcome and to what the operator is
// told. Each caller only turns the kind into its own shape (a page, an OAuth error, a fresh
// round), so a wrong secret is "misconfigured" everywhere, never "unavailable" in one place.

import type { WeChatError, WeChatErrorCode } from './errors.ts';

/** What the failure is, for the person and the relying party. */
export type FailureKind =
  /** Only the operator can mend it (credentials, whitelist, an authorization). */
  | 'misconfigured'
  /** WeChat is down, slow, limiting, or refused a call the broker made: try again later. */
  | 'unavailable'
  /** A third-party platform waits for its first component_verify_ticket. */
  | 'starting'
  /** WeChat rejected the code (used, expired): a fresh authorization may do. */
  | 'code'
  /** A snapshot-page user (WeChat's preview of a page): no real identity. */
  | 'snapshot'
  /** WeChat refuses this person (blocked as high-risk). */
  | 'refused';

export interface Failure {
  readonly kind: FailureKind;
  /** The operator's log line. */
  readonly note: { readonly level: 'info' | 'warn' | 'error'; readonly msg: string };
}

/** What the operator reads about the app (or platform) the call was for. */
export interface FailedFor {
  readonly id: string;
  readonly via?: string | undefined;
  readonly configuredBy?: string | undefined;
}

const refusedCall = (): Failure => ({ kind: 'unavailable', note: { level: 'error', msg: 'WeChat refused a call the broker made' } });

const POLICY: Record<WeChatErrorCode, (app: FailedFor, error: WeChatError) => Failure> = {
  WECHAT_SNAPSHOT_USER: () => ({ kind: 'snapshot', note: { level: 'info', msg: 'snapshot-page user refused' } }),
  WECHAT_CODE_REJECTED: () => ({ kind: 'code', note: { level: 'warn', msg: 'WeChat rejected the code' } }),
  WECHAT_CREDENTIALS: (app) => ({ kind: 'misconfigured', note: { level: 'error', msg: `WeChat refused the app credentials: check ${app.configuredBy ?? app.id}` } }),
  WECHAT_UNAVAILABLE: () => ({ kind: 'unavailable', note: { level: 'warn', msg: 'WeChat unavailable' } }),
  WECHAT_TICKET: (app) => ({
    kind: 'starting',
    note: { level: 'warn', msg: `third-party platform ${app.via ?? app.id} has no valid component_verify_ticket yet: WeChat pushes one every 10 minutes to its auth-events URL` },
  }),
  WECHAT_IP_NOT_ALLOWED: (app, error) => ({
    kind: 'misconfigured',
    note: { level: 'error', msg: app.via ? `WeChat refused this server's IP (${error.errcode ?? 61004}): add it to the whitelist of third-party platform ${app.via}` : `WeChat refused this server's IP (${error.errcode ?? 40164}): add it to the IP whitelist (IP白名单) of ${app.id}` },
  }),
  WECHAT_AUTHORIZATION_LAPSED: (app, error) => ({
    kind: 'misconfigured',
    note: { level: 'error', msg: `the authorization of ${app.id} to third-party platform ${app.via ?? ''} lapsed (${error.errcode ?? 'none recorded'}): the account's owner must authorize the platform again` },
  }),
  WECHAT_HIGH_RISK_USER: () => ({ kind: 'refused', note: { level: 'warn', msg: 'WeChat blocked the user as high-risk (40226)' } }),
  WECHAT_RATE_LIMITED: () => ({ kind: 'unavailable', note: { level: 'warn', msg: 'WeChat rate limit reached (45011)' } }),
  WECHAT_TOKEN_REFUSED: () => ({ kind: 'unavailable', note: { level: 'error', msg: 'WeChat refused a fresh access token' } }),
  WECHAT_SCOPE: refusedCall,
  WECHAT_TOKEN: refusedCall,
  WECHAT_REQUEST: refusedCall,
};

/** The one policy: what `error`, met while working for `app`, comes to. */
export function failureOf(error: WeChatError, app: FailedFor): Failure {
  return POLICY[error.code](app, error);
}

/** The operator's log fields for a failure: the errcode and WeChat's request id. */
export function wechatFields(error: WeChatError): { errcode: number | undefined; rid: string | undefined } {
  return { errcode: error.errcode, rid: error.requestId };
}
