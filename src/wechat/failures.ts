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
  /** `wecom` for a WeCom app: its console names things differently. */
  readonly kind?: string | undefined;
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
  WECHAT_IP_NOT_ALLOWED: (app, error) => ({ kind: 'misconfigured', note: { level: 'error', msg: ipNote(app, error) } }),
  WECHAT_UNTRUSTED_DOMAIN: (app, error) => ({
    kind: 'misconfigured',
    note: { level: 'error', msg: `WeCom says the broker's host is not a trusted domain of ${app.id} (${error.errcode ?? 50001}): set it as the app's 可信域名 (网页授权及JS-SDK, and 企业微信授权登录 for QR login), with the WW_verify file and an ICP filing under the company` },
  }),
  WECHAT_OUTSIDE_RANGE: (app, error) => ({
    kind: 'refused',
    note: { level: 'warn', msg: `the member is outside the visible range (可见范围) of WeCom app ${app.id} (${error.errcode ?? 60011}): add them in the admin console if they should log in` },
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

/** Which whitelist refused the server, in the words of the console where it is set, with the IP the upstream saw. */
function ipNote(app: FailedFor, error: WeChatError): string {
  const seen = `this server's IP${error.callerIp ? ` ${error.callerIp}` : ''}`;
  if (app.kind === 'wecom') return `WeCom refused ${seen} (${error.errcode ?? 60020}): add it to 企业可信IP of app ${app.id} (admin console › 应用管理 › the app)`;
  if (app.via) return `WeChat refused ${seen} (${error.errcode ?? 61004}): add it to the whitelist of third-party platform ${app.via}`;
  return `WeChat refused ${seen} (${error.errcode ?? 40164}): add it to the IP whitelist (IP白名单) of ${app.id}`;
}

/** The one policy: what `error`, met while working for `app`, comes to. */
export function failureOf(error: WeChatError, app: FailedFor): Failure {
  return POLICY[error.code](app, error);
}

/** The operator's log fields for a failure: the errcode and WeChat's request id. */
export function wechatFields(error: WeChatError): { errcode: number | undefined; rid: string | undefined } {
  return { errcode: error.errcode, rid: error.requestId };
}
