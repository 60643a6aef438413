// The simulator's own HTML: escaping, its page frame, WeChat's error page and the delivery of a
// callback. It shares nothing with the broker's pages, as the real WeChat would not.

import type { Context } from 'koa';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** A value placed inside an inline <script>, as a JavaScript string literal. */
export function jsString(value: string): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const STYLE = `body{font-family:sans-serif;background:#ededed;margin:0;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;max-width:360px;margin:0 auto}button{display:block;width:100%;padding:10px;margin:8px 0;border:0;border-radius:6px;font-size:15px}
.ok{background:#07c160;color:#fff}.qr{width:160px;height:160px;margin:8px auto;background:repeating-conic-gradient(#000 0 25%,#fff 0 50%) 0 0/20px 20px}
small{color:#888}body.compact{padding:4px}.compact .card{padding:8px}.compact h3{margin:2px 0;font-size:15px}
.compact .qr{width:64px;height:64px;margin:4px auto;background-size:8px 8px}.compact button{padding:5px;margin:4px 0;font-size:13px}
.compact label,.compact p{font-size:12px;margin:2px 0}`;

/** A simulator page; `compact` when drawn inside wxLogin.js's 300×400 iframe, which does not scroll. */
export function page(ctx: Context, title: string, body: string, compact = false): void {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head><body class="${compact ? 'compact' : ''}"><div class="card">${body}</div></body></html>`;
}

/** WeChat's own error page for a bad authorize request (never a redirect back). */
export function wechatErrorPage(ctx: Context, code: number | string, text: string): void {
  ctx.status = 200;
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>微信</title></head>
<body><h2 class="wx-error">${esc(text)}</h2><p>错误码：<span class="errcode">${esc(code)}</span></p></body></html>`;
}

/**
 * Redirects to the callback, or (twice) delivers it twice at once as WeChat (and WeCom)
 * sometimes do: the browser drops the first delivery's answer (as when a navigation is replaced
 * by another), so the first request is sent without following its redirect. The URL was
 * checked against the registered callback domains.
 */
export function deliver(ctx: Context, url: string, twice: boolean): void {
  if (!twice) return ctx.redirect(url);
  page(ctx, '跳转中', `<p>跳转中…</p><script>var u=${jsString(url)};
fetch(u,{credentials:'include',redirect:'manual'}).catch(function(){});location.replace(u);</script>`);
}
