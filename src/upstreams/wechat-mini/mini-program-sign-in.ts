// A mini program's login: the one-time `js_code` of `wx.login()`, exchanged at WeChat's
// jscode2session for the openid (and the unionid when the mini program is bound to the
// company's Open Platform account). The session_key never leaves wechat/. How a mini
// program hands the broker its js_code (a token exchange) is login/code-exchange.ts.

import type { ConfiguredApp } from '../../wechat/apps.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { DirectApp, WeChatUser } from '../../wechat/types.ts';
import type { Upstream } from '../upstream.ts';

export class MiniProgramSignIn implements Upstream<string> {
  readonly way = 'miniprogram' as const;
  readonly kind = 'miniprogram' as const;
  readonly #wechat: WeChatClient;

  constructor(wechat: WeChatClient) {
    this.#wechat = wechat;
  }

  complete(app: ConfiguredApp & DirectApp, jsCode: string): Promise<WeChatUser> {
    return this.#wechat.miniProgramSignIn(app, jsCode);
  }
}
