// WeCom (企业微信), a self-built app (自建应用) of a company: its vocabulary, the URLs of its
// login pages and the calls a login makes (../shared/wecom-and-phone.md part 1). A member
// is (corpid, userid): no WeCom API links a member to a WeChat unionid (1.4), so nothing
// here has one. Calls go through the same transport as WeChat's (one errcode table,
// errors.ts), to WeCom's own host.

import { e164, type E164 } from './phone-number.ts';
import { expiresInOf, malformed, WeChatTransport, type WeChatClientOptions } from './transport.ts';

export type CorpId = string & { readonly __brand: 'CorpId' };
/** A member's id in the company: 1–64 of `[0-9A-Za-z_-@.]`, `CorpId/userid` for a linked company's member (1.3). */
export type WeComUserId = string & { readonly __brand: 'WeComUserId' };
/** A non-member's id, per company (unrelated to any WeChat openid). */
export type WeComOpenid = string & { readonly __brand: 'WeComOpenid' };

/**
 * `snsapi_base`: silent, the userid. `snsapi_privateinfo`: the member's consent page, then
 * also a user ticket for the email and mobile they consented to (1.2, 1.3).
 */
export type WeComScope = 'snsapi_base' | 'snsapi_privateinfo';

/** A self-built app as the broker calls WeCom for it. */
export interface WeComApp {
  readonly kind: 'wecom';
  readonly corpid: CorpId;
  readonly agentid: string;
  readonly secret: string;
  readonly scope: WeComScope;
}

const USERID = /^(?:[A-Za-z0-9_@.-]{1,64}\/)?[A-Za-z0-9_@.-]{1,64}$/;
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;
/** WeCom's corpids are `ww` or `wx` and 16 more characters. */
const CORPID = /^w[wx][A-Za-z0-9]{16}$/;
/** An agentid is a whole number. */
export const AGENTID = /^\d{1,10}$/;

export function isWeComCorpid(value: unknown): value is CorpId {
  return typeof value === 'string' && CORPID.test(value);
}

export function isWeComUserId(value: unknown): value is WeComUserId {
  return typeof value === 'string' && USERID.test(value);
}

/** A non-member's openid, as getuserinfo gives it (`visitor` below). */
export function isWeComOpenid(value: unknown): value is WeComOpenid {
  return typeof value === 'string' && OPENID.test(value);
}

/**
 * Who WeCom says logged in: a member of the company (with a user ticket after a privateinfo
 * authorization the member consented to, when they are in the app's visible range), or
 * somebody else (1.3, auth/getuserinfo).
 */
export type WeComVisitor =
  | { readonly type: 'member'; readonly userid: WeComUserId; readonly userTicket?: string }
  | { readonly type: 'non-member'; readonly openid: WeComOpenid };

/** What a member consented to show (1.3, auth/getuserdetail): each only when WeCom gave it and it is well formed. */
export interface WeComMemberDetail {
  readonly email?: string;
  /** The mobile, as E.164. */
  readonly mobile?: E164;
}

/** An address as RFC 5321 bounds it, without spaces: WeCom's email fields are set by the company's admins. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** An email address as the broker takes one from WeCom. */
export function isWeComEmail(value: unknown): value is string {
  return typeof value === 'string' && EMAIL.test(value);
}

/** The query of WeCom's in-client authorization and SSO page (1.1, 1.2): `appid` is the corpid. */
interface WeComAuthorizeRequest {
  readonly app: Pick<WeComApp, 'corpid' | 'agentid'>;
  readonly redirectUri: string;
  readonly state: string;
}

/** Web authorization inside the WeCom client, on open.weixin.qq.com as WeCom documents it (1.2), with the app's `agentid`. */
export function wecomAuthorizeUrl(connectUrl: string, request: WeComAuthorizeRequest & { readonly scope: WeComScope }): string {
  const pairs = [['appid', request.app.corpid], ['redirect_uri', request.redirectUri], ['response_type', 'code'], ['scope', request.scope],
    ['state', request.state], ['agentid', request.app.agentid]];
  return `${new URL('/connect/oauth2/authorize', connectUrl).href}?${pairs.map(([key, value]) => `${key}=${encodeURIComponent(value!)}`).join('&')}#wechat_redirect`;
}

/** WeCom's SSO page for a desktop browser (1.1): the QR code to scan with WeCom, or WeCom's desktop app. */
export function wecomSsoUrl(loginUrl: string, request: WeComAuthorizeRequest & { readonly lang: 'zh' | 'en' }): string {
  const query = new URLSearchParams({
    login_type: 'CorpApp', appid: request.app.corpid, agentid: request.app.agentid, redirect_uri: request.redirectUri, state: request.state, lang: request.lang,
  });
  return `${new URL('/wwlogin/sso/login', loginUrl).href}?${query}`;
}

export class WeComClient {
  readonly #transport: WeChatTransport;

  /** `options.apiUrl` is WeCom's API host (WECOM_API_URL). */
  constructor(options: WeChatClientOptions) {
    this.#transport = new WeChatTransport(options);
  }

  /** False while WeCom keeps failing (the circuit is open). */
  get available(): boolean {
    return this.#transport.available;
  }

  /** The app's access token (`/cgi-bin/gettoken`); the caller shares and caches it (WeCom throttles frequent calls). */
  async token(app: WeComApp): Promise<{ accessToken: string; expiresIn: number }> {
    const body = await this.#transport.call({ path: '/cgi-bin/gettoken', params: { corpid: app.corpid, corpsecret: app.secret } });
    if (typeof body.access_token !== 'string' || body.access_token === '' || body.access_token.length > 512) throw malformed('access_token', body);
    return { accessToken: body.access_token, expiresIn: expiresInOf(body) };
  }

  /** Who a login's code names (`/cgi-bin/auth/getuserinfo`); a code is single use and lives 5 minutes. */
  async visitor(accessToken: string, code: string): Promise<WeComVisitor> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/auth/getuserinfo', singleUse: true, params: { access_token: accessToken, code } });
    if (body.userid !== undefined) {
      if (!isWeComUserId(body.userid)) throw malformed('userid', body);
      const ticket = body.user_ticket;
      return { type: 'member', userid: body.userid, ...(typeof ticket === 'string' && ticket !== '' && ticket.length <= 512 ? { userTicket: ticket } : {}) };
    }
    if (isWeComOpenid(body.openid)) return { type: 'non-member', openid: body.openid };
    throw malformed('userid or openid', body);
  }

  /** The member's name (`/cgi-bin/user/get`; still given to self-built apps, 1.3); undefined when WeCom leaves it out. */
  async memberName(accessToken: string, userid: WeComUserId): Promise<string | undefined> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/user/get', params: { access_token: accessToken, userid } });
    if (body.userid !== userid) throw malformed('userid', body);
    return typeof body.name === 'string' && body.name !== '' && body.name.length <= 256 ? body.name : undefined;
  }

  /**
   * The email and mobile the member consented to (`/cgi-bin/auth/getuserdetail`, by the
   * user ticket of their login, valid 30 minutes); a field WeCom leaves empty (the admin did
   * not tick it, or it is not set) or that is malformed is left out.
   */
  async memberDetail(accessToken: string, userTicket: string): Promise<WeComMemberDetail> {
    const body = await this.#transport.callWithToken({ path: '/cgi-bin/auth/getuserdetail', params: { access_token: accessToken }, body: { user_ticket: userTicket } });
    const mobile = typeof body.mobile === 'string' && body.mobile !== '' ? await e164(body.mobile) : undefined;
    const email = isWeComEmail(body.email) ? body.email : undefined;
    return { ...(email ? { email } : {}), ...(mobile ? { mobile } : {}) };
  }
}
