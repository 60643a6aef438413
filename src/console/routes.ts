// The operator console: the admin API's lookups and actions as pages, for the company's
// support and privacy staff at a desk (no token to obtain, no curl).
//   GET  /console                        the search
//   GET  /console/find?…                 a search: on to the account found, or the search again saying why not
//   GET  /console/accounts/:sub          the account, its sessions and grants
//   GET  /console/accounts/:sub/export   everything held about the person, one JSON document
//   POST /console/accounts/:sub/logout   sign them out everywhere                      (write)
//   POST /console/accounts/:sub/logout-session  sign them out of the form's session `uid`  (write)
//   POST /console/accounts/:sub/revoke   take the form's `client`'s access away        (write)
//   POST /console/accounts/:sub/unlink   unlink the identity of the form's `appid`     (write)
//   POST /console/accounts/:sub/suspend  suspend the person for the form's `reason`    (write)
//   POST /console/accounts/:sub/reinstate  lift the suspension                        (write)
//   GET  /console/accounts/:sub/delete   what erasing means; POST erases the account   (write)
//   GET  /console/suspended              every suspended account, the latest first
//   GET  /console/diagnostics            the doctor's findings
// Operators are accounts, named with their role in CONSOLE_OPERATORS; they sign in through
// the console's own client (client.ts), as anyone signs in at the broker, with a login at
// most a working day old. Every view of a person and every action is audited as the admin
// API's are (privacy/admin-audit.ts: the operator's `sub`, the action, what was asked,
// the outcome), refusals included; changes go through the same erasure, unlink and sign-out
// (privacy/personal-data.ts), their lines saying `by: console` and the operator. Forms carry
// the page's token (ops/page-forms.ts). Without CONSOLE_OPERATORS there is no console (404).

import Router from '@koa/router';
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { isAccountId, REASON_MAX, suspensionOf, suspensionReason, type Account, type AccountId } from '../accounts/account.ts';
import { UnlinkRefusedError, type AccountStore } from '../accounts/store.ts';
import { ANY_OPERATOR, type OperatorRole } from '../config/config.ts';
import type { Finding } from '../diagnostics/findings.ts';
import { readForm } from '../http/read-body.ts';
import type { Logger } from '../log.ts';
import { signedIn } from '../oidc/browser-session.ts';
import { isOwnClient } from '../oidc/own-clients.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import {
  consoleAccountPage, consoleDeletePage, consoleDone, consoleDiagnosticsPage, consoleErasedPage, consoleHomePage, consoleNotInWeChatPage,
  consoleNotOperatorPage, consoleReadOnlyPage, consoleReasonPage, consoleSignedOutPage, consoleSuspendedPage, type ConsoleDone, type ConsoleNotice, type OperatorOnPage,
} from '../pages/console-views.ts';
import { errorPage } from '../pages/error-pages.ts';
import { langOf } from '../pages/html.ts';
import { appName } from '../pages/i18n.ts';
import { accountView, findAccount, heldView, keyOf, lookupsOf, recentLoginView, requestTarget, suspendedView } from '../privacy/account-view.ts';
import type { LoginView } from '../privacy/view-schemas.ts';
import { auditAdminCall } from '../privacy/admin-audit.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { browserKind } from '../wechat/user-agent.ts';
import { CONSOLE_CLIENT, consoleSignInUrl, OPERATOR_LOGIN_MAX_S } from './client.ts';

export interface ConsoleParts {
  readonly provider: Provider;
  readonly accounts: AccountStore;
  readonly personalData: PersonalData;
  readonly apps: readonly ConfiguredApp[];
  readonly issuer: string;
  /** CONSOLE_OPERATORS: who may use the console, by account `sub`, and how (`ANY_OPERATOR`: anyone, with the built-in simulator). */
  readonly operators: ReadonlyMap<string, OperatorRole>;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  readonly pairwiseSecret: string | undefined;
  readonly diagnose: () => Promise<Finding[]>;
}

type Action = 'open' | 'find' | 'show' | 'export' | 'logout' | 'logout-session' | 'revoke' | 'unlink' | 'suspend' | 'reinstate' | 'suspensions' | 'delete' | 'diagnostics';
type Outcome = { readonly outcome: string; readonly sub?: string | undefined };

/** The identifiers the request names, as it gave them (the path's `sub`, a search's fields, a form's identity, app or session). */
const targetOf = async (ctx: Context) => requestTarget(ctx.params, ctx.query, ctx.method === 'POST' ? Object.fromEntries(await readForm(ctx)) : {});

/** To the console's sign-in; a browser back from one that did not sign it in gets a button instead (no loop). */
function signIn(ctx: Context, parts: ConsoleParts): void {
  const url = consoleSignInUrl(parts.issuer, randomBytes(16).toString('base64url'));
  if (ctx.query.state !== undefined || ctx.query.error !== undefined) return consoleSignedOutPage(ctx, url);
  ctx.status = 303;
  ctx.redirect(url);
}

/** The operator signed in here, allowed `needs`; otherwise the page that says why (and, for someone signed in, an audit line of the refused `action`). */
async function operatorOf(ctx: Context, parts: ConsoleParts, needs: OperatorRole, action: Action): Promise<OperatorOnPage | undefined> {
  if (parts.operators.size === 0) return void errorPage(ctx, { kind: 'not_found', status: 404 });
  if (browserKind(ctx.get('user-agent')) === 'wechat') return void consoleNotInWeChatPage(ctx);
  const me = await signedIn(parts.provider, ctx);
  if (!me || me.loginAt === undefined || Date.now() - me.loginAt > OPERATOR_LOGIN_MAX_S * 1000) return void signIn(ctx, parts);
  const role = parts.operators.get(me.accountId) ?? parts.operators.get(ANY_OPERATOR);
  if (role && (needs === 'read' || role === 'write')) return { sub: me.accountId, role };
  auditAdminCall(parts.log, parts.metrics, { client: CONSOLE_CLIENT, operator: me.accountId, action, target: await targetOf(ctx), outcome: role ? 'read_only' : 'not_operator' }, { ip: ctx.ip });
  return void (role ? consoleReadOnlyPage(ctx) : consoleNotOperatorPage(ctx, me.accountId));
}

/** One audited view or action: the operator first, then `run`, which answers and says what came of it. */
async function audited(ctx: Context, parts: ConsoleParts, action: Action, needs: OperatorRole, run: (operator: OperatorOnPage) => Promise<Outcome>): Promise<void> {
  const operator = await operatorOf(ctx, parts, needs, action);
  if (!operator) return;
  const { outcome, sub } = await run(operator);
  auditAdminCall(parts.log, parts.metrics, { client: CONSOLE_CLIENT, operator: operator.sub, action, target: await targetOf(ctx), outcome, sub });
  await parts.personalData.accessed({ sub, outcome, action, by: 'console', who: operator.sub });
}

/** The apps a search by openid offers, by the names the pages give them. */
function appsOnPage(ctx: Context, parts: ConsoleParts) {
  return parts.apps.map((app) => ({ appid: app.appid, name: appName(langOf(ctx), app) }));
}

function home(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage, notice: ConsoleNotice): Outcome {
  consoleHomePage(ctx, operator, appsOnPage(ctx, parts), notice);
  return { outcome: notice.kind === 'not_found' ? 'not_found' : 'invalid_request' };
}

/** The account a search names, as the admin API finds one (privacy/account-view.ts). */
function search(ctx: Context, parts: ConsoleParts): Promise<Account | undefined | string> {
  return findAccount(parts.accounts, keyOf(ctx.query), lookupsOf(parts.provider, parts.pairwiseSecret, parts.accounts, parts.personalData));
}

async function find(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const found = await search(ctx, parts);
  if (typeof found === 'string') return home(ctx, parts, operator, { kind: 'invalid', detail: found });
  if (!found) return home(ctx, parts, operator, { kind: 'not_found' });
  ctx.status = 303;
  ctx.redirect(`/console/accounts/${encodeURIComponent(found.id)}`);
  return { outcome: 'ok', sub: found.id };
}

/** The path's `:sub`, when it can be one. */
function pathSub(ctx: Context): AccountId | undefined {
  const sub = String(ctx.params.sub);
  return isAccountId(sub) ? sub : undefined;
}

function notFound(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Outcome {
  return home(ctx, parts, operator, { kind: 'not_found' });
}

async function show(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const sub = pathSub(ctx);
  const found = sub && await parts.personalData.held(sub);
  if (!found) return notFound(ctx, parts, operator);
  const done = consoleDone(ctx.query.done);
  const view = accountView(found.account, parts.apps);
  // Each identity's app (and the last login's) as the pages name it, with the id the configuration gives it.
  const named = (appid: string, id: string | null) => (id === null ? null : `${appName(langOf(ctx), parts.apps.find((app) => app.appid === appid))} (${id})`);
  const identities = view.identities.map((identity) => ({ ...identity, app: named(identity.appid, identity.app) }));
  const namedLogin = <T extends LoginView>(login: T): T => ({ ...login, app: named(login.appid, login.app) });
  const lastLogin = view.last_login && namedLogin(view.last_login);
  const held = heldView(found.held);
  const grants = held.grants.map((grant) => ({ ...grant, own: isOwnClient(grant.client) }));
  const accesses = await parts.personalData.accessesOf(found.account.id);
  const logins = (await parts.personalData.loginsOf(found.account.id)).map((login) => namedLogin(recentLoginView(login, parts.apps)));
  consoleAccountPage(ctx, operator, { ...view, identities, last_login: lastLogin }, { ...held, grants, logins, accesses }, { done, reasonMax: REASON_MAX, suspensionDays: SUSPENSION_DAYS });
  return { outcome: 'ok', sub: found.account.id };
}

async function exportData(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const sub = pathSub(ctx);
  const exported = sub && await parts.personalData.export(sub, parts.issuer);
  if (!exported) return notFound(ctx, parts, operator);
  ctx.set('cache-control', 'no-store');
  ctx.set('content-disposition', `attachment; filename="account-${exported.account.sub}.json"`);
  ctx.body = exported;
  return { outcome: 'ok', sub: exported.account.sub };
}

/** Back to the account's page, saying what was done. */
function backToAccount(ctx: Context, account: Pick<Account, 'id'>, done: ConsoleDone): Outcome {
  ctx.status = 303;
  ctx.redirect(`/console/accounts/${encodeURIComponent(account.id)}?done=${done}`);
  return { outcome: 'ok', sub: account.id };
}

async function logout(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const sub = pathSub(ctx);
  const done = sub && await parts.personalData.logout(sub, { by: 'console', operator: operator.sub as AccountId });
  return done ? backToAccount(ctx, done.account, 'logout') : notFound(ctx, parts, operator);
}

/** One session or one relying party's access ends, as the form names it; the account's page says so. */
async function endOne(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage, what: 'logout-session' | 'revoke'): Promise<Outcome> {
  const sub = pathSub(ctx);
  const form = await readForm(ctx);
  const by = { by: 'console', operator: operator.sub as AccountId } as const;
  const named = form.get(what === 'revoke' ? 'client' : 'uid') ?? '';
  const ended = sub !== undefined && named !== '' && (what === 'revoke' ? await parts.personalData.revoke(sub, named, by) : await parts.personalData.logoutSession(sub, named, by));
  return ended ? backToAccount(ctx, { id: sub }, what) : notFound(ctx, parts, operator);
}

async function unlink(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const sub = pathSub(ctx);
  const appid = (await readForm(ctx)).get('appid');
  const account = sub && await parts.accounts.findById(sub);
  const identity = account && account.identities.find((known) => known.appid === appid);
  if (!account || !identity) return notFound(ctx, parts, operator);
  try {
    const unlinked = await parts.personalData.unlink(account.id, identity, { by: 'console', operator: operator.sub as AccountId });
    return unlinked ? backToAccount(ctx, unlinked, 'unlink') : notFound(ctx, parts, operator);
  } catch (error) {
    if (!(error instanceof UnlinkRefusedError)) throw error;
    errorPage(ctx, { kind: 'conflict', status: 409, detail: error.message, retryHref: `/console/accounts/${encodeURIComponent(account.id)}` });
    return { outcome: 'conflict', sub: account.id };
  }
}

const DAY_MS = 86_400_000;
/** The lengths a console operator can give a suspension, in days (the admin API and the CLI take any end). */
const SUSPENSION_DAYS: readonly number[] = [1, 7, 30, 90];

/**
 * The form's `days`: the suspension's length (one of SUSPENSION_DAYS), `keep` (a change that
 * keeps the suspension's end as it is), empty (until reinstated); null when it is none of them.
 */
function suspensionDays(value: string | null): number | 'keep' | undefined | null {
  if (!value) return undefined;
  if (value === 'keep') return value;
  const days = Number(value);
  return SUSPENSION_DAYS.includes(days) ? days : null;
}

/** When the suspension asked for ends: `days` from now, or the end of the one that holds (undefined when there is none to keep). */
async function suspensionUntil(parts: ConsoleParts, sub: AccountId, days: number | 'keep' | undefined): Promise<{ until: number | undefined } | undefined> {
  if (days !== 'keep') return { until: days && Date.now() + days * DAY_MS };
  const account = await parts.personalData.account(sub);
  const held = account && suspensionOf(account, Date.now());
  return held?.until === undefined ? undefined : { until: held.until };
}

/** The person suspended, for the form's reason (signed out everywhere), or reinstated; the account's page says so. */
async function suspension(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage, what: 'suspend' | 'reinstate'): Promise<Outcome> {
  const sub = pathSub(ctx);
  const by = { by: 'console', operator: operator.sub as AccountId } as const;
  if (!sub) return notFound(ctx, parts, operator);
  if (what === 'reinstate') {
    const account = await parts.personalData.reinstate(sub, by);
    return account ? backToAccount(ctx, account, 'reinstate') : notFound(ctx, parts, operator);
  }
  const form = await readForm(ctx);
  const reason = suspensionReason(form.get('reason'));
  const days = suspensionDays(form.get('days'));
  // `keep` of a suspension that has ended or has no end: the page is out of date.
  const end = days === null ? undefined : await suspensionUntil(parts, sub, days);
  if (!reason || !end) {
    consoleReasonPage(ctx, sub);
    return { outcome: 'invalid_request', sub };
  }
  const done = await parts.personalData.suspend(sub, { reason, until: end.until }, by);
  return done ? backToAccount(ctx, done.account, 'suspend') : notFound(ctx, parts, operator);
}

async function erase(ctx: Context, parts: ConsoleParts, operator: OperatorOnPage): Promise<Outcome> {
  const sub = pathSub(ctx);
  const erased = sub && await parts.personalData.erase(sub, { by: 'console', operator: operator.sub as AccountId });
  if (!erased) return notFound(ctx, parts, operator);
  consoleErasedPage(ctx, erased.id);
  return { outcome: 'ok', sub: erased.id };
}

export function consoleRoutes(parts: ConsoleParts): Router {
  const router = new Router();
  router.get('/console', async (ctx) => {
    const operator = await operatorOf(ctx, parts, 'read', 'open');
    if (operator) consoleHomePage(ctx, operator, appsOnPage(ctx, parts));
  });
  router.get('/console/find', (ctx) => audited(ctx, parts, 'find', 'read', (operator) => find(ctx, parts, operator)));
  router.get('/console/accounts/:sub', (ctx) => audited(ctx, parts, 'show', 'read', (operator) => show(ctx, parts, operator)));
  router.get('/console/accounts/:sub/export', (ctx) => audited(ctx, parts, 'export', 'read', (operator) => exportData(ctx, parts, operator)));
  router.post('/console/accounts/:sub/logout', (ctx) => audited(ctx, parts, 'logout', 'write', (operator) => logout(ctx, parts, operator)));
  router.post('/console/accounts/:sub/logout-session', (ctx) => audited(ctx, parts, 'logout-session', 'write', (operator) => endOne(ctx, parts, operator, 'logout-session')));
  router.post('/console/accounts/:sub/revoke', (ctx) => audited(ctx, parts, 'revoke', 'write', (operator) => endOne(ctx, parts, operator, 'revoke')));
  router.post('/console/accounts/:sub/unlink', (ctx) => audited(ctx, parts, 'unlink', 'write', (operator) => unlink(ctx, parts, operator)));
  router.post('/console/accounts/:sub/suspend', (ctx) => audited(ctx, parts, 'suspend', 'write', (operator) => suspension(ctx, parts, operator, 'suspend')));
  router.post('/console/accounts/:sub/reinstate', (ctx) => audited(ctx, parts, 'reinstate', 'write', (operator) => suspension(ctx, parts, operator, 'reinstate')));
  router.get('/console/accounts/:sub/delete', async (ctx) => {
    const sub = pathSub(ctx);
    if (await operatorOf(ctx, parts, 'write', 'delete')) consoleDeletePage(ctx, sub ?? String(ctx.params.sub));
  });
  router.post('/console/accounts/:sub/delete', (ctx) => audited(ctx, parts, 'delete', 'write', (operator) => erase(ctx, parts, operator)));
  router.get('/console/suspended', (ctx) => audited(ctx, parts, 'suspensions', 'read', async (operator) => {
    consoleSuspendedPage(ctx, operator, suspendedView(await parts.personalData.suspended()));
    return { outcome: 'ok' };
  }));
  router.get('/console/diagnostics', (ctx) => audited(ctx, parts, 'diagnostics', 'read', async (operator) => {
    const findings = await parts.diagnose();
    consoleDiagnosticsPage(ctx, operator, findings);
    return { outcome: findings.some((finding) => finding.verdict === 'fail') ? 'failed' : 'ok' };
  }));
  return router;
}
