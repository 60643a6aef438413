// RP-initiated logout's question and its answer.

import type { Context } from 'koa';
import { html, langOf, raw, renderPage } from './html.ts';
import { t } from './i18n.ts';
import { appImages, appIntro, closeInWeChat, type AppOnPage } from './app-on-page.ts';

export interface LogoutData {
  readonly app: AppOnPage | undefined;
  /** oidc-provider's hidden form (`op.logoutForm`, with its xsrf token). */
  readonly form: string;
}

/**
 * Two plain choices and a way out: every app (the primary choice: it is what a shared
 * computer needs), this app alone (only when the logout came from an app; its next login
 * asks again, oidc/app-logout.ts), or cancel, back to the app (or to the person's account
 * page when the app has no address).
 */
export function logoutPage(ctx: Context, data: LogoutData): void {
  const lang = langOf(ctx);
  const { app } = data;
  renderPage(ctx, {
    title: t(lang, 'logoutTitle'),
    imageSources: appImages(app),
    body: () => html`<section><h1>${t(lang, 'logoutTitle')}</h1>${appIntro(app)}
<p>${app ? t(lang, 'logoutChoice', { app: app.name }) : t(lang, 'logoutQuestion')}</p>${raw(data.form)}
<button class="button primary" type="submit" form="op.logoutForm" name="logout" value="yes">${t(lang, 'logoutAll')}</button>
${app ? html`<button class="button" type="submit" form="op.logoutForm">${t(lang, 'logoutApp', { app: app.name })}</button>` : ''}
<a class="button" href="${app?.home ?? '/account'}">${t(lang, 'logoutCancel')}</a></section>`,
  });
}

/** Logged out; with the app the logout came from, a way back to it. */
export function loggedOutPage(ctx: Context, app?: AppOnPage): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'loggedOutTitle'),
    body: (nonce) => html`<section><h1>${t(lang, 'loggedOutTitle')}</h1><p>${t(lang, 'loggedOutBody')}</p>
${app?.home ? html`<a class="button primary" href="${app.home}">${t(lang, 'backTo', { app: app.name })}</a>` : ''}
${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}
