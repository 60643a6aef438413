// What the broker answers a browser during a login, as data: a redirect, an error page or
// the QR page. Kept with the attempt it answered, so that a repeat delivery of the same
// WeChat callback gets exactly the same answer.

import type { Context } from 'koa';
import { errorPage, qrPage, type ErrorData, type QrPageData } from '../pages/views.ts';

export type Response =
  | { readonly type: 'redirect'; readonly url: string }
  | { readonly type: 'page'; readonly page: ErrorData }
  | { readonly type: 'qr'; readonly qr: QrPageData };

/** 303 after the callback's GET too: the browser must never resend anything (RFC 9110 15.4.4). */
export function send(ctx: Context, response: Response): void {
  switch (response.type) {
    case 'redirect':
      ctx.status = 303;
      return ctx.redirect(response.url);
    case 'page':
      return errorPage(ctx, response.page);
    case 'qr':
      return qrPage(ctx, response.qr);
  }
}

export function isResponse(value: unknown): value is Response {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'redirect' || type === 'page' || type === 'qr';
}
