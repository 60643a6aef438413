// URLs of WeChat's authorize pages. WeChat's documentation gives the parameters in exactly
// this order (appid, redirect_uri, response_type, scope, state) and ends the URL with the
// `#wechat_redirect` fragment; clients that reorder them have met its error pages.

import type { AppId, WeChatScope } from './types.ts';

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

/** Website application QR login page. */
export function qrConnectUrl(connectUrl: string, request: AuthorizeRequest): string {
  return `${new URL('/connect/qrconnect', connectUrl).href}?${query(request)}#wechat_redirect`;
}
