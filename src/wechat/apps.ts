// The WeChat apps the broker runs, as the rest of the broker knows them: WeChat's facts
// (types.ts: the kind, the appid, its own secret or the platform it is reached through)
// and the broker's (the id clients name it by, its display name, which setting configured
// it). config/ reads them from the environment and WECHAT_APPS_FILE; everything else takes
// them as given.

import type { AppId, WeChatApp } from './types.ts';
import type { WeComApp } from './wecom.ts';

/** An Official Account's developer-mode message keys (服务器配置): the token and the 43-character EncodingAESKey. */
export interface MessageKeys {
  readonly token: string;
  readonly aesKey: string;
}

/** A WeChat app as configured, with the setting that configures it (for operator messages). */
export type ConfiguredApp = WeChatApp & {
  /** Its id in client metadata (`wechat_apps`), logs and metrics: `mp` and `open` for the single-app variables. */
  readonly id: string;
  readonly name?: string | undefined;
  readonly configuredBy: string;
  /** The id of the third-party platform (a `component` entry) this Official Account is reached through. */
  readonly via?: string | undefined;
  /** Follow-to-login with this Official Account. */
  readonly followLogin?: boolean | undefined;
  /** Its developer-mode message keys, when it has its own secret (through a platform, the platform's serve). */
  readonly messageKeys?: MessageKeys | undefined;
  /** The company's own server for the account's pushes (follow-to-login): each is passed on as WeChat sent it. */
  readonly forwardUrl?: string | undefined;
  /**
   * Relying parties (client_ids) whose own account this is: WeChat's authorization sheet,
   * which names the account, is their consent to what it lists (login/sheet-consent.ts).
   */
  readonly sheetConsentFor?: readonly string[] | undefined;
};

/** A third-party platform (第三方平台) the company operates. */
export interface PlatformApp extends MessageKeys {
  readonly id: string;
  readonly appid: AppId;
  readonly secret: string;
}

/** A WeCom self-built app as configured (WECHAT_APPS_FILE, kind `wecom`). */
export type ConfiguredWeComApp = WeComApp & {
  /** Its id in client metadata (`wechat_apps`), logs and metrics. */
  readonly id: string;
  readonly name?: string | undefined;
  readonly configuredBy: string;
  /** People who are not members of the company (WeCom gives them an openid) may log in too. */
  readonly allowNonMembers: boolean;
  /** Its 接收消息服务器 Token and EncodingAESKey, when WeCom pushes its events (a member's userid change) to the broker. */
  readonly messageKeys?: MessageKeys | undefined;
};
