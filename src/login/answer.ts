// What the broker answers a browser during a login, as data: a redirect, an error page,
// the QR page or WeCom's panel page. Kept with the attempt it answered, so that a repeat delivery of the same
// WeChat callback gets exactly the same answer.

import type { Context } from 'koa';
import { continuePage, errorPage, type ErrorData } from '../pages/error-pages.ts';
import { qrPage, wecomPanelPage, type QrPageData, type WeComPanelData } from '../pages/login-pages.ts';

export type Answer =
  | { readonly type: 'redirect'; readonly url: string }
  | { readonly type: 'page'; readonly page: ErrorData }
  | { readonly type: 'qr'; readonly qr: QrPageData }
  | { readonly type: 'wecom-panel'; readonly panel: WeComPanelData };

/** 303 after the callback's GET too: the browser must never resend anything (RFC 9110 15.4.4). */
export function send(ctx: Context, response: Answer): void {
  switch (response.type) {
    case 'redirect':
      ctx.status = 303;
      return ctx.redirect(response.url);
    case 'page':
      return errorPage(ctx, response.page);
    case 'qr':
      return qrPage(ctx, response.qr);
    case 'wecom-panel':
      return wecomPanelPage(ctx, response.panel);
  }
}

/**
 * At WeChat's callback, a redirect to a URL without a fragment goes out as a page that
 * navigates on: the person came from a URL ending in `#wechat_redirect`, and a redirect
 * without a fragment of its own carries that one on (RFC 9110 10.2.2), all the way to the
 * relying party's redirect_uri. (A redirect back to WeChat has its own fragment.)
 */
export function sendAtCallback(ctx: Context, response: Answer): void {
  if (response.type === 'redirect' && !response.url.includes('#')) return continuePage(ctx, response.url);
  send(ctx, response);
}

export function isAnswer(value: unknown): value is Answer {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'redirect' || type === 'page' || type === 'qr' || type === 'wecom-panel';
}
