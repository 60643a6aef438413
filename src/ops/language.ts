// GET /lang/:lang?back=… — the language switcher on every page: remembers the choice in a
// cookie (a year) and goes back to the page, which must be one of the broker's own.

import Router from '@koa/router';
import { LANG_COOKIE } from '../pages/html.ts';
import { LANGS } from '../pages/i18n.ts';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** A path on this site (not `//host`, not a URL elsewhere). */
const local = (back: unknown): back is string => typeof back === 'string' && /^\/(?![/\\])/.test(back) && back.length <= 2048;

export function languageRoutes(): Router {
  const router = new Router();
  router.get('/lang/:lang', (ctx) => {
    if (!(LANGS as readonly string[]).includes(ctx.params.lang ?? '')) {
      ctx.status = 404;
      return;
    }
    ctx.cookies.set(LANG_COOKIE, ctx.params.lang, { httpOnly: true, sameSite: 'lax', maxAge: YEAR_MS });
    ctx.redirect(local(ctx.query.back) ? ctx.query.back : '/');
  });
  return router;
}
