// RP-initiated logout's question and its answer.

import type { Context } from 'koa';
import { html, langOf, raw, renderPage } from './html.ts';
import { t } from './i18n.ts';
import { appImages, appIntro, type AppOnPage } from './app-on-page.ts';

export interface LogoutData {
  readonly app: AppOnPage | undefined;
  /** oidc-provider's hidden form (`op.logoutForm`, with its xsrf token). */
  readonly form: string;
}

export function logoutPage(ctx: Context, data: LogoutData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'logoutTitle'),
    imageSources: appImages(data.app),
    body: () => html`<section><h1>${t(lang, 'logoutTitle')}</h1>${appIntro(data.app)}
<p>${t(lang, 'logoutQuestion')}</p>${raw(data.form)}
<button class="button primary" type="submit" form="op.logoutForm" name="logout" value="yes">${t(lang, 'logoutYes')}</button>
<button class="button" type="submit" form="op.logoutForm">${t(lang, 'logoutNo')}</button></section>`,
  });
}

/** Logged out; with the app the logout came from, a way back to it. */
export function loggedOutPage(ctx: Context, app?: AppOnPage): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'loggedOutTitle'),
    body: () => html`<section><h1>${t(lang, 'loggedOutTitle')}</h1><p>${t(lang, 'loggedOutBody')}</p>
${app?.home ? html`<a class="button primary" href="${app.home}">${t(lang, 'backTo', { app: app.name })}</a>` : ''}</section>`,
  });
}
