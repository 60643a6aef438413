// HTML output: escaping, the shared layout and the Content-Security-Policy every page gets.
// No external fonts or CDNs; the only outside script a page may load is wxLogin.js, named
// by its full URL, and the only frame WeChat's QR page.

import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { brandName, brandOf, LOGO_PATH, type Brand } from './brand.ts';
import { firstSpoken, LANGS, negotiateLang, t, type Lang } from './i18n.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** A string already made safe for HTML. */
export interface Html {
  readonly html: string;
}

export const raw = (html: string): Html => ({ html });

/** Template tag: interpolated values are escaped unless they are Html. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    const piece = Array.isArray(value) ? value.map(part).join('') : part(value);
    out += piece + (strings[index + 1] ?? '');
  });
  return raw(out);
}

function part(value: unknown): string {
  if (value && typeof value === 'object' && 'html' in value) return (value as Html).html;
  if (value === false || value === undefined || value === null) return '';
  return esc(value);
}

/** The form field that carries a page's token (ops/page-forms.ts checks it). */
export const PAGE_TOKEN_FIELD = 'page_token';

/**
 * A form a person submits, with the hidden token of this page view for `action` (which the
 * page-forms middleware puts within reach as ctx.state.pageToken, and checks on the POST).
 */
export function postForm(ctx: Context, action: string, inner: Html = raw(''), id?: string): Html {
  const issue = (ctx.state as { pageToken?: (action: string) => string }).pageToken;
  const token = issue ? html`<input type="hidden" name="${PAGE_TOKEN_FIELD}" value="${issue(action)}">` : '';
  return html`<form${id ? html` id="${id}"` : ''} method="post" action="${action}">${token}${inner}</form>`;
}

/** The cookie the language switcher sets: the person's choice beats the app's and the browser's. */
export const LANG_COOKIE = 'lang';

/**
 * The languages the relying party asked this request's pages to be in: OIDC Core 3.1.2.1's
 * `ui_locales` of the login (or RP-Initiated Logout 1.0's), space-separated BCP 47 tags, the
 * most wanted first. Tags the pages are not written in are passed over, as the spec asks.
 */
export function askedLanguages(ctx: Context, uiLocales: unknown): void {
  if (typeof uiLocales === 'string') (ctx.state as { uiLocales?: string }).uiLocales = uiLocales;
}

/** The page's language: the person's choice, else the relying party's `ui_locales`, else Accept-Language (as Keycloak orders them). */
export function langOf(ctx: Context): Lang {
  const chosen = ctx.cookies.get(LANG_COOKIE);
  if ((LANGS as readonly string[]).includes(chosen ?? '')) return chosen as Lang;
  const asked = (ctx.state as { uiLocales?: string }).uiLocales;
  return (asked === undefined ? undefined : firstSpoken(asked.split(' '))) ?? negotiateLang(ctx.get('accept-language'));
}

const LANGUAGE_NAMES: Record<Lang, string> = { 'zh-CN': '简体中文', 'zh-TW': '繁體中文', en: 'English' };

/**
 * Where the switcher brings the person back: this page, except WeChat's callback, whose
 * code and state must not travel again (back to the start of that login instead).
 */
function backHere(ctx: Context): string {
  const callback = /^(\/interaction\/[^/]+)\/wechat$/.exec(ctx.path);
  return callback ? callback[1]! : ctx.url;
}

function languageSwitcher(ctx: Context, lang: Lang): Html {
  const back = encodeURIComponent(backHere(ctx));
  return html`<p><span class="muted">${t(lang, 'languageNames')}:</span>${LANGS.filter((other) => other !== lang)
    .map((other) => html`<a href="/lang/${other}?back=${back}" lang="${other}">${LANGUAGE_NAMES[other]}</a>`)}</p>`;
}

export interface PageOptions {
  readonly title: string;
  readonly body: (nonce: string) => Html;
  readonly status?: number;
  /** Extra sources for script-src and frame-src, as exact URLs (wxLogin.js and its QR iframe). */
  readonly scriptSources?: readonly string[];
  readonly frameSources?: readonly string[];
  /** Origins images may come from besides the broker (a relying party's logo). */
  readonly imageSources?: readonly string[];
  /** Navigate there at once (a new navigation, which carries no fragment over). */
  readonly refreshTo?: string;
  /** A page of tables for a desk (the operator console): wider than a phone's. */
  readonly wide?: boolean;
}

// A picture that does not load (WeChat's avatar URL stops working once the person changes
// their avatar; an app's logo_uri can go too) shows a plain grey shape, not the browser's
// broken-image icon: an <img>'s ::after is drawn only when its image failed (Chromium, which
// WeChat's browser is, and Firefox).
// Dark mode follows the phone's setting, as WeChat's guide for web pages asks (DarkMode 适配指南:
// its browser supports `prefers-color-scheme` since 7.0.12 on iOS, 7.0.13 on Android), in
// WeUI's dark greys. Every colour is a variable, set once for each scheme, each pair at least
// 4.5:1 (WCAG 1.4.3; the accessibility test runs axe in both). What is scanned or drawn by
// others stays on white in the dark: a QR code (scanners want dark modules on a light quiet
// zone) and WeChat's and WeCom's login frames (their text is black, style 'black'), and
// a logo made for a light page gets a white tile.
const STYLE = `
:root{color-scheme:light dark;--page:#f2f2f2;--surface:#fff;--text:#191919;--muted:#595959;--line:#e5e5e5;--soft:#f7f7f7;--link:#0b57a4;--neutral:#f2f2f2;--blank:#d9d9d9;--shadow:rgba(0,0,0,.08)}
@media (prefers-color-scheme:dark){:root{--page:#111;--surface:#191919;--text:#e5e5e5;--muted:#a3a3a3;--line:#333;--soft:#232323;--link:#7eb6ff;--neutral:#2c2c2c;--blank:#3a3a3a;--shadow:transparent}
#qr,#ww_login,.follow-qr{color-scheme:light;background:#fff;border-radius:8px;padding:12px}header img,.app img{background:#fff;padding:2px}}
*{box-sizing:border-box}[hidden]{display:none!important}body{margin:0;font:16px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",Roboto,sans-serif;background:var(--page);color:var(--text)}
main{max-width:420px;margin:0 auto;padding:32px 20px}main.wide{max-width:960px}section{background:var(--surface);border-radius:12px;padding:28px 24px;box-shadow:0 1px 3px var(--shadow)}
h1{font-size:1.3em;margin:0 0 12px;text-align:center}h2{font-size:1.05em;margin:16px 0 8px}table{border-collapse:collapse;width:100%;font-size:.9em}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}th,td button{overflow-wrap:normal;white-space:nowrap}.avatar{border-radius:50%;display:block;margin:0 auto 8px}p{margin:8px 0}.muted{color:var(--muted);font-size:.9em;text-align:center}
header{display:flex;align-items:center;justify-content:center;gap:10px;margin:0 0 16px;font-weight:600}header img{height:32px;width:auto;border-radius:4px}
footer{margin:20px 0 0;text-align:center;font-size:.8em;color:var(--muted)}footer a{color:var(--muted);margin:0 6px}footer p{margin:4px 0}
a{color:var(--link)}:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.button{display:block;width:100%;margin:12px 0 0;padding:11px;border:0;border-radius:8px;font-size:1em;text-align:center;text-decoration:none;cursor:pointer;background:var(--neutral);color:var(--text)}
.primary{background:var(--brand);color:var(--brand-text)}.danger{background:#b3261e;color:#fff}.match{text-align:center;font-size:1.1em}.match strong{font-size:1.6em;letter-spacing:.3em;display:block}.person{display:flex;align-items:center;gap:10px;background:var(--soft);border-radius:8px;padding:8px 12px;margin:0 0 12px}.person img{border-radius:50%}.person img,.app img,.avatar{position:relative;flex:none}.person img::after,.app img::after,.avatar::after{content:"";position:absolute;inset:0;background:var(--blank);border-radius:inherit}.person p{margin:0}.app{display:flex;align-items:center;justify-content:center;gap:12px;margin:0 0 12px}.app img{border-radius:8px}.app p{margin:0}ul{padding-left:1.2em}#qr{display:flex;justify-content:center;min-height:300px}.follow-qr{display:flex;justify-content:center;margin:0 0 12px}.follow-qr svg{width:220px;height:220px}
.link{word-break:break-all;background:var(--soft);border-radius:6px;padding:8px;font-family:ui-monospace,monospace;font-size:.85em}
pre{white-space:pre-wrap;word-break:break-all;background:var(--soft);padding:12px;border-radius:6px;font-size:.8em}
`;

function brandHeader(brand: Brand, lang: Lang): Html {
  const name = brandName(brand, lang);
  if (!name && !brand.logo) return raw('');
  return html`<header>${brand.logo ? html`<img src="${LOGO_PATH}" alt="${name ? '' : 'logo'}">` : ''}${name ? html`<span>${name}</span>` : ''}</header>`;
}

/** The language switcher, policy links and the licence numbers Chinese law asks every page to show. */
function brandFooter(ctx: Context, brand: Brand, lang: Lang): Html {
  const links = [
    brand.privacyUrl && html`<a href="${brand.privacyUrl}">${t(lang, 'footerPrivacy')}</a>`,
    brand.termsUrl && html`<a href="${brand.termsUrl}">${t(lang, 'footerTerms')}</a>`,
  ].filter((link): link is Html => Boolean(link));
  const licences = [
    brand.icp && html`<a href="https://beian.miit.gov.cn/">${brand.icp}</a>`,
    brand.psb && html`<a href="https://beian.mps.gov.cn/#/query/webSearch?code=${brand.psb.code}">${brand.psb.text}</a>`,
  ].filter((link): link is Html => Boolean(link));
  return html`<footer>${languageSwitcher(ctx, lang)}${links.length ? html`<p>${links}</p>` : ''}${licences.length ? html`<p>${licences}</p>` : ''}</footer>`;
}

/** Renders a full page with a fresh nonce and a strict CSP, in the company's brand. */
export function renderPage(ctx: Context, options: PageOptions): void {
  const nonce = randomBytes(16).toString('base64');
  const lang = langOf(ctx);
  const brand = brandOf(ctx);
  const scripts = options.scriptSources?.join(' ') ?? '';
  const frames = options.frameSources?.length ? options.frameSources.join(' ') : "'none'";
  // form-action is left open: the consent and logout forms end in redirects to relying
  // parties, which Chromium checks against form-action too.
  ctx.set('content-security-policy', [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${scripts}`.trim(),
    `style-src 'nonce-${nonce}'`,
    `img-src 'self' data: ${options.imageSources?.join(' ') ?? ''}`.trim(),
    `frame-src ${frames}`,
    // The hand-off page asks the broker whether WeChat has confirmed.
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '));
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'no-referrer');
  ctx.set('cache-control', 'no-store');
  ctx.status = options.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  const company = brandName(brand, lang);
  ctx.body = html`<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
<title>${company ? `${options.title} - ${company}` : options.title}</title>${options.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${options.refreshTo}">` : ''}<style nonce="${nonce}">${raw(STYLE)}:root{--brand:${brand.color.background};--brand-text:${brand.color.text}}</style></head>
<body><main${options.wide ? raw(' class="wide"') : ''}>${brandHeader(brand, lang)}${options.body(nonce)}${brandFooter(ctx, brand, lang)}</main></body></html>`.html;
}
