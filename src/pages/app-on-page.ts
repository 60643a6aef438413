// The relying party as every page that names it shows it: its logo, name and domain, the
// one image source a page may load from, and "back to the app".

import type { Context } from 'koa';
import { html, postForm, raw, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';

/** The relying party a page is about, as its metadata presents it (oidc/client-display.ts). */
export interface AppOnPage {
  readonly name: string;
  readonly logo?: string | undefined;
  readonly home?: string | undefined;
  readonly domain?: string | undefined;
  readonly policy?: string | undefined;
  readonly terms?: string | undefined;
}

/** Which app this is about: its logo, name and domain. */
export function appIntro(app: AppOnPage | undefined): Html {
  if (!app) return raw('');
  return html`<div class="app">${app.logo ? html`<img src="${app.logo}" alt="" width="48" height="48">` : ''}
<p><strong>${app.name}</strong>${app.domain ? html`<br><span class="muted">${app.domain}</span>` : ''}</p></div>`;
}

/** The app's own logo, where it lives: the only other place a page may load an image from. */
export function appImages(app: AppOnPage | undefined): string[] {
  return app?.logo ? [new URL(app.logo).origin] : [];
}

/** "Back to <app>": ends the login, and the app gets access_denied with its state. */
export function cancelForm(ctx: Context, action: string | undefined, app: AppOnPage | undefined, lang: Lang): Html {
  if (!action) return raw('');
  return postForm(ctx, action, html`<button class="button" type="submit">${app ? t(lang, 'backTo', { app: app.name }) : t(lang, 'cancel')}</button>`);
}
