// The page for anything that stops a person: one sentence in their language, a way to try
// again or back to the app where there is one, the request id for support; and the page
// that sends the browser on by a navigation instead of a redirect.

import type { Context } from 'koa';
import { html, langOf, renderPage } from './html.ts';
import { isMessageKey, t, type Lang } from './i18n.ts';
import { closeInWeChat, type AppOnPage } from './app-on-page.ts';
import { when } from './account-views.ts';

export type ErrorPageKind =
  | 'state' | 'forged' | 'snapshot' | 'misconfigured' | 'code' | 'unavailable'
  | 'interaction' | 'request' | 'not_found' | 'method_not_allowed' | 'internal' | 'conflict' | 'storage' | 'rate_limited' | 'starting' | 'busy' | 'not_member' | 'suspended';

export interface ErrorData {
  readonly kind: ErrorPageKind;
  readonly status: number;
  /** For kind `request`: the OAuth error code, which picks the plain sentence. */
  readonly oauthError?: string;
  /** The technical description (an OAuth error_description), shown small with the request id. */
  readonly detail?: string;
  /** Where "try again" goes, when there is somewhere to go. */
  readonly retryHref?: string;
  /** The app the person came from, for a way back to it. */
  readonly app?: AppOnPage;
  /** For kind `suspended`: when the suspension ends (ms since the epoch), when it has an end. */
  readonly until?: number;
}

/** The plain sentence for an error: by OAuth error code for kind `request`, by kind otherwise. */
export function errorSentence(lang: Lang, data: Pick<ErrorData, 'kind' | 'oauthError' | 'until'>): string {
  if (data.kind === 'suspended' && data.until !== undefined) return t(lang, 'error_suspended_until', { until: when(lang, data.until) });
  if (data.kind !== 'request') return t(lang, `error_${data.kind}`);
  const key = `oauth_${data.oauthError ?? ''}`;
  return isMessageKey(key) ? t(lang, key) : t(lang, 'error_request');
}

export function errorPage(ctx: Context, data: ErrorData): void {
  const lang = langOf(ctx);
  const title = t(lang, data.kind === 'not_found' ? 'notFoundTitle' : 'errorTitle');
  const requestId = ctx.response.get('x-request-id');
  const technical = [data.oauthError, data.detail].filter(Boolean).join(': ');
  renderPage(ctx, {
    title,
    status: data.status,
    body: (nonce) => html`<section><h1>${title}</h1><p>${errorSentence(lang, data)}</p>
${data.retryHref ? html`<a class="button primary" href="${data.retryHref}">${t(lang, 'errorBack')}</a>` : ''}
${!data.retryHref && data.app?.restart ? html`<a class="button primary" href="${data.app.restart}">${t(lang, 'loginAgainAt', { app: data.app.name })}</a>` : ''}
${data.app?.home ? html`<a class="button" href="${data.app.home}">${t(lang, 'backTo', { app: data.app.name })}</a>` : ''}
${closeInWeChat(ctx, lang, nonce)}
${technical || requestId ? html`<p class="muted detail">${technical}${technical && requestId ? ' · ' : ''}${requestId ? t(lang, 'requestId', { id: requestId }) : ''}</p>` : ''}</section>`,
  });
}

/**
 * Sends the browser on to `url` by a new navigation rather than a redirect: a redirect
 * without a fragment keeps the one the browser arrived with (RFC 9110 10.2.2), and WeChat
 * sends people back from URLs ending in `#wechat_redirect`.
 */
export function continuePage(ctx: Context, url: string): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'continueTitle'),
    refreshTo: url,
    body: () => html`<section><h1>${t(lang, 'continueTitle')}</h1><p>${t(lang, 'continueBody')}</p>
<a class="button primary" href="${url}">${t(lang, 'continueLink')}</a></section>`,
  });
}
