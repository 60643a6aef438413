// Which way a person goes to WeChat: a pure decision from the browser, what is
// configured and what the request asks. Web authorization works only inside the WeChat
// browser; QR login needs a second device, so a desktop; a phone browser outside WeChat
// has neither and is asked to open the link in WeChat.

import type { Account } from '../accounts/account.ts';
import type { QrMode } from '../wechat/authorize.ts';
import type { WeChatApp } from '../wechat/types.ts';
import type { BrowserKind } from '../wechat/user-agent.ts';

/** Client metadata `wechat_apps`: the apps a client's logins go through, in order of preference. */
export const WECHAT_APPS = 'wechat_apps';

/**
 * The channel of a login that goes to WeChat's authorize page and comes back with a code:
 * - `web`: Official Account web authorization inside the WeChat browser;
 * - `qr`: website app QR login, scanned with WeChat on another device;
 * - `wecom`: WeCom, inside its client or on its SSO page (upstreams/wecom/).
 */
export type Channel = 'web' | 'qr' | 'wecom';

/** What choose.ts decides for a login. */
export type Choice<App extends WeChatApp = WeChatApp> =
  /** Web authorization; always snsapi_base first (silent), upgraded when needed. */
  | { readonly type: 'web'; readonly app: App }
  | { readonly type: 'qr'; readonly app: App; readonly mode: QrMode }
  /** Follow-to-login: the Official Account's parametric QR code on this (desktop) page; QR login offered too when configured. */
  | { readonly type: 'follow'; readonly app: App; readonly qrApp: App | undefined }
  | { readonly type: 'open-in-wechat'; readonly qrApp: App | undefined }
  /** Nothing can log this person in without showing something, and nothing may be shown. */
  | { readonly type: 'login-required' }
  /** No configured app serves this browser. */
  | { readonly type: 'none' };

export interface UpstreamInput<App extends WeChatApp = WeChatApp> {
  readonly browser: BrowserKind;
  readonly apps: readonly App[];
  readonly qrMode: QrMode;
  /** prompt=none. */
  readonly silent: boolean;
  /** The person asked for the QR code (e.g. to scan it with another device). */
  readonly wantsQr: boolean;
  /** The client's first Official Account with follow-to-login, if any. */
  readonly follow?: App | undefined;
  /** The person asked for the follow-to-login QR code. */
  readonly wantsFollow?: boolean;
}

/** The apps a client may use, from its metadata (`wechat_apps`); every app when it names none. */
export function appsOfClient<App extends WeChatApp & { readonly id: string }>(apps: readonly App[], client: object | undefined): App[] {
  return appsFor(apps, (client as Record<string, unknown> | undefined)?.[WECHAT_APPS]);
}

/**
 * The WeCom apps a client offers: only those its `wechat_apps` names. A client that names
 * none keeps every WeChat app and no WeCom one: an app for customers should not ask them
 * for a work account.
 */
export function wecomAppsOfClient<App extends { readonly id: string }>(apps: readonly App[], client: object | undefined): App[] {
  const wanted = (client as Record<string, unknown> | undefined)?.[WECHAT_APPS];
  return Array.isArray(wanted) ? wanted.flatMap((id) => apps.filter((app) => app.id === id)) : [];
}

export function appsFor<App extends WeChatApp & { readonly id: string }>(apps: readonly App[], wanted: unknown): App[] {
  if (!Array.isArray(wanted)) return [...apps];
  return wanted.flatMap((id) => apps.filter((app) => app.id === id));
}

export function chooseUpstream<App extends WeChatApp>(input: UpstreamInput<App>): Choice<App> {
  const mp = input.apps.find((app) => app.kind === 'mp');
  const open = input.apps.find((app) => app.kind === 'open');
  if (input.silent) return input.browser === 'wechat' && mp ? { type: 'web', app: mp } : { type: 'login-required' };
  if (open && input.wantsQr) return { type: 'qr', app: open, mode: input.qrMode };
  if (input.browser === 'wechat') {
    if (mp) return { type: 'web', app: mp };
    return open ? { type: 'qr', app: open, mode: input.qrMode } : { type: 'none' };
  }
  // A desktop: follow the account to log in when asked, when no website app is there, or
  // when the client lists the account before its website app.
  const followFirst = input.follow && (!open || input.apps.indexOf(input.follow) < input.apps.indexOf(open));
  if (input.browser === 'desktop' && input.follow && (input.wantsFollow || followFirst)) return { type: 'follow', app: input.follow, qrApp: open };
  if (input.browser === 'desktop' && open) return { type: 'qr', app: open, mode: input.qrMode };
  return mp || open ? { type: 'open-in-wechat', qrApp: open } : { type: 'none' };
}

/** A client's WeCom app (upstreams/wecom/) beside its WeChat apps. */
export interface WeComInput<WeCom extends { readonly scope: string }> {
  /** The client's first WeCom app, if any. */
  readonly app: WeCom | undefined;
  /** Inside the WeCom client (User-Agent `wxwork`, which also says MicroMessenger: WeCom wins). */
  readonly inWeCom: boolean;
  /** What the person picked on the broker's page that offers both, if they did. */
  readonly picked: 'wecom' | 'wechat' | undefined;
}

export type WeComChoice<WeCom> =
  /** WeCom's in-client authorization (`inClient`), or its SSO page (QR code) in any other browser. */
  | { readonly type: 'wecom'; readonly app: WeCom; readonly inClient: boolean }
  /** Both could log this person in and nothing says which: the broker's page lets them pick. */
  | { readonly type: 'pick'; readonly app: WeCom };

/**
 * The way in for a client that may offer WeCom: inside the WeCom client, WeCom; inside WeChat, WeChat; elsewhere what the person picked, else the
 * one that can serve this browser, else a page to pick.
 */
export function chooseWithWeCom<App extends WeChatApp, WeCom extends { readonly scope: string }>(
  input: UpstreamInput<App>, wecom: WeComInput<WeCom>,
): Choice<App> | WeComChoice<WeCom> {
  const wechat = chooseUpstream(input);
  const { app } = wecom;
  if (!app) return wechat;
  // Always silent first (snsapi_base): WeCom's consent page only once the account turns out to lack what is asked (decide.ts).
  if (wecom.inWeCom) return { type: 'wecom', app, inClient: true };
  if (input.silent || input.browser === 'wechat') return wechat;
  if (wecom.picked === 'wecom' || wechat.type === 'none') return { type: 'wecom', app, inClient: false };
  return wecom.picked === 'wechat' || input.wantsQr || input.wantsFollow ? wechat : { type: 'pick', app };
}

/**
 * Whether an account already has what the request asks for, so that a silent
 * snsapi_base login is enough: `profile` needs a nickname, `wechat` a unionid.
 * A request for `openid` alone is always covered (the openid is the account's key).
 */
export function accountCovers(account: Account | undefined, scopes: ReadonlySet<string>): boolean {
  const needsProfile = scopes.has('profile');
  const needsUnionid = scopes.has('wechat');
  if (!needsProfile && !needsUnionid) return true;
  if (!account) return false;
  return (!needsProfile || Boolean(account.profile.nickname)) && (!needsUnionid || account.unionid !== undefined);
}

/**
 * Whether an account already has the contact details the request asks for (`email`,
 * `phone`), so that a WeCom login need not ask the member again (snsapi_privateinfo).
 */
export function contactsCover(account: Account | undefined, scopes: ReadonlySet<string>): boolean {
  return (!scopes.has('email') || account?.contacts?.email !== undefined) && (!scopes.has('phone') || account?.contacts?.phone !== undefined);
}
