// The relying party as every page that names it shows it: its logo, name and domain, the
// one image source a page may load from, and "back to the app".

import type { Context } from 'koa';
import { html, postForm, raw, type Html } from './html.ts';
import { browserKind } from '../wechat/user-agent.ts';
import { brandName, type Brand } from './brand.ts';
import { t, type Lang } from './i18n.ts';

/** The relying party a page is about, as its metadata presents it (oidc/client-display.ts). */
export interface AppOnPage {
  readonly name: string;
  readonly logo?: string | undefined;
  readonly home?: string | undefined;
  readonly domain?: string | undefined;
  readonly policy?: string | undefined;
  readonly terms?: string | undefined;
  /** Where the app starts a fresh login of its own (its initiate_login_uri), for a login that cannot go on. */
  readonly restart?: string | undefined;
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

/** A document's name, with its owner's name where there is one ("the  Terms" never). */
function label(lang: Lang, key: 'agreeTerms' | 'agreePrivacy', owner: string): string {
  return t(lang, key, { owner }).replace(/\s{2,}/g, ' ');
}

/**
 * "By logging in you agree to…": the app's terms and privacy policy (its `tos_uri` and
 * `policy_uri`), else the company's (BRAND_TERMS_URL, BRAND_PRIVACY_URL), on every page where a
 * login is given, as Chinese compliance reviews expect: 登录即表示你同意《‹应用›用户协议》和《隐私政策》.
 */
export function agreement(lang: Lang, app: AppOnPage | undefined, brand: Brand): Html {
  const own = Boolean(app?.terms || app?.policy);
  const [terms, policy, owner] = own ? [app?.terms, app?.policy, app?.name ?? ''] : [brand.termsUrl, brand.privacyUrl, brandName(brand, lang) ?? ''];
  const links = [
    terms && html`${t(lang, 'agreeOpen')}<a href="${terms}">${label(lang, 'agreeTerms', owner)}</a>${t(lang, 'agreeClose')}`,
    policy && html`${t(lang, 'agreeOpen')}<a href="${policy}">${label(lang, 'agreePrivacy', owner)}</a>${t(lang, 'agreeClose')}`,
  ].filter((link): link is Html => Boolean(link));
  if (!links.length) return raw('');
  return html`<p class="muted agreement">${t(lang, 'agreeLead')}${links.flatMap((link, index) => (index ? [t(lang, 'agreeAnd'), link] : [link]))}${t(lang, 'agreeEnd')}</p>`;
}

/**
 * Inside WeChat, whose browser has no back button: "close", through WeChat's JS bridge
 * (`WeixinJSBridge.call('closeWindow')`), shown once the bridge is there. Nothing elsewhere.
 */
export function closeInWeChat(ctx: Context, lang: Lang, nonce: string): Html {
  if (browserKind(ctx.get('user-agent')) !== 'wechat') return raw('');
  return html`<button id="wx-close" class="button" type="button" hidden>${t(lang, 'closeInWeChat')}</button>
<script nonce="${nonce}">${raw(`(function(){var b=document.getElementById('wx-close');function ready(){b.hidden=false;}
if(typeof WeixinJSBridge!=='undefined'){ready();}else{document.addEventListener('WeixinJSBridgeReady',ready,false);}
b.addEventListener('click',function(){WeixinJSBridge.call('closeWindow');});})();`)}</script>`;
}

/** "Back to <app>": ends the login, and the app gets access_denied with its state. */
export function cancelForm(ctx: Context, action: string | undefined, app: AppOnPage | undefined, lang: Lang): Html {
  if (!action) return raw('');
  return postForm(ctx, action, html`<button class="button" type="submit">${app ? t(lang, 'backTo', { app: app.name }) : t(lang, 'cancel')}</button>`);
}
