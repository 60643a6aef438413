// Confirming a login inside WeChat, for a browser elsewhere (the phone hand-off, a
// follow-to-login scan): which app and which browser ask, the matching code, confirm or
// decline; and how it ended, or why it cannot go on.

import type { Context } from 'koa';
import { html, langOf, postForm, renderPage } from './html.ts';
import { browserOnPage, t } from './i18n.ts';
import { agreement, appImages, appIntro, closeInWeChat, type AppOnPage } from './app-on-page.ts';
import { brandOf } from './brand.ts';

export interface HandoffConfirmData {
  readonly app?: AppOnPage;
  /** The browser that waits, as the person would recognize it. */
  readonly browser: string;
  readonly match: string;
  readonly confirmAction: string;
  readonly declineAction: string;
}

/** Inside WeChat: which app and which browser ask, the matching code, confirm or decline. */
export function handoffConfirmPage(ctx: Context, data: HandoffConfirmData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'handoffTitle'),
    imageSources: appImages(data.app),
    body: () => html`<section><h1>${t(lang, 'handoffTitle')}</h1>${appIntro(data.app)}
<p>${t(lang, 'handoffAsk', { browser: browserOnPage(lang, data.browser) })}</p>
<p class="match">${t(lang, 'handoffMatch')} <strong id="match">${data.match}</strong></p>
<p class="muted">${t(lang, 'handoffWarn')}</p>${agreement(lang, data.app, brandOf(ctx))}
${postForm(ctx, data.confirmAction, html`<button class="button primary" type="submit">${t(lang, 'handoffConfirm')}</button>`)}
${postForm(ctx, data.declineAction, html`<button class="button" type="submit">${t(lang, 'handoffDecline')}</button>`)}</section>`,
  });
}

export type HandoffNotice = 'done' | 'declined' | 'expired' | 'used' | 'not_wechat' | 'other_account';

/** The end of a hand-off inside WeChat, or why it cannot go on. */
export function handoffNoticePage(ctx: Context, notice: HandoffNotice, status = 200): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'handoffTitle'),
    status,
    body: (nonce) => html`<section><h1>${t(lang, `handoff_${notice}_title`)}</h1><p>${t(lang, `handoff_${notice}`)}</p>${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}
