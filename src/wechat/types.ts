// WeChat's own vocabulary. Branded strings so an openid can never be passed where a
// unionid or an appid is expected: WeChat gives a person one openid per app and, for apps
// bound to one Open Platform account, one unionid across them.

export type AppId = string & { readonly __brand: 'AppId' };
export type Openid = string & { readonly __brand: 'Openid' };
export type Unionid = string & { readonly __brand: 'Unionid' };

/**
 * The kinds of WeChat application the broker logs people in through:
 * - `mp`: an Official Account (公众号), web authorization inside the WeChat browser;
 * - `open`: an Open Platform website application (网站应用), QR login on a desktop;
 * - `miniprogram`: a mini program (小程序), whose `wx.login()` code is exchanged for tokens.
 * Each with what it does, in the startup banner's words.
 */
export const APP_KINDS = {
  mp: 'Official Account (web authorization)',
  open: 'website app (QR login)',
  miniprogram: 'mini program (token exchange)',
  app: 'mobile app (token exchange)',
} as const;

export type AppKind = keyof typeof APP_KINDS;

/** An app the broker calls WeChat for with its own AppSecret. */
export interface DirectApp {
  readonly kind: AppKind;
  readonly appid: AppId;
  readonly secret: string;
  readonly component?: undefined;
}

/**
 * An Official Account reached through a third-party platform (第三方平台) it authorized:
 * no secret of its own; the platform's appid and component_access_token instead.
 */
export interface DelegatedApp {
  readonly kind: 'mp';
  readonly appid: AppId;
  /** The platform's (component) appid. */
  readonly component: AppId;
  readonly secret?: undefined;
}

export type WeChatApp = DirectApp | DelegatedApp;

/** Scopes of the authorize step. */
export type WeChatScope = 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login';

/** A validated answer of `/sns/oauth2/access_token`: what the broker reads of it. */
export interface WeChatToken {
  readonly accessToken: string;
  readonly openid: Openid;
  readonly unionid?: Unionid;
  /** `is_snapshotuser: 1`: a browse-only snapshot page; every identifier is virtual. */
  readonly snapshotUser: boolean;
}

/** A validated answer of `/sns/userinfo`. */
export interface WeChatProfile {
  readonly openid: Openid;
  readonly unionid?: Unionid;
  readonly nickname: string;
  /** `headimgurl` as WeChat sent it (often http://, sometimes empty). */
  readonly headimgurl?: string;
}

/** The person as WeChat vouches for them after one authorization. */
export interface WeChatUser {
  readonly appid: AppId;
  readonly openid: Openid;
  readonly unionid?: Unionid;
  /** Present when the scope let WeChat give the profile (snsapi_userinfo, snsapi_login). */
  readonly profile?: {
    readonly nickname: string;
    /** An https URL of the avatar, when WeChat gave a usable one. */
    readonly avatar?: string;
  };
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** True for strings shaped like WeChat identifiers (openid, unionid, appid). */
export function isWeChatId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** What a code WeChat hands out (an authorization code, a js_code, an auth_code) can look like. */
const CODE = /^[\x21-\x7e]{1,512}$/;

export function isWeChatCode(value: unknown): value is string {
  return typeof value === 'string' && CODE.test(value);
}
