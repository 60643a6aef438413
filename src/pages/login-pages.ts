// The pages of a login on its way to WeChat: the QR page (wxLogin.js), the phone browser's
// "open in WeChat", follow-to-login's QR page, and consent (a device's confirmation with it). Values are escaped by the
// `html` tag; values handed to scripts travel in data- attributes, never inside script text.

import type { Context } from 'koa';
import { html, langOf, postForm, raw, renderPage, type Html } from './html.ts';
import { brandName, brandOf } from './brand.ts';
import { t, type Lang } from './i18n.ts';
import { agreement, appImages, appIntro, cancelForm, type AppOnPage } from './app-on-page.ts';
import { deviceQuestion, type DeviceOnPage } from './device-pages.ts';

export interface QrPageData {
  readonly appid: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly loginJsUrl: string;
  readonly connectUrl: string;
  /** The qrconnect page, for browsers where wxLogin.js does not draw. */
  readonly fallbackUrl: string;
  readonly app?: AppOnPage;
  /** Follow-to-login instead, where the client has it. */
  readonly followHref?: string;
  /** Where "back to the app" posts. */
  readonly cancelAction?: string;
}

/** How long wxLogin.js (or WeCom's SDK) gets to draw before the page says so and offers WeChat's (WeCom's) own page. */
const QR_GRACE_MS = 4000;

/**
 * The script of a page where an upstream's own script draws its login (an iframe) into the
 * element `data-grace` is on: `draw` runs with `el` that element; the frame gets the
 * element's title; if no frame is there within the grace time, `<prefix>-failed` is shown
 * and `<prefix>-fallback` (the upstream's own page) becomes the primary button.
 */
function drawOrFallback(prefix: 'qr' | 'ww', draw: string) {
  return raw(`(function(){var el=document.querySelector('[data-grace]');${draw}
var f=el.querySelector('iframe');if(f){f.setAttribute('title',el.getAttribute('title'));}
setTimeout(function(){if(!el.querySelector('iframe')){document.getElementById('${prefix}-failed').hidden=false;
var a=document.getElementById('${prefix}-fallback');a.className='button primary';a.focus();}},Number(el.getAttribute('data-grace')));})();`);
}

/**
 * Desktop QR login, drawn by WeChat's wxLogin.js inside this page. Options chosen: the
 * current compact style (`stylelite: 1`, which needs 220 px and ignores `href`), fast
 * login left on (desktop WeChat users confirm without scanning; the callback has no
 * fragment, so its reported hash bug does not apply), and the top window sent to the
 * callback (`self_redirect: false`).
 */
export function qrPage(ctx: Context, data: QrPageData): void {
  const lang = langOf(ctx);
  const wx = JSON.stringify({
    self_redirect: false,
    id: 'qr',
    appid: data.appid,
    scope: 'snsapi_login',
    redirect_uri: encodeURIComponent(data.redirectUri),
    state: data.state,
    style: 'black',
    stylelite: 1,
    lang: lang === 'en' ? 'en' : 'cn',
  });
  renderPage(ctx, {
    title: t(lang, 'qrTitle'),
    scriptSources: [data.loginJsUrl],
    frameSources: [new URL('/connect/qrconnect', data.connectUrl).href],
    imageSources: appImages(data.app),
    body: (nonce) => html`<section><h1>${t(lang, 'qrTitle')}</h1>${appIntro(data.app)}
<div id="qr" data-wx="${wx}" data-grace="${QR_GRACE_MS}" title="${t(lang, 'qrFrameTitle')}"></div>
<p id="qr-failed" role="alert" hidden>${t(lang, 'qrFailed')}</p>
<p class="muted">${t(lang, 'qrHint')}</p>${agreement(lang, data.app, brandOf(ctx))}
<p class="muted"><a id="qr-fallback" href="${data.fallbackUrl}">${t(lang, 'qrFallback')}</a></p>
${data.followHref ? html`<a class="button" href="${data.followHref}">${t(lang, 'qrFollowInstead')}</a>` : ''}${cancelForm(ctx, data.cancelAction, data.app, lang)}</section>
<script nonce="${nonce}" src="${data.loginJsUrl}"></script>
<script nonce="${nonce}">${drawOrFallback('qr', `if(typeof WxLogin==='function'){new WxLogin(JSON.parse(el.getAttribute('data-wx')));}`)}</script>`,
  });
}

export interface WeComPanelData {
  /** WeCom's JS SDK. */
  readonly loginJsUrl: string;
  /** Where its panel's frame comes from (login.work.weixin.qq.com). */
  readonly frameOrigin: string;
  /** `ww.createWWLoginPanel`'s params: login_type, appid (the corpid), agentid, redirect_uri, state, lang. */
  readonly params: Readonly<Record<string, string>>;
  /** WeCom's SSO page, for browsers where the panel does not draw. */
  readonly fallbackUrl: string;
  readonly app?: AppOnPage;
  readonly cancelAction?: string;
}

/**
 * A desktop's WeCom login inside the broker's page: WeCom's own panel (`redirect_type: top`:
 * the whole page goes to the callback, as with WeChat's QR), or, when its script does not
 * draw within the grace time, a line saying so and WeCom's SSO page one click away.
 */
export function wecomPanelPage(ctx: Context, data: WeComPanelData): void {
  const lang = langOf(ctx);
  const params = JSON.stringify({ ...data.params, redirect_type: 'top', panel_size: 'middle' });
  renderPage(ctx, {
    title: t(lang, 'wecomTitle'),
    scriptSources: [data.loginJsUrl],
    frameSources: [data.frameOrigin],
    imageSources: appImages(data.app),
    body: (nonce) => html`<section><h1>${t(lang, 'wecomTitle')}</h1>${appIntro(data.app)}
<div id="ww_login" data-ww="${params}" data-grace="${QR_GRACE_MS}" title="${t(lang, 'wecomFrameTitle')}"></div>
<p id="ww-failed" role="alert" hidden>${t(lang, 'wecomFailed')}</p>${agreement(lang, data.app, brandOf(ctx))}
<p class="muted"><a id="ww-fallback" href="${data.fallbackUrl}">${t(lang, 'wecomFallback')}</a></p>${cancelForm(ctx, data.cancelAction, data.app, lang)}</section>
<script nonce="${nonce}" src="${data.loginJsUrl}"></script>
<script nonce="${nonce}">${drawOrFallback('ww', `if(window.ww&&typeof ww.createWWLoginPanel==='function'){ww.createWWLoginPanel({el:'#ww_login',params:JSON.parse(el.getAttribute('data-ww'))});}`)}</script>`,
  });
}

/** The hand-off offered on a phone outside WeChat (login/handoff.ts). */
export interface HandoffOffer {
  /** The matching code both sides show. */
  readonly match: string;
  /** Polled by this page: the hand-off's status. */
  readonly statusUrl: string;
  /** Posted by this page once the hand-off is done. */
  readonly finishAction: string;
}

export interface OpenInWeChatData {
  /** The link to open inside WeChat: the hand-off's, else the app's own start of a login. */
  readonly link: string;
  readonly handoff?: HandoffOffer;
  /** Where QR login is configured: the QR page of this login, for a second device. */
  readonly qrHref?: string;
  /** The app's own initiate_login_uri, offered besides the hand-off. */
  readonly appStart?: string;
  readonly app?: AppOnPage;
  readonly cancelAction?: string;
}

/** A phone browser outside WeChat: neither flow can finish here. */
export function openInWeChatPage(ctx: Context, data: OpenInWeChatData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'openTitle'),
    imageSources: appImages(data.app),
    body: (nonce) => html`<section><h1>${t(lang, 'openTitle')}</h1>${appIntro(data.app)}<p>${t(lang, data.handoff ? 'handoffBody' : 'openBody')}</p>
<p id="link" class="link">${data.link}</p>
${data.handoff ? html`<p class="match">${t(lang, 'handoffMatch')} <strong id="match">${data.handoff.match}</strong></p>
<p id="handoff-status" class="muted" role="status" aria-live="polite" data-url="${data.handoff.statusUrl}" data-waiting="${t(lang, 'handoffWaiting')}" data-declined="${t(lang, 'handoffDeclinedThere')}" data-failed="${t(lang, 'handoffFailedThere')}" data-expired="${t(lang, 'error_interaction')}">${t(lang, 'handoffWaiting')}</p>
${postForm(ctx, data.handoff.finishAction, undefined, 'handoff-finish')}` : ''}
<button id="copy" class="button primary" type="button" data-copy="${data.link}" data-done="${t(lang, 'openCopied')}">${t(lang, 'openCopy')}</button>
${data.appStart ? html`<button id="copy-app" class="button" type="button" data-copy="${data.appStart}" data-done="${t(lang, 'openCopied')}">${t(lang, 'openAppStart', { app: data.app?.name ?? t(lang, 'followConfirmSomeApp') })}</button>` : ''}
<p id="copied" class="muted" role="status" aria-live="polite"></p>
${data.qrHref ? html`<a class="button" href="${data.qrHref}">${t(lang, 'openQr')}</a>` : ''}
${agreement(lang, data.app, brandOf(ctx))}${cancelForm(ctx, data.cancelAction, data.app, lang)}</section>
<script nonce="${nonce}">${raw(`(function(){document.querySelectorAll('button[data-copy]').forEach(function(b){b.addEventListener('click',function(){
var text=b.getAttribute('data-copy');function done(){b.textContent=b.getAttribute('data-done');document.getElementById('copied').textContent=b.getAttribute('data-done');}
if(navigator.clipboard){navigator.clipboard.writeText(text).then(done,function(){});}else{var a=document.createElement('textarea');a.value=text;document.body.appendChild(a);
a.select();document.execCommand('copy');a.remove();done();}});});
var st=document.getElementById('handoff-status');if(!st){return;}var tries=0;
function poll(){if(++tries>200){return;}fetch(st.getAttribute('data-url'),{credentials:'same-origin',cache:'no-store'}).then(function(r){return r.json();}).then(function(a){
if(a.status==='done'||a.status==='declined'){if(a.status==='declined'){st.textContent=st.getAttribute('data-declined');}document.getElementById('handoff-finish').submit();return;}
if(a.status==='expired'){st.textContent=st.getAttribute('data-expired');st.setAttribute('role','alert');return;}
var said=a.said||st.getAttribute(a.failure?'data-failed':'data-waiting');if(st.textContent!==said){st.textContent=said;}
setTimeout(poll,1500);},function(){setTimeout(poll,3000);});}setTimeout(poll,1500);})();`)}</script>`,
  });
}

export interface PickPageData {
  readonly wecomHref: string;
  readonly wechatHref: string;
  readonly app?: AppOnPage;
  readonly cancelAction?: string;
}

/** WeCom and WeChat can both log this person in: they pick, WeCom first (the client listed it for its staff). */
export function pickPage(ctx: Context, data: PickPageData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'pickTitle'),
    imageSources: appImages(data.app),
    body: () => html`<section><h1>${t(lang, 'pickTitle')}</h1>${appIntro(data.app)}
<a id="pick-wecom" class="button primary" href="${data.wecomHref}">${t(lang, 'pickWeCom')}</a>
<a id="pick-wechat" class="button" href="${data.wechatHref}">${t(lang, 'pickWeChat')}</a>
${agreement(lang, data.app, brandOf(ctx))}${cancelForm(ctx, data.cancelAction, data.app, lang)}</section>`,
  });
}

export interface FollowPageData {
  /** The Official Account's name (or id). */
  readonly account: string;
  /** The QR code of WeChat's `url` for the scene, as SVG. */
  readonly qrSvg: string;
  /** Polled for `waiting` | `scanned` | `confirmed` | `declined` | `expired`. */
  readonly statusUrl: string;
  /** The matching code the scanner sees in WeChat. */
  readonly match: string;
  /** Posted by this page once the scan is in. */
  readonly finishAction: string;
  /** A fresh QR code, when this one expires. */
  readonly freshHref: string;
  /** QR login instead, where a website app is configured. */
  readonly qrHref?: string;
  readonly app?: AppOnPage | undefined;
  readonly cancelAction?: string;
}

/** Follow-to-login on a desktop: the account's parametric QR code; the page finishes the login once WeChat reports the scan. */
export function followPage(ctx: Context, data: FollowPageData): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'followTitle'),
    imageSources: appImages(data.app),
    body: (nonce) => html`<section><h1>${t(lang, 'followTitle')}</h1>${appIntro(data.app)}<p>${t(lang, 'followBody', { account: data.account })}</p>
<div class="follow-qr" role="img" aria-label="${t(lang, 'followQr', { account: data.account })}">${raw(data.qrSvg)}</div>
<p class="match">${t(lang, 'followMatch')} <strong id="match">${data.match}</strong></p>
<p id="follow-status" class="muted" role="status" aria-live="polite" data-url="${data.statusUrl}" data-scanned="${t(lang, 'followScanned', { match: data.match })}" data-confirmed="${t(lang, 'followConfirmed')}" data-declined="${t(lang, 'followDeclined')}" data-expired="${t(lang, 'followExpired')}">${t(lang, 'followWaiting')}</p>
${postForm(ctx, data.finishAction, undefined, 'follow-finish')}
<a id="follow-fresh" class="button" href="${data.freshHref}">${t(lang, 'followFresh')}</a>
${data.qrHref ? html`<a class="button" href="${data.qrHref}">${t(lang, 'followQrLogin')}</a>` : ''}${agreement(lang, data.app, brandOf(ctx))}${cancelForm(ctx, data.cancelAction, data.app, lang)}</section>
<script nonce="${nonce}">${raw(`(function(){var st=document.getElementById('follow-status'),tries=0;
function poll(){if(++tries>600){return;}fetch(st.getAttribute('data-url'),{credentials:'same-origin',cache:'no-store'}).then(function(r){return r.json();}).then(function(a){
if(a.state==='confirmed'||a.state==='declined'){st.textContent=st.getAttribute('data-'+a.state);document.getElementById('follow-finish').submit();return;}
if(a.state==='scanned'&&st.textContent!==st.getAttribute('data-scanned')){st.textContent=st.getAttribute('data-scanned');}
if(a.state==='expired'){st.textContent=st.getAttribute('data-expired');document.getElementById('follow-fresh').focus();return;}
setTimeout(poll,2000);},function(){setTimeout(poll,4000);});}setTimeout(poll,2000);})();`)}</script>`,
  });
}

/** What a client will receive, in the words the consent page uses. */
export type ConsentItem = 'account' | 'nickname' | 'picture' | 'email' | 'phone' | 'unionid' | 'openid' | 'wecom' | 'offline';

export interface ConsentData {
  readonly app: AppOnPage;
  /** Who is logged in, as WeChat last showed them. */
  readonly person?: { readonly nickname?: string | undefined; readonly picture?: string | undefined };
  /** "Not you?": a new login for the same request. */
  readonly switchHref?: string;
  /** Everything the client will receive, whichever way it asked (scopes or the claims parameter); none when consent was given before. */
  readonly items: readonly ConsentItem[];
  /** The company's APIs the app asks to use for the person, each with what it would let the app do. */
  readonly apis?: readonly ApiOnPage[];
  /** A device's login (RFC 8628): the page asks to confirm that device, and consent with it. */
  readonly device?: DeviceOnPage | undefined;
  readonly action: string;
}

/** An API an app asks access to (oidc/api-resources.ts): its name and what each scope lets the app do. */
export interface ApiOnPage {
  readonly name: string;
  readonly scopes: readonly string[];
}

/** Each API and what it lets the app do: list items, on the consent page and the person's own. */
export function apiItems(apis: readonly ApiOnPage[]): Html[] {
  return apis.map((api) => html`<li>${api.name}<ul>${api.scopes.map((scope) => html`<li>${scope}</li>`)}</ul></li>`);
}

/** "… also asks to use, for you:" each API and what it would let the app do. */
function apiLines(lang: Lang, app: AppOnPage, apis: readonly ApiOnPage[]): Html | string {
  if (apis.length === 0) return '';
  return html`<p>${t(lang, 'consentApisIntro', { client: app.name })}</p>
<ul>${apiItems(apis)}</ul>`;
}

/** One thing a client receives, in plain words (the company's name where it is about the company's apps). */
export function consentLine(ctx: Context, lang: Lang, item: ConsentItem): string {
  return t(lang, `consent_${item}`, { brand: brandName(brandOf(ctx), lang) ?? t(lang, 'thisCompany') });
}

function personLine(lang: Lang, data: ConsentData): Html | string {
  const { person, switchHref } = data;
  if (!person) return '';
  return html`<div class="person">${person.picture ? html`<img src="${person.picture}" alt="" width="40" height="40">` : ''}<p>${t(lang, 'consentAs', { name: person.nickname || t(lang, 'consentSomeone') })}
${switchHref ? html`<a href="${switchHref}">${t(lang, 'consentSwitch')}</a>` : ''}</p></div>`;
}

/**
 * What the app will receive, and "allow" / "deny"; for a device's login, the device named
 * first and "confirm" / "not me", one answer for both.
 */
export function consentPage(ctx: Context, data: ConsentData): void {
  const lang = langOf(ctx);
  const { app, device } = data;
  const picture = data.person?.picture;
  const title = t(lang, device ? 'deviceConfirmTitle' : 'consentTitle');
  renderPage(ctx, {
    title,
    imageSources: [...appImages(app), ...(picture ? [new URL(picture).origin] : [])],
    body: () => html`<section><h1>${title}</h1>${appIntro(app)}
${personLine(lang, data)}${device ? deviceQuestion(lang, app, device) : ''}
${data.items.length ? html`<p>${t(lang, 'consentIntro', { client: app.name })}</p>
<ul>${data.items.map((item) => html`<li>${consentLine(ctx, lang, item)}</li>`)}</ul>` : ''}
${apiLines(lang, app, data.apis ?? [])}
${data.items.length || data.apis?.length ? agreement(lang, app, brandOf(ctx)) : ''}
${postForm(ctx, data.action, html`
<button class="button primary" type="submit" name="decision" value="allow">${t(lang, device ? 'deviceConfirm' : 'consentAllow')}</button>
<button class="button" type="submit" name="decision" value="deny">${t(lang, device ? 'deviceNotMe' : 'consentDeny')}</button>
`)}</section>`,
  });
}
