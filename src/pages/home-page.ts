// `/`: what the broker is, for whoever opens its address.

import type { Context } from 'koa';
import { html, langOf, renderPage } from './html.ts';
import { t } from './i18n.ts';

export interface HomeData {
  readonly discovery: string;
  /** Dev mode's demo relying party. */
  readonly demo: string | undefined;
}

/** `/`: what this is, for whoever opens the broker's address. */
export function homePage(ctx: Context, data: HomeData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'homeTitle'),
    body: () => html`<section><h1>${t(lang, 'homeTitle')}</h1><p>${t(lang, 'homeBody')}</p>
${data.demo ? html`<a class="button primary" href="${data.demo}">${t(lang, 'homeDemo')}</a>` : ''}
<p class="muted"><a href="${data.discovery}">${t(lang, 'homeDiscovery')}</a></p></section>`,
  });
}
