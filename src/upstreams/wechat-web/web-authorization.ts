// Official Account web authorization (网页授权), inside the WeChat browser: WeChat's
// authorize page, then a code at the broker's callback, then the person. An account reached
// through a third-party platform is authorized on the platform's behalf: its authorize URL
// carries `component_appid` and its code is exchanged with the platform's
// component_access_token (WeChat's "代公众号发起网页授权"; platforms/platform-tokens.ts).
// This is the one place that keeps that rule: the login's callback, the phone hand-off and
// follow-to-login's confirmation all authorize and complete here.

import type { ConfiguredApp } from '../../wechat/apps.ts';
import type { PlatformTokens } from '../../platforms/platform-tokens.ts';
import { webAuthorizeUrl } from '../../wechat/authorize.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { WeChatUser } from '../../wechat/types.ts';
import type { CodeEvidence, CodeRequest, CodeUpstream, Start } from '../upstream.ts';

/** Where the browser is sent: the broker's callback, the scope, and the state kept for it. */
export interface AuthorizeRequest {
  readonly redirectUri: string;
  readonly scope: 'snsapi_base' | 'snsapi_userinfo';
  readonly state: string;
}

export interface WebAuthorizationParts {
  readonly wechat: WeChatClient;
  readonly platformTokens: PlatformTokens;
  /** open.weixin.qq.com (or the simulator). */
  readonly connectUrl: string;
}

export class WebAuthorization implements CodeUpstream {
  readonly way = 'web' as const;
  readonly kind = 'mp' as const;
  readonly #parts: WebAuthorizationParts;

  constructor(parts: WebAuthorizationParts) {
    this.#parts = parts;
  }

  /** WeChat's authorize page for `app` (on its platform's behalf where it is reached through one). */
  authorizeUrl(app: ConfiguredApp, request: AuthorizeRequest): string {
    return webAuthorizeUrl(this.#parts.connectUrl, { appid: app.appid, componentAppid: app.component, ...request });
  }

  /** Inside WeChat there is no QR code to draw: always WeChat's authorize page. */
  authorize(app: ConfiguredApp, { redirectUri, scope, state }: CodeRequest): Start {
    return { type: 'redirect', url: this.authorizeUrl(app, { redirectUri, scope: scope === 'snsapi_base' ? 'snsapi_base' : 'snsapi_userinfo', state }) };
  }

  /** The platform `app` is reached through while it still waits for WeChat's first ticket (nothing could complete), else undefined. */
  async waitingPlatform(app: ConfiguredApp): Promise<string | undefined> {
    if (app.via === undefined) return undefined;
    return await this.#parts.platformTokens.state(app.via) === 'ready' ? undefined : app.via;
  }

  complete(app: ConfiguredApp, { scope, code, lang }: CodeEvidence): Promise<WeChatUser> {
    const { wechat, platformTokens } = this.#parts;
    if (app.via === undefined) return wechat.signIn(app, scope, code, lang);
    return platformTokens.withToken(app.via, (token) => wechat.signIn(app, scope, code, lang, token));
  }
}
