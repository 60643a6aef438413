// Where an attempt sends the browser: WeChat's authorize page (inside WeChat), WeChat's
// QR page, or the broker's page drawing the QR with wxLogin.js. A pure function of the
// attempt, its state and the configured WeChat URLs.

import type { Lang } from '../pages/i18n.ts';
import { qrConnectUrl, webAuthorizeUrl, type AuthorizeRequest } from '../wechat/authorize.ts';
import type { AppId } from '../wechat/types.ts';
import type { Attempt } from './attempts.ts';
import type { Response } from './response.ts';

export interface WeChatUrls {
  /** The broker's origin: the callback is ISSUER/interaction/<uid>/wechat. */
  readonly issuer: string;
  readonly connectUrl: string;
  readonly loginJsUrl: string;
}

export function callbackUrl(issuer: string, uid: string): string {
  return `${issuer}/interaction/${uid}/wechat`;
}

/** `component`: the platform's appid when the attempt's Official Account is reached through one. */
export function toWeChat(urls: WeChatUrls, attempt: Attempt, state: string, lang: Lang, component?: AppId): Response {
  const request: AuthorizeRequest = {
    appid: attempt.appid,
    componentAppid: component,
    redirectUri: callbackUrl(urls.issuer, attempt.uid),
    scope: attempt.scope,
    state,
    ...(attempt.channel === 'qr' ? { lang: lang === 'en' ? 'en' as const : 'cn' as const } : {}),
  };
  if (attempt.channel === 'web') return { type: 'redirect', url: webAuthorizeUrl(urls.connectUrl, request) };
  const qrUrl = qrConnectUrl(urls.connectUrl, request);
  if (!attempt.embedded) return { type: 'redirect', url: qrUrl };
  return {
    type: 'qr',
    qr: {
      appid: attempt.appid,
      redirectUri: request.redirectUri,
      state,
      loginJsUrl: urls.loginJsUrl,
      connectUrl: urls.connectUrl,
      fallbackUrl: qrUrl,
    },
  };
}
