// Every failure of a WeChat API call becomes one of these classes. The errcode table is
// the one place that maps WeChat's numbers to what the broker does about them.

export type WeChatErrorCode =
  | 'WECHAT_CODE_REJECTED'
  | 'WECHAT_CREDENTIALS'
  | 'WECHAT_UNAVAILABLE'
  | 'WECHAT_SCOPE'
  | 'WECHAT_TOKEN'
  | 'WECHAT_REQUEST'
  | 'WECHAT_SNAPSHOT_USER'
  | 'WECHAT_TICKET'
  | 'WECHAT_TOKEN_REFUSED'
  | 'WECHAT_IP_NOT_ALLOWED'
  | 'WECHAT_AUTHORIZATION_LAPSED'
  | 'WECHAT_HIGH_RISK_USER'
  | 'WECHAT_RATE_LIMITED'
  | 'WECHAT_UNTRUSTED_DOMAIN'
  | 'WECHAT_OUTSIDE_RANGE';

export interface WeChatErrorDetails {
  readonly errcode?: number;
  readonly errmsg?: string;
  /** WeChat's request id (`rid: …` or `hints: [ req_id: … ]` at the end of errmsg). */
  readonly requestId?: string;
}

export abstract class WeChatError extends Error {
  abstract readonly code: WeChatErrorCode;
  /** Whether trying the same call once more may help. */
  readonly retryable: boolean = false;
  readonly errcode: number | undefined;
  readonly requestId: string | undefined;
  /** The caller's IP as WeChat saw it, when its errmsg names it (a whitelist error). */
  readonly callerIp: string | undefined;

  constructor(message: string, details: WeChatErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.errcode = details.errcode;
    this.requestId = details.requestId;
    this.callerIp = callerIpOf(details.errmsg);
  }
}

/** The authorization code is invalid (40029), already used (40163) or expired (42003). */
export class WeChatCodeRejectedError extends WeChatError { readonly code = 'WECHAT_CODE_REJECTED'; }

/** appid or secret wrong or missing: the broker is misconfigured. */
export class WeChatCredentialsError extends WeChatError { readonly code = 'WECHAT_CREDENTIALS'; }

/** WeChat is busy (-1), timed out, or answered something that is not its JSON. */
export class WeChatUnavailableError extends WeChatError { readonly code = 'WECHAT_UNAVAILABLE'; override readonly retryable = true; }

/** The token's scope does not allow the call (48001: userinfo with a snsapi_base token). */
export class WeChatScopeError extends WeChatError { readonly code = 'WECHAT_SCOPE'; }

/** An access or refresh token (or the openid that goes with it) is invalid or expired. */
export class WeChatTokenError extends WeChatError { readonly code = 'WECHAT_TOKEN'; }

/** Anything else WeChat refused: a request the broker should not have made. */
export class WeChatRequestError extends WeChatError { readonly code = 'WECHAT_REQUEST'; }

/**
 * The token answer says `is_snapshotuser`: the person is on a browse-only snapshot page
 * opened from Moments, and every identifier WeChat gave is virtual.
 */
export class WeChatSnapshotUserError extends WeChatError { readonly code = 'WECHAT_SNAPSHOT_USER'; }

/**
 * A third-party platform has no valid component_verify_ticket: none pushed yet (WeChat
 * pushes one every 10 minutes), or WeChat says it expired (61005) or is invalid (61006).
 */
export class WeChatTicketError extends WeChatError { readonly code = 'WECHAT_TICKET'; }

/**
 * WeChat refused a token the broker holds for its own calls (a platform's
 * component_access_token, an Official Account's access token): a fresh one may help.
 */
export class WeChatTokenRefusedError extends WeChatError { readonly code = 'WECHAT_TOKEN_REFUSED'; }

/** 61004: the calling IP is not on the third-party platform's whitelist; 40164: not on the app's IP whitelist (IP白名单; WeChat's errmsg names the IP it saw). */
export class WeChatIpNotAllowedError extends WeChatError { readonly code = 'WECHAT_IP_NOT_ALLOWED'; }

/** 61023: an authorizer's refresh token expired; 61003: the account has not authorized the platform. Either way the Official Account must authorize the platform (again). */
export class WeChatAuthorizationLapsedError extends WeChatError { readonly code = 'WECHAT_AUTHORIZATION_LAPSED'; }

/** 40226: WeChat blocked this user as high-risk; no login through WeChat will work for them now. */
export class WeChatHighRiskUserError extends WeChatError { readonly code = 'WECHAT_HIGH_RISK_USER'; }

/** 45011: a frequency limit was reached (for jscode2session, 100 a minute per user). */
export class WeChatRateLimitedError extends WeChatError { readonly code = 'WECHAT_RATE_LIMITED'; }

/** WeCom 50001 / 80001: the callback's host is not the app's trusted domain (可信域名), or it has no ICP filing under the company. */
export class WeChatUntrustedDomainError extends WeChatError { readonly code = 'WECHAT_UNTRUSTED_DOMAIN'; }

/** WeCom 60011 / 50002: the member is outside the app's visible range (可见范围). */
export class WeChatOutsideRangeError extends WeChatError { readonly code = 'WECHAT_OUTSIDE_RANGE'; }

type ErrorClass = new (message: string, details: WeChatErrorDetails) => WeChatError;

const BY_ERRCODE: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [-1, WeChatUnavailableError],
  [40029, WeChatCodeRejectedError],
  [40163, WeChatCodeRejectedError],
  [42003, WeChatCodeRejectedError],
  [40001, WeChatCredentialsError],
  [40013, WeChatCredentialsError],
  [40125, WeChatCredentialsError],
  [41002, WeChatCredentialsError],
  [41004, WeChatCredentialsError],
  [48001, WeChatScopeError],
  [40003, WeChatTokenError],
  [40014, WeChatTokenError],
  [40030, WeChatTokenError],
  [42001, WeChatTokenError],
  [42002, WeChatTokenError],
  [40226, WeChatHighRiskUserError],
  [45011, WeChatRateLimitedError],
  [61004, WeChatIpNotAllowedError],
  [40164, WeChatIpNotAllowedError],
  [61005, WeChatTicketError],
  [61006, WeChatTicketError],
  [61023, WeChatAuthorizationLapsedError],
  [61003, WeChatAuthorizationLapsedError],
  // WeCom's own numbers (qyapi.weixin.qq.com; ../shared/wecom-and-phone.md 1.3): none of
  // them is an errcode of WeChat's APIs, and the shared ones (-1, 40001, 40013, 40014,
  // 40029, 42001) mean the same there.
  [40056, WeChatCredentialsError],
  [40091, WeChatCredentialsError],
  [50003, WeChatCredentialsError],
  [60020, WeChatIpNotAllowedError],
  [50001, WeChatUntrustedDomainError],
  [80001, WeChatUntrustedDomainError],
  [60011, WeChatOutsideRangeError],
  [50002, WeChatOutsideRangeError],
  [84014, WeChatCodeRejectedError],
  [84015, WeChatCodeRejectedError],
  [45009, WeChatRateLimitedError],
  [45033, WeChatRateLimitedError],
]);

/** WeChat's `rid: …` or `req_id: …`, WeCom's `hint: [ … ]`. */
const REQUEST_ID = /(?:rid:\s*|req_id:\s*|hint:\s*\[\s*)([A-Za-z0-9_-]+)/;

/** The IP WeChat or WeCom saw, as its errmsg names it (`… from ip: 1.2.3.4, …`, `invalid ip 1.2.3.4 …`). */
export function callerIpOf(errmsg: unknown): string | undefined {
  return typeof errmsg === 'string' ? /(?:from ip:?|invalid ip)\s*([0-9a-fA-F.:]{3,45})/.exec(errmsg)?.[1]?.replace(/[.:]+$/, '') : undefined;
}

export function requestIdOf(errmsg: unknown): string | undefined {
  return typeof errmsg === 'string' ? REQUEST_ID.exec(errmsg)?.[1] : undefined;
}

/** The typed error for a WeChat `{errcode, errmsg}` answer. */
export function errorFromErrcode(errcode: number, errmsg: string): WeChatError {
  const Class = BY_ERRCODE.get(errcode) ?? WeChatRequestError;
  return new Class(`WeChat errcode ${errcode}`, { errcode, errmsg, requestId: requestIdOf(errmsg) });
}
