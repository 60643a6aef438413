// Website app QR login (网站应用微信登录), on a desktop: WeChat's QR code (on WeChat's own page,
// or drawn on the broker's page by wxLogin.js), scanned with WeChat on a phone, then a code
// at the broker's callback, then the person with their profile (snsapi_login).

import type { ConfiguredApp } from '../../wechat/apps.ts';
import { qrConnectUrl } from '../../wechat/authorize.ts';
import type { WeChatClient } from '../../wechat/client.ts';
import type { WeChatUser } from '../../wechat/types.ts';
import type { CodeEvidence, CodeRequest, CodeUpstream, Start } from '../upstream.ts';

export interface QrLoginParts {
  readonly wechat: WeChatClient;
  readonly connectUrl: string;
  /** WeChat's wxLogin.js, for the QR code on the broker's own page. */
  readonly loginJsUrl: string;
}

export class QrLogin implements CodeUpstream {
  readonly way = 'qr' as const;
  readonly kind = 'open' as const;
  readonly #parts: QrLoginParts;

  constructor(parts: QrLoginParts) {
    this.#parts = parts;
  }

  authorize(app: ConfiguredApp, { redirectUri, state, lang, embedded }: CodeRequest): Start {
    const { connectUrl, loginJsUrl } = this.#parts;
    const url = qrConnectUrl(connectUrl, { appid: app.appid, redirectUri, scope: 'snsapi_login', state, lang: lang === 'en' ? 'en' : 'cn' });
    if (!embedded) return { type: 'redirect', url };
    return { type: 'qr', qr: { appid: app.appid, redirectUri, state, loginJsUrl, connectUrl, fallbackUrl: url } };
  }

  complete(app: ConfiguredApp, { code, lang }: CodeEvidence): Promise<WeChatUser> {
    return this.#parts.wechat.signIn(app, 'snsapi_login', code, lang);
  }
}
