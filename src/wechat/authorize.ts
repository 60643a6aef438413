// URLs of WeChat's authorize pages. WeChat's documentation gives the parameters in exactly
// this order (appid, redirect_uri, response_type, scope, state) and ends the URL with the
// `#wechat_redirect` fragment; clients that reorder them have met its error pages.

import type { AppId, WeChatScope } from './types.ts';

/** Where a website app's QR code is shown: on the broker's page, drawn by WeChat's wxLogin.js, or on WeChat's own page. */
export type QrMode = 'embedded' | 'redirect';

export interface AuthorizeRequest {
  readonly appid: AppId;
  readonly redirectUri: string;
  readonly scope: WeChatScope;
  readonly state: string;
  /** qrconnect only: the language of WeChat's QR page. */
  readonly lang?: 'cn' | 'en';
  /** Web authorization on the account's behalf: the third-party platform's appid. */
  readonly componentAppid?: AppId | undefined;
}

function query(request: AuthorizeRequest): string {
  const pairs: Array<[string, string]> = [
    ['appid', request.appid],
    ['redirect_uri', request.redirectUri],
    ['response_type', 'code'],
    ['scope', request.scope],
    ['state', request.state],
  ];
  if (request.lang) pairs.push(['lang', request.lang]);
  if (request.componentAppid) pairs.push(['component_appid', request.componentAppid]);
  return pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
}

/** Official Account web authorization (inside the WeChat browser). */
export function webAuthorizeUrl(connectUrl: string, request: AuthorizeRequest): string {
  return `${new URL('/connect/oauth2/authorize', connectUrl).href}?${query(request)}#wechat_redirect`;
}

/**
 * The page where an Official Account's owner authorizes a third-party platform (PC, by
 * scanning with the owner's WeChat); `auth_type=1` shows Official Accounts only. WeChat
 * accepts it only when opened from a page on the platform's 授权发起页域名.
 */
export function platformAuthorizeUrl(mpUrl: string, request: { componentAppid: AppId; preAuthCode: string; redirectUri: string }): string {
  const query = new URLSearchParams({
    component_appid: request.componentAppid, pre_auth_code: request.preAuthCode, redirect_uri: request.redirectUri, auth_type: '1',
  });
  return `${new URL('/cgi-bin/componentloginpage', mpUrl).href}?${query}`;
}

/** Website application QR login page. */
export function qrConnectUrl(connectUrl: string, request: AuthorizeRequest): string {
  return `${new URL('/connect/qrconnect', connectUrl).href}?${query(request)}#wechat_redirect`;
}
