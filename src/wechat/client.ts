// The WeChat API client: the only code that talks to WeChat's APIs, one method per call
// the broker makes (`/sns/*` for logins, `/cgi-bin/component/*` for a third-party
// platform, `/cgi-bin/*` for an Official Account's follow-to-login, `/wxa/*` for a mini
// program's phone number), each answer checked
// and read into the broker's types. How a call travels is transport.ts.

import { httpsAvatar } from './avatar.ts';
import { WeChatSnapshotUserError, WeChatTicketError } from './errors.ts';
import type {
  AppId, DelegatedApp, DirectApp, Openid, Unionid, WeChatApp, WeChatProfile, WeChatScope, WeChatToken, WeChatUser,
} from './types.ts';
import { isWeChatId } from './types.ts';
import { e164, type E164 } from './phone-number.ts';
import { expiresInOf, malformed, WeChatTransport, type Json, type WeChatClientOptions } from './transport.ts';




export type ProfileLang = 'zh_CN' | 'zh_TW' | 'en';

/** A third-party platform's credentials: its appid and AppSecret. */
export interface ComponentCredentials {
  readonly appid: AppId;
  readonly secret: string;
}

/** A validated answer of `/cgi-bin/component/api_component_token`. */
export interface ComponentToken {
  readonly accessToken: string;
  /** Seconds it lives (WeChat says 7200). */
  readonly expiresIn: number;
}

/** An authorizer's (an Official Account's, through a platform) token and the refresh token that makes the next. */
export interface AuthorizerToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
}


/** An account's authorization of a third-party platform, as WeChat says it now. */
export interface PlatformAuthorization {
  readonly refreshToken?: string;
  /** The permission sets (权限集) granted, by WeChat's ids (WEB_SERVICE_PERMISSION among them for web authorization). */
  readonly permissions: readonly number[];
}

/**
 * The permission set an Official Account must grant a platform for web authorization on
 * its behalf: 网页服务, id 4 (公众号权限集,
 * developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/product/offical_account_authority.html).
 */
export const WEB_SERVICE_PERMISSION = 4;

export class WeChatClient {
  readonly #transport: WeChatTransport;

  constructor(options: WeChatClientOptions) {
    this.#transport = new WeChatTransport(options);
  }

  /** False while WeChat keeps failing (the circuit is open): logins should not start. */
  get available(): boolean {
    return this.#transport.available;
  }

  /**
   * The whole upstream part of a login in one call: code → token → (profile, when the
   * scope gives one) → the person. A snapshot-page user is WeChatSnapshotUserError; every
   * other failure is the WeChatError of its errcode.
   */
  async signIn(app: WeChatApp, scope: WeChatScope, code: string, lang: ProfileLang, componentToken?: string): Promise<WeChatUser> {
    const token = await this.exchangeCode(app, code, componentToken);
    if (token.snapshotUser) throw new WeChatSnapshotUserError('a snapshot-page user has no real identity');
    const profile = scope === 'snsapi_base' ? undefined : await this.profile(token.accessToken, token.openid, lang);
    return {
      appid: app.appid,
      openid: token.openid,
      unionid: token.unionid ?? profile?.unionid,
      profile: profile && { nickname: profile.nickname, avatar: httpsAvatar(profile.headimgurl) },
    };
  }

  /**
   * Code → token: `/sns/oauth2/access_token` with the app's secret, or, for an Official
   * Account reached through a platform, `/sns/oauth2/component/access_token` with the
   * platform's component_access_token.
   */
  async exchangeCode(app: WeChatApp, code: string, componentToken?: string): Promise<WeChatToken> {
    if (app.component !== undefined) return this.#exchangeOnBehalf(app, code, componentToken);
    const body = await this.#transport.call({ path: '/sns/oauth2/access_token', singleUse: true, params: {
      appid: app.appid, secret: app.secret, code, grant_type: 'authorization_code',
    } });
    return parseToken(body);
  }

  /** The exchange on the account's behalf. */
  async #exchangeOnBehalf(app: DelegatedApp, code: string, componentToken: string | undefined): Promise<WeChatToken> {
    if (componentToken === undefined) throw new WeChatTicketError('the platform has no component_access_token yet');
    return parseToken(await this.#transport.callWithToken({ path: '/sns/oauth2/component/access_token', singleUse: true, params: {
      appid: app.appid, code, grant_type: 'authorization_code', component_appid: app.component, component_access_token: componentToken,
    } }));
  }

  /**
   * A pre-authorization code (`POST /cgi-bin/component/api_create_preauthcode`) for the
   * page where an Official Account's owner authorizes the platform; it lives 10 minutes.
   */
  async preAuthCode(component: AppId, componentToken: string): Promise<string> {
    const body = await this.#transport.callWithToken({
      path: '/cgi-bin/component/api_create_preauthcode', params: { component_access_token: componentToken }, body: { component_appid: component },
    });
    if (typeof body.pre_auth_code !== 'string' || body.pre_auth_code === '') throw malformed('pre_auth_code', body);
    return body.pre_auth_code;
  }

  /**
   * What an Official Account's authorization of a platform gave (`api_query_auth`, with the
   * authorization code WeChat passed on): the authorizer's token and its refresh token.
   */
  async queryAuth(component: AppId, componentToken: string, authorizationCode: string): Promise<AuthorizerToken & { readonly authorizer: AppId }> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/component/api_query_auth', singleUse: true, params: { component_access_token: componentToken }, body: {
      component_appid: component, authorization_code: authorizationCode,
    } });
    const info = body.authorization_info;
    if (typeof info !== 'object' || info === null) throw malformed('authorization_info', body);
    const fields = info as Json;
    if (!isWeChatId(fields.authorizer_appid)) throw malformed('authorizer_appid', body);
    return { authorizer: fields.authorizer_appid as AppId, ...authorizerTokenOf({ ...fields, errmsg: body.errmsg }) };
  }

  /**
   * An account's authorization of the platform, asked again (`api_get_authorizer_info`):
   * its refresh token (there when the account granted API permissions; undefined when
   * WeChat gives none) and the permission sets granted (`func_info`, WeChat's ids).
   */
  async authorization(component: AppId, componentToken: string, authorizer: AppId): Promise<PlatformAuthorization> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/component/api_get_authorizer_info', params: { component_access_token: componentToken }, body: {
      component_appid: component, authorizer_appid: authorizer,
    } });
    const info = body.authorization_info;
    if (typeof info !== 'object' || info === null) throw malformed('authorization_info', body);
    const { authorizer_refresh_token: refreshToken, func_info: granted = [] } = info as Json;
    if (!Array.isArray(granted)) throw malformed('func_info', body);
    const permissions = granted.map((entry) => (entry as { funcscope_category?: { id?: unknown } } | null)?.funcscope_category?.id).filter((id) => Number.isInteger(id)) as number[];
    return { ...(typeof refreshToken === 'string' && refreshToken !== '' ? { refreshToken } : {}), permissions };
  }

  /** A fresh authorizer token (`api_authorizer_token`) from the refresh token; 61023 when the authorization lapsed. */
  async authorizerToken(component: AppId, componentToken: string, authorizer: AppId, refreshToken: string): Promise<AuthorizerToken> {
    return authorizerTokenOf(await this.#transport.callWithToken({ path: '/cgi-bin/component/api_authorizer_token', params: { component_access_token: componentToken }, body: {
      component_appid: component, authorizer_appid: authorizer, authorizer_refresh_token: refreshToken,
    } }));
  }

  /**
   * A third-party platform's own token (`POST /cgi-bin/component/api_component_token`),
   * made from the component_verify_ticket WeChat pushed. Quotas are per day: the caller
   * caches it.
   */
  async componentToken(platform: ComponentCredentials, ticket: string): Promise<ComponentToken> {
    const body = await this.#transport.call({ path: '/cgi-bin/component/api_component_token', params: {}, body: {
      component_appid: platform.appid, component_appsecret: platform.secret, component_verify_ticket: ticket,
    } });
    const { component_access_token: accessToken } = body;
    if (typeof accessToken !== 'string' || accessToken === '') throw malformed('component_access_token', body);
    return { accessToken, expiresIn: expiresInOf(body) };
  }

  /**
   * A mini program's `wx.login()` code → the person (`/sns/jscode2session`). The answer's
   * session_key is a secret the broker has no use for: it is dropped here, never returned
   * or logged. Mini programs give no nickname or avatar through login (since 2022-11).
   */
  async miniProgramSignIn(app: DirectApp, jsCode: string): Promise<WeChatUser> {
    const body = await this.#transport.call({ path: '/sns/jscode2session', singleUse: true, params: {
      appid: app.appid, secret: app.secret, js_code: jsCode, grant_type: 'authorization_code',
    } });
    if (!isWeChatId(body.openid)) throw malformed('openid', body);
    return { appid: app.appid, openid: body.openid as Openid, unionid: optionalId<Unionid>(body.unionid, 'unionid', body) };
  }

  /**
   * The Official Account's access token from `POST /cgi-bin/stable_token` (normal mode):
   * the token in force, never a new one that would cut off the owner's other servers, as
   * `/cgi-bin/token` would. The caller shares and caches it.
   */
  async stableToken(app: DirectApp): Promise<ComponentToken> {
    const body = await this.#transport.call({ path: '/cgi-bin/stable_token', params: {}, body: {
      grant_type: 'client_credential', appid: app.appid, secret: app.secret, force_refresh: false,
    } });
    if (typeof body.access_token !== 'string' || body.access_token === '') throw malformed('access_token', body);
    return { accessToken: body.access_token, expiresIn: expiresInOf(body) };
  }

  /** A temporary parametric QR code (`POST /cgi-bin/qrcode/create`, QR_STR_SCENE): its content `url`. */
  async sceneQr(accountToken: string, scene: string, expireSeconds: number): Promise<{ url: string; expiresIn: number }> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/qrcode/create', params: { access_token: accountToken }, body: {
      expire_seconds: expireSeconds, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: scene } },
    } });
    if (typeof body.url !== 'string' || !/^https?:\/\/\S{1,500}$/.test(body.url)) throw malformed('url', body);
    return { url: body.url, expiresIn: expiresInOf(body, 'expire_seconds') };
  }

  /** A follower's unionid (`/cgi-bin/user/info`; it has given no nickname or avatar since 2021-12-27). */
  async follower(accountToken: string, openid: Openid): Promise<{ openid: Openid; unionid: Unionid | undefined }> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/user/info', params: { access_token: accountToken, openid, lang: 'zh_CN' } });
    if (body.openid !== openid) throw malformed('openid', body);
    return { openid, unionid: optionalId<Unionid>(body.unionid, 'unionid', body) };
  }

  /**
   * The number behind a tap on a mini program's phone-number button
   * (`POST /wxa/business/getuserphonenumber`, ../shared/wecom-and-phone.md part 2): the
   * code is single use, so never retried; `openid` makes WeChat check the code is that
   * person's. The number as E.164, and the appid WeChat stamped the answer with (the
   * caller checks it is the mini program's).
   */
  async phoneNumber(accountToken: string, code: string, openid: Openid): Promise<{ number: E164; appid: string }> {
    const body = await this.#transport.callWithToken({
      path: '/wxa/business/getuserphonenumber', singleUse: true, params: { access_token: accountToken }, body: { code, openid },
    });
    const info = body.phone_info as Json | undefined;
    const { countryCode, purePhoneNumber } = info ?? {};
    // countryCode is documented as a string and shown as a number: either is taken.
    const country = typeof countryCode === 'number' || (typeof countryCode === 'string' && /^\d{1,4}$/.test(countryCode)) ? String(countryCode) : undefined;
    const number = country && typeof purePhoneNumber === 'string' && /^\d{4,20}$/.test(purePhoneNumber) ? await e164(`+${country}${purePhoneNumber}`) : undefined;
    if (!number) throw malformed('phone_info', body);
    const appid = (info?.watermark as Json | undefined)?.appid;
    if (!isWeChatId(appid)) throw malformed('phone_info.watermark.appid', body);
    return { number, appid };
  }

  /**
   * The Open Platform account (开放平台账号) an Official Account or a mini program is bound
   * to (`POST /cgi-bin/open/get`, with its own or its authorizer token): apps bound to one
   * account give one person one unionid. Undefined when it is bound to none (89002).
   */
  async openAccount(accountToken: string, appid: string): Promise<string | undefined> {
    try {
      const body = await this.#transport.callWithToken({ path: '/cgi-bin/open/get', params: { access_token: accountToken }, body: { appid } });
      if (!isWeChatId(body.open_appid)) throw malformed('open_appid', body);
      return body.open_appid;
    } catch (error) {
      if ((error as { errcode?: unknown }).errcode === 89002) return undefined;
      throw error;
    }
  }

  /** Profile (`/sns/userinfo`); a snsapi_base token gets WeChatScopeError (48001). */
  async profile(accessToken: string, openid: Openid, lang: ProfileLang): Promise<WeChatProfile> {
    const body = await this.#transport.call({ path: '/sns/userinfo', params: { access_token: accessToken, openid, lang } });
    return parseProfile(body);
  }

}


function authorizerTokenOf(body: Json): AuthorizerToken {
  const { authorizer_access_token: accessToken, authorizer_refresh_token: refreshToken } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw malformed('authorizer_access_token', body);
  if (typeof refreshToken !== 'string' || refreshToken === '') throw malformed('authorizer_refresh_token', body);
  return { accessToken, expiresIn: expiresInOf(body), refreshToken };
}

function optionalId<T extends string>(value: unknown, what: string, body: Json): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isWeChatId(value)) throw malformed(what, body);
  return value as T;
}

function parseToken(body: Json): WeChatToken {
  const { access_token: accessToken, openid } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw malformed('access_token', body);
  if (!isWeChatId(openid)) throw malformed('openid', body);
  return {
    accessToken,
    openid: openid as Openid,
    unionid: optionalId<Unionid>(body.unionid, 'unionid', body),
    // WeChat documents 1; some answers carry true or "1".
    snapshotUser: body.is_snapshotuser === 1 || body.is_snapshotuser === '1' || body.is_snapshotuser === true,
  };
}

function parseProfile(body: Json): WeChatProfile {
  const { openid, nickname, headimgurl } = body;
  if (!isWeChatId(openid)) throw malformed('openid', body);
  return {
    openid: openid as Openid,
    unionid: optionalId<Unionid>(body.unionid, 'unionid', body),
    nickname: typeof nickname === 'string' ? nickname : '',
    headimgurl: typeof headimgurl === 'string' && headimgurl !== '' ? headimgurl : undefined,
  };
}
