// The admin API (JSON), for an operator's tools: who a person is and where they logged in
// from, and everything the broker holds about them (PIPL article 45). Every call is audited,
// refused ones included: a log line with the calling client (`unknown` when the token names
// none), the action, the target identifier as the request gave it (sub, appid, unionid,
// openid), the outcome and the `sub` found (never profile data), and a metric. Probing for
// people by identifier is thus attributable. Lookups are by key; no pagination.
//   GET /admin/accounts/:sub             the account, its last login and the subs merged into it
//                                        (a merged-away sub answers with the surviving one)
//   GET /admin/accounts?unionid=…        lookup by unionid
//   GET /admin/accounts?appid=…&openid=… lookup by one WeChat identity
//   GET /admin/accounts?wecom_corpid=…&wecom_userid=…  lookup of a WeCom member
//   GET /admin/accounts?wecom_corpid=…&wecom_openid=…  lookup of a WeCom non-member
//   GET /admin/accounts?phone=…          lookup by a phone number (a mini program's phone button's, a WeCom member's)
//   GET /admin/accounts/:sub/export      everything held about the person, one document
//   GET /admin/accounts/:sub/accesses    the operators' audited calls about the person, with who made each
//   GET /admin/accounts/:sub/logins      the person's recent logins (when, app, client, device; any they disowned)
//   DELETE /admin/accounts/:sub          erasure (PIPL article 47): the account, its sessions,
//                                        grants and tokens; relying parties are told
//   DELETE /admin/accounts/:sub/identities/:appid
//                                        unlink one identity: it logs in as a new account
//   POST /admin/accounts/:sub/logout     sign the person out everywhere
//   DELETE /admin/accounts/:sub/sessions/:uid   sign them out of one browser or device (the export's session `uid`)
//   DELETE /admin/accounts/:sub/grants/:client  take one relying party's access away (it is told)
//   PUT /admin/accounts/:sub/suspension  {"reason": "…", "until"?: RFC 3339}: suspend the person
//                                        (signed out everywhere, no login or token until reinstated
//                                        or until `until`)
//   DELETE /admin/accounts/:sub/suspension  reinstate them
//   GET /admin/suspensions               every suspended account, the latest first
//   GET /admin/diagnostics               npm run doctor's findings (diagnostics/), as JSON
//   GET /admin/openapi.json              all of the above described for tools (OpenAPI 3.1; no token:
//                                        it says nothing the README does not)
// Reading takes accounts:read, changing accounts:write, the diagnostics diagnostics:read.

import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { isAccountId, REASON_MAX, suspensionEnd, suspensionReason, type Account, type AccountId } from '../accounts/account.ts';
import { UnlinkRefusedError, type AccountStore } from '../accounts/store.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import { accessesView, accountView as view, findAccount, keyOf, loginsView, lookupsOf, requestTarget, signedOutView, suspendedView } from '../privacy/account-view.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import { readBody } from '../http/read-body.ts';
import { ACCOUNTS_READ, ACCOUNTS_WRITE, caller, DIAGNOSTICS_READ, refuse, type AdminScope } from './auth.ts';
import { anyFailed, type Finding } from '../diagnostics/findings.ts';
import { auditAdminCall } from '../privacy/admin-audit.ts';
import { openApiDocument } from './openapi.ts';

export interface AdminParts {
  readonly provider: Provider;
  readonly accounts: AccountStore;
  readonly personalData: PersonalData;
  readonly apps: readonly ConfiguredApp[];
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  /** What pairwise subs are made from, to find the account behind one (find with client and sub). */
  readonly pairwiseSecret: string | undefined;
  /** The doctor's checks, run on the broker's own clients and storage. */
  readonly diagnose: () => Promise<Finding[]>;
}

type Action = 'show' | 'find' | 'export' | 'accesses' | 'logins' | 'delete' | 'unlink' | 'logout' | 'logout-session' | 'revoke' | 'suspend' | 'reinstate' | 'suspensions' | 'diagnostics';


/** The identifiers the request names, as it gave them: what the call was about. */
const targetOf = (ctx: Context) => requestTarget(ctx.params, ctx.query);

/** One audited call: authorization first, then `run`, which answers and says what came of it. */
async function audited(ctx: Context, parts: AdminParts, action: Action, scope: AdminScope, run: (client: string) => Promise<{ outcome: string; sub?: string }>): Promise<void> {
  ctx.set('cache-control', 'no-store');
  const target = targetOf(ctx);
  const who = await caller(ctx, parts.provider, scope);
  if (!('client' in who)) {
    auditAdminCall(parts.log, parts.metrics, { client: who.refusedClient ?? 'unknown', action, target, outcome: who.error ?? 'no_token' }, { ip: ctx.ip, reason: who.description });
    return refuse(ctx, who);
  }
  const { outcome, sub } = await run(who.client);
  auditAdminCall(parts.log, parts.metrics, { client: who.client, action, target, outcome, sub });
  await parts.personalData.accessed({ sub, outcome, action, by: 'admin', who: who.client });
}

function notFound(ctx: Context): { outcome: string } {
  ctx.status = 404;
  ctx.body = { error: 'not_found' };
  return { outcome: 'not_found' };
}

function badRequest(ctx: Context, description: string, status = 400): { outcome: string } {
  ctx.status = status;
  ctx.body = { error: 'invalid_request', error_description: description };
  return { outcome: 'invalid_request' };
}

/** The path's `:sub` when it can be one. */
function pathSub(ctx: Context): AccountId | undefined {
  const sub = String(ctx.params.sub);
  return isAccountId(sub) ? sub : undefined;
}

async function byPathSub(ctx: Context, parts: AdminParts): Promise<Account | undefined> {
  const sub = pathSub(ctx);
  return sub && parts.accounts.findById(sub);
}

export function adminRoutes(parts: AdminParts): Router {
  const router = new Router();
  router.get('/admin/openapi.json', openApiDocument(parts.provider.issuer));
  router.get('/admin/accounts', (ctx) => audited(ctx, parts, 'find', ACCOUNTS_READ, () => find(ctx, parts)));
  router.get('/admin/accounts/:sub', (ctx) => audited(ctx, parts, 'show', ACCOUNTS_READ, () => show(ctx, parts)));
  router.get('/admin/accounts/:sub/export', (ctx) => audited(ctx, parts, 'export', ACCOUNTS_READ, () => exportOf(ctx, parts)));
  router.get('/admin/accounts/:sub/accesses', (ctx) => audited(ctx, parts, 'accesses', ACCOUNTS_READ, () => accesses(ctx, parts)));
  router.get('/admin/accounts/:sub/logins', (ctx) => audited(ctx, parts, 'logins', ACCOUNTS_READ, () => logins(ctx, parts)));
  router.delete('/admin/accounts/:sub', (ctx) => audited(ctx, parts, 'delete', ACCOUNTS_WRITE, (client) => erase(ctx, parts, client)));
  router.get('/admin/diagnostics', (ctx) => audited(ctx, parts, 'diagnostics', DIAGNOSTICS_READ, () => diagnostics(ctx, parts)));
  router.delete('/admin/accounts/:sub/identities/:appid', (ctx) => audited(ctx, parts, 'unlink', ACCOUNTS_WRITE, (client) => unlink(ctx, parts, client)));
  router.post('/admin/accounts/:sub/logout', (ctx) => audited(ctx, parts, 'logout', ACCOUNTS_WRITE, (client) => logout(ctx, parts, client)));
  router.delete('/admin/accounts/:sub/sessions/:uid', (ctx) => audited(ctx, parts, 'logout-session', ACCOUNTS_WRITE, (client) => endOne(ctx, parts, client, 'session')));
  router.delete('/admin/accounts/:sub/grants/:client', (ctx) => audited(ctx, parts, 'revoke', ACCOUNTS_WRITE, (client) => endOne(ctx, parts, client, 'grant')));
  router.put('/admin/accounts/:sub/suspension', (ctx) => audited(ctx, parts, 'suspend', ACCOUNTS_WRITE, (client) => suspend(ctx, parts, client)));
  router.delete('/admin/accounts/:sub/suspension', (ctx) => audited(ctx, parts, 'reinstate', ACCOUNTS_WRITE, (client) => reinstate(ctx, parts, client)));
  router.get('/admin/suspensions', (ctx) => audited(ctx, parts, 'suspensions', ACCOUNTS_READ, () => suspensions(ctx, parts)));
  return router;
}

/** GET …/:sub: the account. */
async function show(ctx: Context, parts: AdminParts): Promise<{ outcome: string; sub?: string }> {
  const account = await byPathSub(ctx, parts);
  if (!account) return notFound(ctx);
  ctx.body = view(account, parts.apps);
  return { outcome: 'ok', sub: account.id };
}

/** GET …/:sub/export: everything held about the person, as a download. */
async function exportOf(ctx: Context, parts: AdminParts): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  const exported = sub && await parts.personalData.export(sub, parts.provider.issuer);
  if (!exported) return notFound(ctx);
  ctx.set('content-disposition', `attachment; filename="account-${exported.account.sub}.json"`);
  ctx.body = exported;
  return { outcome: 'ok', sub: exported.account.sub };
}

/** GET …/:sub/accesses: the operators' audited calls about the person, with which client or operator made each (the console's list). */
async function accesses(ctx: Context, parts: AdminParts): Promise<{ outcome: string; sub?: string }> {
  const account = await byPathSub(ctx, parts);
  if (!account) return notFound(ctx);
  ctx.body = accessesView(account, await parts.personalData.accessesOf(account.id));
  return { outcome: 'ok', sub: account.id };
}

/** GET …/:sub/logins: the person's recent logins (what their page lists), for the company's security review. */
async function logins(ctx: Context, parts: AdminParts): Promise<{ outcome: string; sub?: string }> {
  const account = await byPathSub(ctx, parts);
  if (!account) return notFound(ctx);
  ctx.body = loginsView(account, await parts.personalData.loginsOf(account.id), parts.apps);
  return { outcome: 'ok', sub: account.id };
}

/** DELETE …/:sub: straight to the erasure, which also finishes one that was interrupted (and is still a 404). */
async function erase(ctx: Context, parts: AdminParts, client: string): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  const erased = sub && await parts.personalData.erase(sub, { by: 'admin', client });
  if (!erased) return notFound(ctx);
  ctx.status = 204;
  return { outcome: 'ok', sub: erased.id };
}

/** GET /admin/diagnostics: the doctor's findings. */
async function diagnostics(ctx: Context, parts: AdminParts): Promise<{ outcome: string }> {
  const findings = await parts.diagnose();
  ctx.body = { failed: anyFailed(findings), findings };
  return { outcome: anyFailed(findings) ? 'failed' : 'ok' };
}

/** GET /admin/accounts?…: by WeChat's or WeCom's identifiers, a phone number, or a pairwise client's sub (one pass over the accounts). */
async function find(ctx: Context, parts: AdminParts): Promise<{ outcome: string; sub?: string }> {
  const found = await findAccount(parts.accounts, keyOf(ctx.query), lookupsOf(parts.provider, parts.pairwiseSecret, parts.accounts, parts.personalData));
  if (typeof found === 'string') return badRequest(ctx, found);
  if (!found) return notFound(ctx);
  ctx.body = view(found, parts.apps);
  return { outcome: 'ok', sub: found.id };
}

/** DELETE …/sessions/:uid, …/grants/:client: one browser's session, or one relying party's access, ends; 204, or 404 when there was none. */
async function endOne(ctx: Context, parts: AdminParts, client: string, what: 'session' | 'grant'): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  const by = { by: 'admin', client } as const;
  const ended = sub !== undefined && (what === 'session'
    ? await parts.personalData.logoutSession(sub, String(ctx.params.uid), by)
    : await parts.personalData.revoke(sub, String(ctx.params.client), by));
  if (!ended) return notFound(ctx);
  ctx.status = 204;
  return { outcome: 'ok', sub };
}

/** POST /admin/accounts/:sub/logout: every session and grant of the person ends (their tokens with them); the account stays. */
async function logout(ctx: Context, parts: AdminParts, client: string): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  const done = sub && await parts.personalData.logout(sub, { by: 'admin', client });
  if (!done) return notFound(ctx);
  ctx.body = signedOutView(done.account, done.held);
  return { outcome: 'ok', sub: done.account.id };
}

/** The suspension a JSON body asks for (its `reason`, and `until` when it is to end by itself), or what is wrong with the body. */
async function suspensionAsked(ctx: Context): Promise<{ reason: string; until?: number } | string> {
  const body = ctx.is('application/json') ? jsonOf(await readBody(ctx)) : undefined;
  const reason = suspensionReason(body?.reason);
  if (!reason) return `the body must be JSON with a "reason": why, in 1 to ${REASON_MAX} characters, on one line`;
  if (body?.until === undefined) return { reason };
  const until = suspensionEnd(body.until, Date.now());
  return until === undefined ? '"until", when given, must be a date-time to come, in RFC 3339 with its offset (2027-01-31T00:00:00+08:00)' : { reason, until };
}

function jsonOf(text: string): { reason?: unknown; until?: unknown } | undefined {
  try {
    return (JSON.parse(text) as { reason?: unknown; until?: unknown } | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** PUT …/suspension: the person is suspended (and signed out everywhere); the account as it now is. */
async function suspend(ctx: Context, parts: AdminParts, client: string): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  if (!sub) return notFound(ctx);
  const asked = await suspensionAsked(ctx);
  if (typeof asked === 'string') return badRequest(ctx, asked);
  const done = await parts.personalData.suspend(sub, asked, { by: 'admin', client });
  if (!done) return notFound(ctx);
  ctx.body = view(done.account, parts.apps);
  return { outcome: 'ok', sub: done.account.id };
}

/** GET /admin/suspensions: each suspended account's `sub` with its suspension (when, by whom, why). */
async function suspensions(ctx: Context, parts: AdminParts): Promise<{ outcome: string }> {
  ctx.body = { suspended: suspendedView(await parts.personalData.suspended()) };
  return { outcome: 'ok' };
}

/** DELETE …/suspension: the person may sign in again; the account as it now is. */
async function reinstate(ctx: Context, parts: AdminParts, client: string): Promise<{ outcome: string; sub?: string }> {
  const sub = pathSub(ctx);
  const account = sub && await parts.personalData.reinstate(sub, { by: 'admin', client });
  if (!account) return notFound(ctx);
  ctx.body = view(account, parts.apps);
  return { outcome: 'ok', sub: account.id };
}

/** Unlinks the account's identity in the app `:appid`; 409 when it is the account's only one. */
async function unlink(ctx: Context, parts: AdminParts, client: string): Promise<{ outcome: string; sub?: string }> {
  const account = await byPathSub(ctx, parts);
  const identity = account?.identities.find((known) => known.appid === ctx.params.appid);
  if (!account || !identity) return notFound(ctx);
  try {
    const unlinked = await parts.personalData.unlink(account.id, identity, { by: 'admin', client });
    if (!unlinked) return notFound(ctx);
    ctx.body = view(unlinked, parts.apps);
    return { outcome: 'ok', sub: unlinked.id };
  } catch (error) {
    if (!(error instanceof UnlinkRefusedError)) throw error;
    return { ...badRequest(ctx, error.message, 409), sub: account.id };
  }
}
