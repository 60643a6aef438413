// WeCom (企业微信) login with a company's self-built app: inside the WeCom client, web
// authorization with the app's agentid (silent, snsapi_base); in a desktop browser, WeCom's SSO page (its QR code, or WeCom's
// desktop app). Both bring a code to the broker's callback, which this module turns into
// the member (or somebody who is not one) with the app's token: shared across instances
// like WeChat's tokens (storage/shared-tokens.ts) and renewed once when WeCom refuses it
// (40014, 42001). ../shared/wecom-and-phone.md part 1 is the reference.

import { LOCK_MODEL, WECHAT_TOKEN_SHARING, withWeChatToken } from '../../platforms/platform-tokens.ts';
import type { StorageAdapter } from '../../storage/adapter.ts';
import { SharedTokens } from '../../storage/shared-tokens.ts';
import type { ConfiguredWeComApp } from '../../wechat/apps.ts';
import { WeChatCodeRejectedError, WeChatOutsideRangeError } from '../../wechat/errors.ts';
import {
  wecomAuthorizeUrl, wecomSsoUrl, type CorpId, type WeComClient, type WeComMemberDetail, type WeComOpenid, type WeComUserId,
} from '../../wechat/wecom.ts';
import type { Logger } from '../../log.ts';
import type { Upstream } from '../upstream.ts';
import type { WeComPanelData } from '../../pages/login-pages.ts';

export const WECOM_TOKEN_MODEL = 'WeComToken';

/** Who WeCom vouched for after one login, with what the app may know of them. */
export type WeComPerson = { readonly corpid: CorpId } & (
  | { readonly type: 'member'; readonly userid: WeComUserId; readonly name?: string | undefined; readonly detail?: WeComMemberDetail }
  | { readonly type: 'non-member'; readonly openid: WeComOpenid }
);

export interface WeComLoginParts {
  readonly wecom: WeComClient;
  readonly storage: { adapter(model: string): StorageAdapter };
  /** open.weixin.qq.com (WeCom's in-client authorization is there). */
  readonly connectUrl: string;
  /** login.work.weixin.qq.com. */
  readonly loginUrl: string;
  /** WeCom's JS SDK, when a desktop gets its login panel inside the broker's page. */
  readonly loginJsUrl?: string | undefined;
  readonly log: Logger;
}

/** Where the browser goes: WeCom's page, or the broker's page with WeCom's panel. */
export type WeComStart = { readonly type: 'redirect'; readonly url: string } | { readonly type: 'wecom-panel'; readonly panel: WeComPanelData };

/** Where the browser goes: the broker's callback and the state kept for it. */
export interface WeComAuthorizeRequest {
  readonly redirectUri: string;
  readonly state: string;
  readonly lang: 'zh' | 'en';
  /** Inside the WeCom client (web authorization), else a desktop browser (SSO page). */
  readonly inClient: boolean;
  /** In the client, ask for the member's email and mobile (snsapi_privateinfo: WeCom's consent page); the app must allow it. */
  readonly privateinfo: boolean;
}

/** The evidence is the code at the broker's callback. */
export class WeComLogin implements Upstream<string, ConfiguredWeComApp, WeComPerson> {
  readonly way = 'wecom' as const;
  readonly kind = 'wecom' as const;
  readonly #parts: WeComLoginParts;
  readonly #tokens: SharedTokens;

  constructor(parts: WeComLoginParts) {
    this.#parts = parts;
    this.#tokens = new SharedTokens(WECOM_TOKEN_MODEL, parts.storage, parts.storage.adapter(LOCK_MODEL), WECHAT_TOKEN_SHARING);
  }

  /** False while WeCom keeps failing: no login should be sent there. */
  get available(): boolean {
    return this.#parts.wecom.available;
  }

  /** Inside the WeCom client its authorization; on a desktop WeCom's panel in the broker's page where configured, else its SSO page. */
  authorize(app: ConfiguredWeComApp, request: WeComAuthorizeRequest): WeComStart {
    const { loginJsUrl, loginUrl } = this.#parts;
    const url = this.#url(app, request);
    if (request.inClient || loginJsUrl === undefined) return { type: 'redirect', url };
    return {
      type: 'wecom-panel',
      panel: {
        loginJsUrl, frameOrigin: new URL(loginUrl).origin, fallbackUrl: url,
        params: { login_type: 'CorpApp', appid: app.corpid, agentid: app.agentid, redirect_uri: request.redirectUri, state: request.state, lang: request.lang },
      },
    };
  }

  /** WeCom's page for this browser. */
  #url(app: ConfiguredWeComApp, request: WeComAuthorizeRequest): string {
    const { redirectUri, state } = request;
    return request.inClient
      ? wecomAuthorizeUrl(this.#parts.connectUrl, { app, redirectUri, state, scope: request.privateinfo && app.scope === 'snsapi_privateinfo' ? 'snsapi_privateinfo' : 'snsapi_base' })
      : wecomSsoUrl(this.#parts.loginUrl, { app, redirectUri, state, lang: request.lang });
  }

  /**
   * The code → the person, with the email and mobile they consented to (privateinfo). The
   * code is spent by the first call alone, so each call has its own token retry: a refused
   * token after the code was redeemed never redeems it twice.
   */
  async complete(app: ConfiguredWeComApp, code: string): Promise<WeComPerson> {
    const { wecom } = this.#parts;
    const visitor = await this.#withToken(app, (token) => wecom.visitor(token, code));
    if (visitor.type === 'non-member') return { corpid: app.corpid, ...visitor };
    const name = await this.#withToken(app, (token) => wecom.memberName(token, visitor.userid)).catch(outsideRange);
    const { userTicket } = visitor;
    const detail = userTicket === undefined ? undefined : await this.#withToken(app, (token) => wecom.memberDetail(token, userTicket)).catch((error: unknown) => this.#noDetail(app, error));
    return { corpid: app.corpid, type: 'member', userid: visitor.userid, name, ...(detail ? { detail } : {}) };
  }

  /** A user ticket WeCom no longer takes (84014, 84015): the member logs in, without the details this time. */
  #noDetail(app: ConfiguredWeComApp, error: unknown): undefined {
    if (!(error instanceof WeChatCodeRejectedError)) throw error;
    this.#parts.log.warn({ app: app.id, errcode: error.errcode, rid: error.requestId }, 'WeCom refused the member\'s user ticket (auth/getuserdetail): the login goes on without their email and mobile');
    return undefined;
  }

  #withToken<T>(app: ConfiguredWeComApp, call: (token: string) => Promise<T>): Promise<T> {
    return withWeChatToken(this.#tokens, app.id, async () => {
      const fresh = await this.#parts.wecom.token(app);
      this.#parts.log.info({ app: app.id, expiresIn: fresh.expiresIn }, 'WeCom access token fetched (gettoken)');
      return { token: fresh.accessToken, expiresIn: fresh.expiresIn };
    }, call, (error) => {
      this.#parts.log.warn({ app: app.id, errcode: error.errcode, rid: error.requestId }, 'WeCom refused the app\'s access token: fetching it once more');
    });
  }
}

/** A member outside the app's visible range has no name the app may read (60011): the login goes on without one. */
function outsideRange(error: unknown): undefined {
  if (error instanceof WeChatOutsideRangeError) return undefined;
  throw error;
}
