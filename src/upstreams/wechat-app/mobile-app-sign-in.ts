// A mobile app's login (移动应用微信登录): the app asks the WeChat app for an authorization
// through WeChat's OpenSDK (SendAuth, scope snsapi_userinfo), the person confirms inside
// WeChat, and WeChat hands the app a one-time `code`, which is exchanged with the app's
// AppID and AppSecret at /sns/oauth2/access_token, as a website app's QR code is, for the
// openid (the unionid when the app is bound to the Open Platform account) and, with
// /sns/userinfo, the profile. The reference (../shared/wechat-api.md) says nothing of mobile
// apps; this follows WeChat's guide for them (developers.weixin.qq.com/doc/oplatform/
// Mobile_App/WeChat_Login/Development_Guide.html: the code lives 10 minutes and is used
// once). How the app hands the broker its code (a token exchange) is login/code-exchange.ts.

import type { ConfiguredApp } from '../../wechat/apps.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { DirectApp, WeChatUser } from '../../wechat/types.ts';
import type { Upstream } from '../upstream.ts';

export class MobileAppSignIn implements Upstream<string> {
  readonly way = 'app' as const;
  readonly kind = 'app' as const;
  readonly #wechat: WeChatClient;

  constructor(wechat: WeChatClient) {
    this.#wechat = wechat;
  }

  /** The profile's region names in Chinese: the exchange carries no language of the person's. */
  complete(app: ConfiguredApp & DirectApp, code: string): Promise<WeChatUser> {
    return this.#wechat.signIn(app, 'snsapi_userinfo', code, 'zh_CN');
  }
}
