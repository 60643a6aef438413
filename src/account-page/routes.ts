// The person's own page (PIPL articles 44 to 47, for the person themself):
//   GET  /account          what the broker keeps about them, and who has access
//   POST /account/revoke   take one relying party's access away (it is told)
//   POST /account/logout   log out on every device: every session and grant ends (the apps are told)
//   POST /account/logout-device   log out one other browser or device (its session, by uid)
//   POST /account/not-me   one of their recent logins was not theirs: the company is told, and they are logged out everywhere
//   GET  /account/export   everything held about them, one JSON document
//   GET  /account/delete   what deleting means; POST /account/delete does it
// The person is whoever oidc-provider's session says; without one, the page sends them
// through a login of its own client (client.ts) and back. Inside WeChat, every view also
// goes through that login first, so that WeChat confirms who is present
// (present-account.ts). Forms carry the page's token (ops/page-forms.ts), so no other site
// can post them; the route acts for whoever is logged in at this browser.

import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { phoneButtonApp, type Account, type AccountId, type Contact } from '../accounts/account.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { readForm } from '../http/read-body.ts';
import { signedIn, type SignedIn } from '../oidc/browser-session.ts';
import { isOwnClient } from '../oidc/own-clients.ts';
import { clientDisplay } from '../oidc/client-display.ts';
import { accountDeletedPage, accountDeletePage, accountDisownedPage, accountLoggedOutPage, accountPage, accountSignedOutPage, type AccountPageData, type GrantOnPage, type LoginOnPage, type SessionOnPage } from '../pages/account-views.ts';
import { langOf } from '../pages/html.ts';
import { appName } from '../pages/i18n.ts';
import { errorPage } from '../pages/error-pages.ts';
import type { ConsentItem } from '../pages/login-pages.ts';
import { describeApis, type ApiResources } from '../oidc/api-resources.ts';
import type { Held } from '../oidc/account-records.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import { confirmPresent, inWeChat, presentConfirmed, returnedFrom, signInFor, type Destination } from './present-account.ts';

/** A session's uid as oidc-provider makes them (nanoid). */
const SESSION_UID = /^[A-Za-z0-9_-]{1,64}$/;
/** A login of the person's recent logins, by its time (ms since the epoch). */
const LOGIN_AT = /^\d{1,15}$/;

export interface AccountPageParts {
  readonly provider: Provider;
  readonly personalData: PersonalData;
  readonly apps: readonly ConfiguredApp[];
  readonly issuer: string;
  /** What a grant's scope lets a relying party have, in the consent page's words. */
  readonly describe: (scope: string) => ConsentItem[];
  /** The company's APIs (oidc/api-resources.ts), for what a grant lets an app do with them. */
  readonly apis: ApiResources;
  /** Counts the logins people disown, for the company's alerts. */
  readonly metrics: Pick<BrokerMetrics, 'loginDisowned'>;
}

/** To a login and back; a browser back from a login that did not sign it in gets a button instead (no loop). */
function signIn(ctx: Context, parts: AccountPageParts, destination: Destination, forceLogin = false): void {
  const url = signInFor(ctx, parts.issuer, destination, forceLogin);
  if (ctx.query.state !== undefined || ctx.query.error !== undefined) return accountSignedOutPage(ctx, url);
  ctx.status = 303;
  ctx.redirect(url);
}

/**
 * The person logged in here, once it is safe to act for them: inside WeChat only on the
 * return of the page's own sign-in (WeChat confirmed who is present), after which this
 * browser's forms may act for them a few minutes. Undefined after sending the browser on.
 */
async function present(ctx: Context, parts: AccountPageParts, destination: Destination, returned: Destination | undefined): Promise<SignedIn | undefined> {
  const me = await signedIn(parts.provider, ctx);
  if (!me) return void signIn(ctx, parts, destination, false);
  if (!inWeChat(ctx)) return me;
  if (returned !== destination) return void signIn(ctx, parts, destination);
  confirmPresent(ctx, me.accountId);
  return me;
}

async function clientName(provider: Provider, clientId: string, ctx: Context): Promise<string> {
  const client = await provider.Client.find(clientId);
  return client ? clientDisplay(client, langOf(ctx)).name : clientId;
}

interface ClientAccess { readonly scope: Set<string>; readonly resources: Map<string, Set<string>>; grantedAt?: number | undefined }

/** One entry per relying party (a person may have given one several grants), the broker's own pages left out. */
async function grantsOnPage(ctx: Context, parts: AccountPageParts, held: Held): Promise<GrantOnPage[]> {
  const byClient = new Map<string, ClientAccess>();
  for (const grant of held.grants.filter((candidate) => !isOwnClient(candidate.client))) {
    const entry = byClient.get(grant.client) ?? { scope: new Set<string>(), resources: new Map(), grantedAt: grant.grantedAt };
    for (const scope of grant.scope.split(' ').filter(Boolean)) entry.scope.add(scope);
    for (const [indicator, scope] of Object.entries(grant.resources)) {
      const scopes = entry.resources.get(indicator) ?? new Set<string>();
      for (const one of scope.split(' ').filter(Boolean)) scopes.add(one);
      entry.resources.set(indicator, scopes);
    }
    entry.grantedAt = Math.min(entry.grantedAt ?? Infinity, grant.grantedAt ?? Infinity);
    byClient.set(grant.client, entry);
  }
  return Promise.all([...byClient].map(async ([client, { scope, resources, grantedAt }]) => ({
    client, name: await clientName(parts.provider, client, ctx), items: parts.describe([...scope].join(' ')),
    apis: await describeApis(parts.provider, parts.apis, resources, langOf(ctx)), grantedAt: Number.isFinite(grantedAt) ? grantedAt : undefined,
  })));
}

/** The browsers and devices the person is logged in on, the latest first; the broker's own pages' clients are no apps. */
async function sessionsOnPage(ctx: Context, parts: AccountPageParts, held: Held, current: string): Promise<SessionOnPage[]> {
  const sessions = held.sessions.filter((session) => session.uid !== undefined).sort((a, b) => (b.loginAt ?? 0) - (a.loginAt ?? 0));
  return Promise.all(sessions.map(async (session) => ({
    uid: session.uid!, loginAt: session.loginAt, current: session.uid === current, device: session.device, inApp: session.exchanged,
    apps: await Promise.all([...session.sids.keys()].filter((client) => !isOwnClient(client)).map((client) => clientName(parts.provider, client, ctx))),
  })));
}

/** The person's recent logins, newest first: when, to which app (the broker's own pages by their names too: a login to this page is one), through which WeChat app, on which device. */
async function loginsOnPage(ctx: Context, parts: AccountPageParts, sub: AccountId, nameOf: (appid: string) => string): Promise<LoginOnPage[]> {
  return Promise.all((await parts.personalData.loginsOf(sub)).map(async ({ at, appid, client, device, deviceFlow, disowned }) => ({
    at, app: nameOf(appid), site: client === undefined ? undefined : await clientName(parts.provider, client, ctx), device, deviceFlow: deviceFlow === true, disowned: disowned !== undefined,
  })));
}

/** The account's phone and email with where each came from: a mini program's name (`wechat-phone:<appid>`), or WeCom. */
function contactsOnPage(account: Account, nameOf: (appid: string) => string): AccountPageData['contacts'] {
  const on = (contact: Contact | undefined) => {
    const app = contact && phoneButtonApp(contact);
    return contact && { value: contact.value, from: app === undefined ? undefined : nameOf(app) };
  };
  return { phone: on(account.contacts?.phone), email: on(account.contacts?.email) };
}

async function show(ctx: Context, parts: AccountPageParts): Promise<void> {
  // The sign-in always comes back here; it may have been on its way to the export or the delete confirmation.
  const returned = returnedFrom(ctx);
  if (returned === 'export') return exportData(ctx, parts, returned);
  if (returned === 'delete') return confirmDelete(ctx, parts, returned);
  const me = await present(ctx, parts, 'page', returned);
  if (!me) return;
  const found = await parts.personalData.held(me.accountId as AccountId);
  if (!found) return signIn(ctx, parts, 'page', true);
  const { account, held } = found;
  const lang = langOf(ctx);
  const nameOf = (appid: string) => appName(lang, parts.apps.find((candidate) => candidate.appid === appid));
  const revoked = typeof ctx.query.revoked === 'string' ? await clientName(parts.provider, ctx.query.revoked, ctx) : undefined;
  accountPage(ctx, {
    nickname: account.profile.nickname, picture: account.profile.picture,
    apps: [...new Set(account.identities.map((identity) => nameOf(identity.appid)))],
    createdAt: account.createdAt,
    lastLogin: account.lastLogin && { at: account.lastLogin.at, app: nameOf(account.lastLogin.appid) },
    sessions: await sessionsOnPage(ctx, parts, held, me.uid),
    logins: await loginsOnPage(ctx, parts, account.id, nameOf),
    contacts: contactsOnPage(account, nameOf),
    grants: await grantsOnPage(ctx, parts, held),
    // Which client or operator it was is the company's: the console shows it, this page does not.
    accesses: (await parts.personalData.accessesOf(account.id)).map(({ at, action, by }) => ({ at, action, by })),
    revoked,
    deviceLoggedOut: ctx.query.logged_out === 'device',
  });
}

/** The person logged in at this browser (inside WeChat: the one WeChat confirmed for this page), and the form (its page token checked before the route); a plain 400 page otherwise. */
async function formOf(ctx: Context, parts: AccountPageParts): Promise<{ me: SignedIn; form: URLSearchParams } | undefined> {
  const me = await signedIn(parts.provider, ctx);
  if (me && presentConfirmed(ctx, me.accountId)) return { me, form: await readForm(ctx) };
  const detail = me ? 'WeChat has not confirmed who is present for this page: open /account again' : 'nobody is logged in at this browser: open /account again';
  errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail, retryHref: '/account' });
  return undefined;
}

async function exportData(ctx: Context, parts: AccountPageParts, returned: Destination | undefined): Promise<void> {
  const me = await present(ctx, parts, 'export', returned);
  if (!me) return;
  const exported = await parts.personalData.export(me.accountId as AccountId, parts.issuer);
  if (!exported) return signIn(ctx, parts, 'export', true);
  ctx.set('cache-control', 'no-store');
  ctx.set('content-disposition', 'attachment; filename="my-account.json"');
  ctx.body = exported;
}

async function confirmDelete(ctx: Context, parts: AccountPageParts, returned: Destination | undefined): Promise<void> {
  if (await present(ctx, parts, 'delete', returned)) accountDeletePage(ctx);
}

/** POST /account/not-me: the login named (by its time) was not the person's. */
async function disown(ctx: Context, parts: AccountPageParts): Promise<void> {
  const posted = await formOf(ctx, parts);
  if (!posted) return;
  const at = posted.form.get('login') ?? '';
  const login = LOGIN_AT.test(at) ? await parts.personalData.disownLogin(posted.me.accountId as AccountId, Number(at)) : undefined;
  if (!login) return errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail: 'no login of yours named', retryHref: '/account' });
  parts.metrics.loginDisowned(login.deviceFlow ? 'device' : 'login');
  const site = login.client === undefined ? undefined : await clientName(parts.provider, login.client, ctx);
  accountDisownedPage(ctx, { at: login.at, site, app: appName(langOf(ctx), parts.apps.find((app) => app.appid === login.appid)), device: login.device, deviceFlow: login.deviceFlow === true });
}

export function accountPageRoutes(parts: AccountPageParts): Router {
  const router = new Router();
  router.get('/account', (ctx) => show(ctx, parts));
  router.post('/account/revoke', async (ctx) => {
    const posted = await formOf(ctx, parts);
    if (!posted) return;
    const client = posted.form.get('client');
    if (!client || isOwnClient(client)) return errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail: 'no app named' });
    const done = await parts.personalData.revoke(posted.me.accountId as AccountId, client, { by: 'self' });
    ctx.status = 303;
    ctx.redirect(done ? `/account?revoked=${encodeURIComponent(client)}` : '/account');
  });
  router.post('/account/logout', async (ctx) => {
    const posted = await formOf(ctx, parts);
    if (!posted) return;
    await parts.personalData.logout(posted.me.accountId as AccountId, { by: 'self' });
    accountLoggedOutPage(ctx);
  });
  router.post('/account/logout-device', async (ctx) => {
    const posted = await formOf(ctx, parts);
    if (!posted) return;
    const uid = posted.form.get('session');
    if (!uid || !SESSION_UID.test(uid) || uid === posted.me.uid) return errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail: 'no other device named' });
    await parts.personalData.logoutSession(posted.me.accountId as AccountId, uid, { by: 'self' });
    ctx.status = 303;
    ctx.redirect('/account?logged_out=device');
  });
  router.post('/account/not-me', (ctx) => disown(ctx, parts));
  router.get('/account/export', (ctx) => exportData(ctx, parts, undefined));
  router.get('/account/delete', (ctx) => confirmDelete(ctx, parts, undefined));
  router.post('/account/delete', async (ctx) => {
    const posted = await formOf(ctx, parts);
    if (!posted) return;
    await parts.personalData.erase(posted.me.accountId as AccountId, { by: 'self' });
    accountDeletedPage(ctx);
  });
  return router;
}
