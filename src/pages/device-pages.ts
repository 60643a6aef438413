// The pages of a device's login (OAuth 2.0 Device Authorization Grant, RFC 8628): the
// code a TV, a kiosk or a command line shows is entered (or arrives in the QR code's
// link); the person logs in with WeChat; then confirms, on a page naming the app, the
// device and the code, that they are in front of that device and started this; then the
// device is told. The code forms post to oidc-provider's /device with its xsrf token
// (bound to this browser's session), checked for origin by ops/page-forms.ts; the
// confirmation is the consent page's form (login-pages.ts), with its page token.

import type { Context } from 'koa';
import { html, langOf, raw, renderPage, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { appImages, appIntro, closeInWeChat, type AppOnPage } from './app-on-page.ts';

/** Why the code page is shown again. */
export type DeviceCodeProblem = 'wrong' | 'stale' | 'expired' | 'used' | 'aborted' | 'too_many';

export interface DeviceForm {
  /** oidc-provider's /device. */
  readonly action: string;
  /** Its xsrf token for this browser's session. */
  readonly xsrf: string;
}

/** The device as the person should recognize it. */
export interface DeviceOnPage {
  /** What the device calls itself (`device_name` of its request), if it said. */
  readonly name?: string | undefined;
  /** The address its request came from. */
  readonly ip?: string | undefined;
  /** The code it shows, grouped as it shows it (WDJB-MJHT). */
  readonly userCode: string;
}

const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;

/** Enter the code the device shows (8 letters, grouped as it shows them); without `form`, only a way back to it (too many tries, a form this browser cannot send). */
export function deviceCodePage(ctx: Context, form: DeviceForm | undefined, problem?: DeviceCodeProblem): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'deviceTitle'),
    status: problem === 'too_many' ? 429 : 200,
    body: () => html`<section><h1>${t(lang, 'deviceTitle')}</h1>
${problem ? html`<p role="alert">${t(lang, `device_${problem}`)}</p>` : ''}
${form ? html`<p>${t(lang, 'deviceEnter')}</p>
<form method="post" action="${form.action}">${hidden('xsrf', form.xsrf)}
<label for="user_code">${t(lang, 'deviceCodeLabel')}</label>
<input id="user_code" name="user_code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="20" required>
<button class="button primary" type="submit">${t(lang, 'deviceContinue')}</button></form>` : html`<a class="button" href="/device">${t(lang, 'deviceEnterAgain')}</a>`}</section>`,
  });
}

export interface DeviceContinueData {
  readonly form: DeviceForm;
  readonly app: AppOnPage;
  /** The code, grouped as the device shows it (WDJB-MJHT). */
  readonly userCode: string;
}

/**
 * The code is known: on to the login, at once (the form submits itself; its button is for a
 * browser that runs no script). The person confirms the device after logging in.
 */
export function deviceContinuePage(ctx: Context, data: DeviceContinueData): void {
  const lang = langOf(ctx);
  const { form } = data;
  renderPage(ctx, {
    title: t(lang, 'deviceTitle'),
    imageSources: appImages(data.app),
    body: (nonce) => html`<section><h1>${t(lang, 'deviceTitle')}</h1>${appIntro(data.app)}
<p>${t(lang, 'deviceNext')}</p>
<form id="device-go" method="post" action="${form.action}">${hidden('xsrf', form.xsrf)}${hidden('user_code', data.userCode)}${hidden('confirm', 'yes')}
<button class="button primary" type="submit">${t(lang, 'deviceContinue')}</button></form>
<script nonce="${nonce}">${raw("document.getElementById('device-go').submit();")}</script></section>`,
  });
}

/**
 * Is this your device, showing this code? The part of the page after the login (the
 * consent page in its device form, login-pages.ts) that names the app, the device and the
 * code, with the warning: the defence against a code or QR code sent by somebody else.
 */
export function deviceQuestion(lang: Lang, app: AppOnPage, device: DeviceOnPage): Html {
  return html`<p>${t(lang, 'deviceAsk', { app: app.name, device: device.name ?? t(lang, 'deviceUnnamed') })}</p>
<p class="match">${t(lang, 'deviceCodeIs')} <strong id="user-code">${device.userCode}</strong></p>
${device.ip ? html`<p class="muted">${t(lang, 'deviceFrom', { ip: device.ip })}</p>` : raw('')}
<p class="muted">${t(lang, 'deviceWarn')}</p>`;
}

/** The device is logged in (it learns so at its next poll). */
export function deviceDonePage(ctx: Context, app: AppOnPage | undefined): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'deviceDoneTitle'),
    body: (nonce) => html`<section><h1>${t(lang, 'deviceDoneTitle')}</h1>
<p>${t(lang, 'deviceDone', { app: app?.name ?? t(lang, 'deviceUnnamed') })}</p>${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}
