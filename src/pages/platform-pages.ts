// A third-party platform's authorization pages, for an Official Account's administrator.

import type { Context } from 'koa';
import { html, langOf, renderPage } from './html.ts';
import { t } from './i18n.ts';
import { closeInWeChat } from './app-on-page.ts';

/**
 * For an Official Account's administrator: the way to WeChat's page that authorizes the
 * company's third-party platform. A link the person follows (not a redirect), because
 * WeChat accepts it only from a page on the platform's registered domain: the link sends
 * its origin as the Referer, which every other page of the broker withholds.
 */
export function platformAuthorizePage(ctx: Context, href: string): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'platformAuthorizeTitle'),
    body: () => html`<section><h1>${t(lang, 'platformAuthorizeTitle')}</h1><p>${t(lang, 'platformAuthorizeBody')}</p>
<a class="button primary" href="${href}" referrerpolicy="origin">${t(lang, 'platformAuthorizeLink')}</a></section>`,
  });
}

/** Back from WeChat's authorization page. */
export function platformAuthorizedPage(ctx: Context): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'platformAuthorizedTitle'),
    body: (nonce) => html`<section><h1>${t(lang, 'platformAuthorizedTitle')}</h1><p>${t(lang, 'platformAuthorizedBody')}</p>
${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}
