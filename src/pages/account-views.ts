// The person's own pages (/account): what the broker keeps about them, each relying
// party's access with a way to revoke it, logging out on every device, their data to
// download, and deleting the account after a confirmation. Forms carry the page's token (ops/page-forms.ts).

import type { Context } from 'koa';
import { html, langOf, postForm, renderPage } from './html.ts';
import { SOME_BROWSER } from '../http/browser-name.ts';
import { browserOnPage, t, type Lang, type MessageKey } from './i18n.ts';
import { closeInWeChat } from './app-on-page.ts';
import { apiItems, consentLine, type ApiOnPage, type ConsentItem } from './login-pages.ts';

/** A relying party that holds a grant, as the page shows it. */
export interface GrantOnPage {
  readonly client: string;
  readonly name: string;
  readonly items: readonly ConsentItem[];
  /** The company's APIs it may use for the person, and what each lets it do. */
  readonly apis?: readonly ApiOnPage[];
  readonly grantedAt?: number | undefined;
}

/** A browser or device the person is logged in on, as the page shows it. */
export interface SessionOnPage {
  readonly uid: string;
  readonly loginAt?: number | undefined;
  /** The browser or device it is held in (http/browser-name.ts's words) and its last login or single sign-on, where known. */
  readonly device?: { readonly name: string; readonly usedAt: number } | undefined;
  /** The names of the apps logged in to in it. */
  readonly apps: readonly string[];
  /** The browser showing the page. */
  readonly current: boolean;
  /** An app's own logins (a mini program's, a mobile app's token exchange), held in no browser: named by its app. */
  readonly inApp?: boolean;
}

/** An operator's call about the person (privacy/access-log.ts). */
export interface AccessOnPage {
  readonly at: number;
  readonly action: string;
  readonly by: 'admin' | 'console' | 'cli';
}

const ACCESS_BY = { admin: 'accessByAdmin', console: 'accessByConsole', cli: 'accessByCli' } as const satisfies Record<AccessOnPage['by'], MessageKey>;

/** What each audited action did, in the person's words; any other is `access_other`. */
const ACCESS_DID: Readonly<Record<string, MessageKey>> = {
  show: 'access_show', accesses: 'access_show', logins: 'access_show', find: 'access_find', export: 'access_export', logout: 'access_logout', 'logout-session': 'access_logout_session',
  revoke: 'access_revoke', unlink: 'access_unlink', suspend: 'access_suspend', reinstate: 'access_reinstate',
};

function accessItem(lang: Lang, access: AccessOnPage) {
  return html`<li>${when(lang, access.at)} · ${t(lang, ACCESS_BY[access.by])} · ${t(lang, ACCESS_DID[access.action] ?? 'access_other')}</li>`;
}

export interface AccountPageData {
  readonly nickname?: string | undefined;
  /** An https avatar URL. */
  readonly picture?: string | undefined;
  /** The names of the WeChat apps the person logged in through. */
  readonly apps: readonly string[];
  readonly createdAt: number;
  readonly lastLogin?: { readonly at: number; readonly app: string } | undefined;
  readonly sessions: readonly SessionOnPage[];
  /** The person's recent logins, newest first. */
  readonly logins: readonly LoginOnPage[];
  /** The contact details kept, each with where it came from (an app's name, or WeCom). */
  readonly contacts: { readonly phone?: ContactOnPage | undefined; readonly email?: ContactOnPage | undefined };
  readonly grants: readonly GrantOnPage[];
  /** Operators' calls about the person, newest first. */
  readonly accesses: readonly AccessOnPage[];
  /** The app whose access was just revoked, to say so. */
  readonly revoked?: string | undefined;
  /** Another device was just logged out, to say so. */
  readonly deviceLoggedOut?: boolean;
}

/**
 * A login: when, the app it was for (undefined: none was named), the WeChat app it went
 * through, the browser or device it completed in (undefined: a mini program's own), whether
 * it was a device's login confirmed there with its code, whether the person said it was not theirs.
 */
export interface LoginOnPage {
  readonly at: number;
  readonly site: string | undefined;
  readonly app: string;
  readonly device: string | undefined;
  readonly deviceFlow: boolean;
  readonly disowned: boolean;
}

/** When, to what, through which app; on which device (or which device's code was confirmed where). */
function loginLines(lang: Lang, { at, site, app, device, deviceFlow }: Omit<LoginOnPage, 'disowned'>) {
  const said = site ? t(lang, 'accountLoginItem', { when: when(lang, at), site, app }) : t(lang, 'accountLastLogin', { when: when(lang, at), app });
  const where = device && t(lang, deviceFlow ? 'accountLoginDeviceFlow' : 'accountLoginDevice', { device: browserOnPage(lang, device) });
  return html`${said}${where ? html`<br><span class="muted">${where}</span>` : ''}`;
}

/** One login, with "not me" (or, once said, that it was reported). */
function loginItem(ctx: Context, lang: Lang, login: LoginOnPage) {
  const notMe = login.disowned ? html`<br><strong>${t(lang, 'accountLoginDisowned')}</strong>` : postForm(ctx, '/account/not-me', html`<input type="hidden" name="login" value="${String(login.at)}">
<button class="button" type="submit">${t(lang, 'accountLoginNotMe', { when: when(lang, login.at) })}</button>`);
  return html`<li>${loginLines(lang, login)}${notMe}</li>`;
}

export interface ContactOnPage {
  readonly value: string;
  /** The app's name, or undefined for WeCom. */
  readonly from: string | undefined;
}

function contactLine(lang: Lang, key: 'accountPhone' | 'accountEmail', contact: ContactOnPage | undefined) {
  return contact ? html`<p>${t(lang, key, { value: contact.value, source: contact.from ?? t(lang, 'accountFromWeCom') })}</p>` : '';
}

/** A moment as people in China write it, in China Standard Time: 2026-12-05 00:18 (English says which time). */
export function when(lang: Lang, ms: number): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Shanghai',
  }).formatToParts(ms).map(({ type, value }) => [type, value]));
  const written = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  return lang === 'en' ? `${written} (UTC+8)` : written;
}

/** When a session's browser logged in and, when it has since logged in to an app again (a minute or more later), when it last did. */
function sessionTimes(lang: Lang, session: SessionOnPage): string {
  const since = t(lang, 'accountSessionSince', { when: session.loginAt === undefined ? '' : when(lang, session.loginAt) });
  const usedLater = session.device && session.loginAt !== undefined && session.device.usedAt - session.loginAt >= 60_000;
  return usedLater ? `${since}${t(lang, 'accountSessionUsed', { when: when(lang, session.device!.usedAt) })}` : since;
}

/** One browser or device: which, since when, its apps, and (for any other than this one) a way to log it out. */
function sessionItem(ctx: Context, lang: Lang, session: SessionOnPage) {
  const apps = session.apps.join(lang === 'en' ? ', ' : '、');
  const device = session.inApp && apps ? apps : browserOnPage(lang, session.device?.name ?? SOME_BROWSER);
  const since = session.loginAt === undefined ? '' : when(lang, session.loginAt);
  return html`<li><strong>${device}</strong>${session.current ? t(lang, 'accountThisDevice') : ''}
<br><span class="muted">${sessionTimes(lang, session)}</span>
${apps && !session.inApp ? html`<br><span class="muted">${t(lang, 'accountSessionApps', { apps })}</span>` : ''}
${session.current ? '' : postForm(ctx, '/account/logout-device', html`<input type="hidden" name="session" value="${session.uid}">
<button class="button" type="submit">${t(lang, 'accountLogoutDevice', { device, when: since })}</button>`)}</li>`;
}

function grantItem(ctx: Context, lang: Lang, grant: GrantOnPage) {
  return html`<li><strong>${grant.name}</strong>${grant.grantedAt ? html` <span class="muted">${t(lang, 'accountGrantedAt', { when: when(lang, grant.grantedAt) })}</span>` : ''}
<ul>${grant.items.map((item) => html`<li>${consentLine(ctx, lang, item)}</li>`)}${apiItems(grant.apis ?? [])}</ul>
${postForm(ctx, '/account/revoke', html`<input type="hidden" name="client" value="${grant.client}">
<button class="button" type="submit">${t(lang, 'accountRevoke', { app: grant.name })}</button>`)}</li>`;
}

export function accountPage(ctx: Context, data: AccountPageData): void {
  const lang = langOf(ctx);
  const { picture } = data;
  renderPage(ctx, {
    title: t(lang, 'accountTitle'),
    imageSources: picture ? [new URL(picture).origin] : [],
    body: () => html`<section><h1>${t(lang, 'accountTitle')}</h1>
${data.revoked ? html`<p role="status">${t(lang, 'accountRevoked', { app: data.revoked })}</p>` : ''}
<div class="person">${picture ? html`<img src="${picture}" alt="" width="40" height="40">` : ''}<p>${data.nickname || t(lang, 'consentSomeone')}</p></div>
<p>${t(lang, 'accountIntro')}</p>
<p>${t(lang, 'accountCreated', { when: when(lang, data.createdAt) })}</p>
${data.lastLogin ? html`<p>${t(lang, 'accountLastLogin', { when: when(lang, data.lastLogin.at), app: data.lastLogin.app })}</p>` : ''}
${data.deviceLoggedOut ? html`<p role="status">${t(lang, 'accountDeviceLoggedOut')}</p>` : ''}
<p>${t(lang, 'accountSessions', { count: String(data.sessions.length) })}</p>
${data.sessions.length ? html`<ul>${data.sessions.map((session) => sessionItem(ctx, lang, session))}</ul>` : ''}
${data.sessions.length > 0 ? postForm(ctx, '/account/logout', html`<button class="button" type="submit">${t(lang, 'accountLogoutEverywhere')}</button>`) : ''}
<h2>${t(lang, 'accountLogins')}</h2>
<p>${t(lang, 'accountLoginsIntro')}</p>
${data.logins.length ? html`<ul>${data.logins.map((login) => loginItem(ctx, lang, login))}</ul>` : html`<p>${t(lang, 'accountLoginsNone')}</p>`}
${contactLine(lang, 'accountPhone', data.contacts.phone)}${contactLine(lang, 'accountEmail', data.contacts.email)}
<h2>${t(lang, 'accountApps')}</h2><ul>${data.apps.map((app) => html`<li>${app}</li>`)}</ul>
<h2>${t(lang, 'accountGrants')}</h2>
${data.grants.length ? html`<ul>${data.grants.map((grant) => grantItem(ctx, lang, grant))}</ul>` : html`<p>${t(lang, 'accountNoGrants')}</p>`}
<h2>${t(lang, 'accountAccesses')}</h2>
<p>${t(lang, 'accountAccessesIntro')}</p>
${data.accesses.length ? html`<ul>${data.accesses.map((access) => accessItem(lang, access))}</ul>` : html`<p>${t(lang, 'accountAccessesNone')}</p>`}
<a class="button" href="/account/export" download>${t(lang, 'accountExport')}</a>
<a class="button" href="/account/delete">${t(lang, 'accountDelete')}</a></section>`,
  });
}

/** "Delete my account": what it means, confirmed by a second step. */
export function accountDeletePage(ctx: Context): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'accountDelete'),
    body: () => html`<section><h1>${t(lang, 'accountDelete')}</h1><p>${t(lang, 'accountDeleteQuestion')}</p>
${postForm(ctx, '/account/delete', html`<button class="button danger" type="submit">${t(lang, 'accountDeleteConfirm')}</button>`)}
<a class="button" href="/account">${t(lang, 'accountDeleteCancel')}</a></section>`,
  });
}

/** A page that says what was done, with a way to close it inside WeChat. */
function donePage(ctx: Context, title: MessageKey, body: MessageKey): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, title),
    body: (nonce) => html`<section><h1>${t(lang, title)}</h1><p>${t(lang, body)}</p>
${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}

/** After "not me": logged out everywhere, the company told; which login it was, and what to do about WeChat itself. */
export function accountDisownedPage(ctx: Context, login: Omit<LoginOnPage, 'disowned'>): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'accountDisownedTitle'),
    body: (nonce) => html`<section><h1>${t(lang, 'accountDisownedTitle')}</h1><p>${t(lang, 'accountDisownedBody')}</p>
<p>${loginLines(lang, login)}</p>
<p>${t(lang, 'accountDisownedSecure')}</p>
${closeInWeChat(ctx, lang, nonce)}</section>`,
  });
}

export function accountDeletedPage(ctx: Context): void {
  donePage(ctx, 'accountDeletedTitle', 'accountDeletedBody');
}

/** After "log out on every device": nobody is logged in anywhere; the account stays. */
export function accountLoggedOutPage(ctx: Context): void {
  donePage(ctx, 'accountLoggedOutTitle', 'accountLoggedOutBody');
}

/** Not logged in here (or back from a login that did not happen): a way to log in. */
export function accountSignedOutPage(ctx: Context, signIn: string): void {
  const lang = langOf(ctx);
  renderPage(ctx, {
    title: t(lang, 'accountTitle'),
    body: () => html`<section><h1>${t(lang, 'accountTitle')}</h1><p>${t(lang, 'accountSignedOut')}</p>
<a class="button primary" href="${signIn}">${t(lang, 'accountSignIn')}</a></section>`,
  });
}
