// The registry of ways in: one of each, built once from what they share (the WeChat
// client, the platforms' and the Official Accounts' tokens, WeChat's URLs). A new way in
// is a folder beside these and one line here.

import type { Logger } from '../log.ts';
import type { OfficialAccountTokens } from '../platforms/official-account-tokens.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { PlatformTokens } from '../platforms/platform-tokens.ts';
import type { WeChatClient } from '../wechat/client.ts';
import type { WeComClient } from '../wechat/wecom.ts';
import type { Channel } from './choose.ts';
import type { CodeUpstream } from './upstream.ts';
import { FollowLogin } from './wechat-follow/follow-login.ts';
import { MobileAppSignIn } from './wechat-app/mobile-app-sign-in.ts';
import { MiniProgramSignIn } from './wechat-mini/mini-program-sign-in.ts';
import { MiniProgramPhoneNumbers } from './wechat-mini/phone-numbers.ts';
import { QrLogin } from './wechat-qr/qr-login.ts';
import { WebAuthorization } from './wechat-web/web-authorization.ts';
import { WeComLogin } from './wecom/wecom-login.ts';

export interface UpstreamParts {
  readonly wechat: WeChatClient;
  readonly platformTokens: PlatformTokens;
  readonly officialAccountTokens: OfficialAccountTokens;
  readonly connectUrl: string;
  readonly loginJsUrl: string;
  readonly wecom: WeComClient;
  readonly wecomLoginUrl: string;
  readonly wecomLoginJsUrl: string | undefined;
  /** Where WeCom's app tokens are shared across instances. */
  readonly storage: { adapter(model: string): StorageAdapter };
  readonly log: Logger;
}

export class Upstreams {
  readonly web: WebAuthorization;
  readonly qr: QrLogin;
  readonly follow: FollowLogin;
  readonly miniProgram: MiniProgramSignIn;
  readonly mobileApp: MobileAppSignIn;
  /** Not a way in: a mini program's phone-number button, for people already logged in. */
  readonly phoneNumbers: MiniProgramPhoneNumbers;
  readonly wecom: WeComLogin;
  readonly #wechat: WeChatClient;

  constructor(parts: UpstreamParts) {
    this.#wechat = parts.wechat;
    this.web = new WebAuthorization(parts);
    this.qr = new QrLogin(parts);
    this.follow = new FollowLogin(parts);
    this.miniProgram = new MiniProgramSignIn(parts.wechat);
    this.mobileApp = new MobileAppSignIn(parts.wechat);
    this.phoneNumbers = new MiniProgramPhoneNumbers(parts.wechat, parts.officialAccountTokens);
    this.wecom = new WeComLogin({
      wecom: parts.wecom, storage: parts.storage, connectUrl: parts.connectUrl, loginUrl: parts.wecomLoginUrl, loginJsUrl: parts.wecomLoginJsUrl, log: parts.log,
    });
  }

  /** The way in of an attempt's channel: where its browser goes, and what completes its callback. */
  byChannel(channel: Exclude<Channel, 'wecom'>): CodeUpstream {
    return channel === 'qr' ? this.qr : this.web;
  }

  /** False while WeChat keeps failing (its circuit is open): no login should be sent there. */
  get available(): boolean {
    return this.#wechat.available;
  }
}
