// Follow-to-login (扫码关注登录)'s calls to WeChat, with the Official Account's own access
// token (platforms/official-account-tokens.ts: its secret, or its platform's authorizer
// token): a temporary parametric QR code for a scene, and the follower behind a scan's
// openid (user/info gives the unionid). The scan itself arrives as a push (follow-events.ts)
// and is confirmed by the scanner (follow-confirm.ts) before anyone is logged in.

import type { ConfiguredApp } from '../../wechat/apps.ts';
import type { OfficialAccountTokens } from '../../platforms/official-account-tokens.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { Openid, WeChatUser } from '../../wechat/types.ts';
import type { Upstream } from '../upstream.ts';

export interface FollowLoginParts {
  readonly wechat: WeChatClient;
  readonly officialAccountTokens: OfficialAccountTokens;
}

export class FollowLogin implements Upstream<Openid> {
  readonly way = 'follow' as const;
  readonly kind = 'mp' as const;
  readonly #parts: FollowLoginParts;

  constructor(parts: FollowLoginParts) {
    this.#parts = parts;
  }

  /** The content of a parametric QR code for `scene`, living `ttl` seconds. */
  async qr(app: ConfiguredApp, scene: string, ttl: number): Promise<string> {
    const { wechat, officialAccountTokens } = this.#parts;
    const { url } = await officialAccountTokens.withToken(app, (token) => wechat.sceneQr(token, scene, ttl));
    return url;
  }

  /** The follower who scanned, as WeChat vouches for them: the scan's openid and the unionid user/info gives. */
  async complete(app: ConfiguredApp, openid: Openid): Promise<WeChatUser> {
    const { wechat, officialAccountTokens } = this.#parts;
    const { unionid } = await officialAccountTokens.withToken(app, (token) => wechat.follower(token, openid));
    return { appid: app.appid, openid, unionid };
  }
}
