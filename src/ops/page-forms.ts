// Every state-changing request a person makes is tied to the page the broker showed them,
// by this one mechanism for every such route. A page that has a form asks for a token
// (pages/html.ts `postForm`) bound to this browser, to the form's action and to the
// moment it was shown (http/page-token.ts); the POST must bring it back, and must come from
// the broker's own pages where the browser says where it comes from (Sec-Fetch-Site;
// Origin unless `null`, which a no-referrer page sends for its own forms). Anything else
// is refused with a plain page before the route runs, so it changes nothing.

import type { Context, Middleware } from 'koa';
import { hostOnlyName } from '../http/cookie-names.ts';
import { PageTokens } from '../http/page-token.ts';
import { readForm } from '../http/read-body.ts';
import type { Logger } from '../log.ts';
import { PAGE_TOKEN_FIELD } from '../pages/html.ts';
import { errorPage } from '../pages/error-pages.ts';
import { loggedPath } from './request-log.ts';

/** The browser's id cookie (host-only under https: http/cookie-names.ts). */
const BROWSER_COOKIE = 'browser';
const BROWSER_ID = /^[A-Za-z0-9_-]{22}$/;

/** The POSTs a person's pages make (matched as the router matches: any case, a trailing slash), and whether each carries a page token. */
const GUARDED: ReadonlyArray<{ readonly path: RegExp; readonly token: boolean }> = [
  { path: /^\/[hf]\/[^/]+\/(confirm|decline)\/?$/i, token: true },
  { path: /^\/interaction\/[^/]+\/(consent|cancel|handoff\/finish|follow\/finish)\/?$/i, token: true },
  { path: /^\/account\/(revoke|logout|logout-device|not-me|delete)\/?$/i, token: true },
  { path: /^\/console\/accounts\/[^/]+\/(logout|logout-session|revoke|unlink|suspend|reinstate|delete)\/?$/i, token: true },
  // oidc-provider's logout confirmation and its device code forms carry its own xsrf token, bound to the session.
  { path: /^\/session\/end\/confirm\/?$/i, token: false },
  { path: /^\/device\/?$/i, token: false },
];

/** This browser's id, from its signed cookie; made (and the cookie set, once for all the page's forms) when it has none. */
function browserOf(ctx: Context, cookie: string): string {
  const state = ctx.state as { browserId?: string };
  if (state.browserId) return state.browserId;
  const known = ctx.cookies.get(cookie, { signed: true });
  state.browserId = known && BROWSER_ID.test(known) ? known : PageTokens.browserId();
  if (state.browserId !== known) ctx.cookies.set(cookie, state.browserId, { signed: true, httpOnly: true, sameSite: 'lax' });
  return state.browserId;
}

/** Why the request is not from the broker's own page, by what the browser says of where it comes from. */
function foreignOrigin(ctx: Context, origin: string): string | undefined {
  const site = ctx.get('sec-fetch-site');
  if (site && site !== 'same-origin') return `Sec-Fetch-Site: ${site.slice(0, 20)}`;
  const from = ctx.get('origin');
  if (from && from !== 'null' && from !== origin) return 'Origin is another site';
  return undefined;
}

async function tokenProblem(ctx: Context, tokens: PageTokens, cookie: string): Promise<string | undefined> {
  const given = (await readForm(ctx)).get(PAGE_TOKEN_FIELD);
  if (!given) return 'no page token';
  const browser = ctx.cookies.get(cookie, { signed: true });
  if (!browser || !tokens.valid(given, browser, ctx.path)) return 'page token not issued to this browser for this form, or expired';
  return undefined;
}

/** `keys`: the cookie keys (the first signs). `issuer`: the broker's public origin. */
export function pageForms(keys: readonly string[], issuer: string, log: Logger): Middleware {
  const tokens = new PageTokens(keys);
  const { origin, protocol } = new URL(issuer);
  const cookie = hostOnlyName(BROWSER_COOKIE, protocol === 'https:');
  return async (ctx, next) => {
    ctx.state.pageToken = (action: string) => tokens.issue(browserOf(ctx, cookie), action);
    const rule = ctx.method === 'POST' ? GUARDED.find((candidate) => candidate.path.test(ctx.path)) : undefined;
    const refused = rule && (foreignOrigin(ctx, origin) ?? (rule.token ? await tokenProblem(ctx, tokens, cookie) : undefined));
    if (!refused) return next();
    log.warn({ path: loggedPath(ctx.path), ip: ctx.ip, reason: refused }, 'form refused: not from the page the broker showed');
    errorPage(ctx, { kind: 'forged', status: 403 });
  };
}
