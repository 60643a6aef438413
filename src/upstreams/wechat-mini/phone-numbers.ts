// A mini program's verified phone number (手机号快速验证组件, ../shared/wecom-and-phone.md
// part 2): the code of a tap on its phone-number button, redeemed with the mini program's
// own access token (stable_token, shared across instances like every account token),
// passing the person's openid in that mini program so that WeChat checks the code is
// theirs, and refused when WeChat's answer is stamped (watermark.appid) for another app.
// The number is E.164. Each successful tap is billed by WeChat, redeemed or not.

import type { OfficialAccountTokens } from '../../platforms/official-account-tokens.ts';
import type { ConfiguredApp } from '../../wechat/apps.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { E164 } from '../../wechat/phone-number.ts';
import type { Openid } from '../../wechat/types.ts';

/** The number, or the app WeChat stamped an answer for that is not this mini program. */
export type Redeemed = { readonly number: E164 } | { readonly foreign: string };

export class MiniProgramPhoneNumbers {
  readonly #wechat: WeChatClient;
  readonly #tokens: OfficialAccountTokens;

  constructor(wechat: WeChatClient, tokens: OfficialAccountTokens) {
    this.#wechat = wechat;
    this.#tokens = tokens;
  }

  /** The code → the number of the person `openid` of the mini program `app`; a WeChatError when WeChat says no or fails. */
  async redeem(app: ConfiguredApp, code: string, openid: Openid): Promise<Redeemed> {
    const { number, appid } = await this.#tokens.withToken(app, (token) => this.#wechat.phoneNumber(token, code, openid));
    return appid === app.appid ? { number } : { foreign: appid };
  }
}
