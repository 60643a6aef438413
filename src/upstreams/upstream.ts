// The interface every way in implements. A way in turns what WeChat hands the broker for
// one kind of app (an authorization code, a follower's scan, a mini program's js_code)
// into the person WeChat vouches for; it owns the calls, the tokens (a third-party
// platform's where the app is reached through one: platforms/) and the URLs that takes,
// and nothing of OIDC (login/ is where a way in meets the provider). The four questions
// (shared/architecture.md, "Growing the upstreams") and where each is answered:
//   1. can I serve this login?   choose.ts, one pure decision over the client's apps
//   2. authorize                 the way in's `authorize` (a URL, a page's data, a QR code)
//   3. complete                  `complete(app, evidence)` below
//   4. what went wrong           wechat/failures.ts, one table for every way in; each
//                                caller shapes the kind (a page, an OAuth error, a retry)

import type { Lang } from '../pages/i18n.ts';
import type { QrPageData } from '../pages/login-pages.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { ProfileLang } from '../wechat/client.ts';
import type { AppKind, WeChatScope, WeChatUser } from '../wechat/types.ts';

export interface Upstream<Evidence, App = ConfiguredApp, Person = WeChatUser> {
  /**
   * How a person reached WeChat, in metrics, logs and `amr` (`wechat_<way>`): today `web`
   * inside the WeChat browser, `qr` by scanning a website app's QR code, `follow` by
   * scanning an Official Account's QR code, `miniprogram` from a mini program; `wecom` for
   * WeCom, whose members are people of another kind (upstreams/wecom/).
   */
  readonly way: string;
  /** The kind of app it logs people in with. */
  readonly kind: AppKind | 'wecom';
  /** The evidence → the person; a WeChatError (wechat/errors.ts) when WeChat (or WeCom) says no or fails. */
  complete(app: App, evidence: Evidence): Promise<Person>;
}

/** What a callback brings back from WeChat's authorize page. */
export interface CodeEvidence {
  /** The scope the authorization asked (snsapi_base gives no profile). */
  readonly scope: WeChatScope;
  readonly code: string;
  /** The language WeChat gives the profile's region names in. */
  readonly lang: ProfileLang;
}

/** Where the browser is sent for a code: the broker's callback, the scope, the state kept for it. */
export interface CodeRequest {
  readonly redirectUri: string;
  readonly scope: WeChatScope;
  readonly state: string;
  /** The person's language, for WeChat's own page where it has one. */
  readonly lang: Lang;
  /** A QR code on the broker's own page rather than WeChat's, where the way in has one. */
  readonly embedded: boolean;
}

/** How the browser goes to WeChat: a redirect, or the broker's page that draws WeChat's QR code. */
export type Start = { readonly type: 'redirect'; readonly url: string } | { readonly type: 'qr'; readonly qr: QrPageData };

/** A way in that sends the browser to WeChat and gets a code back at the broker's callback (login/callback.ts). */
export interface CodeUpstream extends Upstream<CodeEvidence> {
  authorize(app: ConfiguredApp, request: CodeRequest): Start;
}
