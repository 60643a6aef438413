// The operator console's pages (/console): finding a person by any of their identifiers,
// what the broker holds about them (the admin API's view, for a person at a desk), and,
// for operators who may change things, signing them out everywhere, unlinking an identity
// and erasing the account after a confirmation; and the doctor's findings. Identifiers are
// shown as the protocols name them (sub, unionid, openid): operators match them with logs
// and tickets. Forms carry the page's token (ops/page-forms.ts).

import type { Context } from 'koa';
import { when } from './account-views.ts';
import { closeInWeChat } from './app-on-page.ts';
import { html, langOf, postForm, renderPage, type Html } from './html.ts';
import { t, type Lang, type MessageKey } from './i18n.ts';
import { toTraditional } from './traditional.ts';

export type ConsoleRole = 'read' | 'write';

/** The operator using the console. */
export interface OperatorOnPage {
  readonly sub: string;
  readonly role: ConsoleRole;
}

interface ContactView { readonly value: string; readonly source: string; readonly at: string | null }

/** An account as the admin API shows it (privacy/account-view.ts `accountView`). */
export interface ConsoleAccountView {
  readonly sub: string;
  readonly unionid: string | null;
  readonly identities: ReadonlyArray<{ readonly app: string | null; readonly appid: string; readonly openid: string; readonly wecom_corpid?: string; readonly wecom_userid?: string }>;
  readonly profile: { readonly nickname: string | null };
  readonly contacts: { readonly phone: ContactView | null; readonly email: ContactView | null };
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_login: ConsoleLoginView | null;
  readonly merged_from: readonly string[];
  readonly suspended: SuspensionView | null;
}

/** A suspension as the admin API shows it: when, by whom, why, and when it ends (null: until reinstated). */
export interface SuspensionView {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly until: string | null;
}

/** A login as the console shows it (privacy/account-view.ts `recentLoginView` or the account's `last_login`, its app named). */
export interface ConsoleLoginView {
  readonly at: string;
  readonly app: string | null;
  readonly appid: string;
  readonly client: string | null;
  /** Recent logins only: the browser or device it completed in. */
  readonly device?: string | null;
  /** Recent logins only: a device's login (RFC 8628) confirmed in `device` with its code. */
  readonly device_flow?: boolean;
  /** Recent logins only: when the person said it was not theirs. */
  readonly disowned_at?: string | null;
}

/** An operator's call about the person (privacy/access-log.ts), with who made it. */
export interface ConsoleAccessView {
  readonly at: number;
  readonly action: string;
  readonly by: string;
  readonly who?: string | undefined;
}

/** Its sessions and grants as the export shows them (privacy/account-view.ts `heldView`). */
export interface ConsoleHeldView {
  readonly sessions: ReadonlyArray<{ readonly uid: string | null; readonly logged_in_at: string | null; readonly clients: readonly string[]; readonly device: string | null }>;
  /** `own`: the grant of one of the broker's own pages, no relying party's (nothing to revoke). */
  readonly grants: ReadonlyArray<{ readonly client: string; readonly scope: string; readonly granted_at: string | null; readonly own?: boolean }>;
}

/** What the account's page can say was just done, and its words. */
const DONE_SAID = {
  logout: 'consoleLoggedOut', 'logout-session': 'consoleSessionLoggedOut', revoke: 'consoleRevoked', unlink: 'consoleUnlinked',
  suspend: 'consoleSuspendedDone', reinstate: 'consoleReinstatedDone',
} as const satisfies Record<string, MessageKey>;

export type ConsoleDone = keyof typeof DONE_SAID;

/** `said` (a query's `done`) when it is something the account's page can say was done. */
export const consoleDone = (said: unknown): ConsoleDone | undefined => (typeof said === 'string' && Object.hasOwn(DONE_SAID, said) ? said as ConsoleDone : undefined);

/** A doctor's finding (diagnostics/findings.ts). */
export interface FindingOnPage {
  readonly check: string;
  readonly subject: string;
  readonly verdict: 'ok' | 'fail' | 'unknown';
  readonly detail: string;
  readonly advice?: { readonly zh: string; readonly en: string } | undefined;
}

/** What the console's home page says above its forms: a search that found nothing, or why it named nobody. */
export type ConsoleNotice = { readonly kind: 'not_found' } | { readonly kind: 'invalid'; readonly detail: string };

const at = (lang: Lang, iso: string | null | undefined) => (iso ? when(lang, Date.parse(iso)) : '—');

/** `body`: the page's HTML, or made with the page's nonce (a script of its own). */
function consolePage(ctx: Context, title: string, body: Html | ((nonce: string) => Html), status = 200): void {
  renderPage(ctx, { title, status, wide: true, body: (nonce) => html`<section><h1>${title}</h1>${typeof body === 'function' ? body(nonce) : body}</section>` });
}

function whoAmI(lang: Lang, operator: OperatorOnPage): Html {
  return html`<p class="muted">${t(lang, 'consoleSignedInAs', { sub: operator.sub })} · ${t(lang, operator.role === 'write' ? 'consoleMayWrite' : 'consoleMayRead')}</p>`;
}

/** One search: a GET form to /console/find with its labelled fields. */
function findForm(lang: Lang, heading: MessageKey, fields: ReadonlyArray<readonly [name: string, label: string]>, apps?: ReadonlyArray<{ readonly appid: string; readonly name: string }>): Html {
  const id = (name: string) => `${heading}-${name}`;
  return html`<form method="get" action="/console/find"><fieldset><legend>${t(lang, heading)}</legend>
${apps ? html`<label for="${id('appid')}">${t(lang, 'consoleApp')}</label> <select id="${id('appid')}" name="appid">${apps.map((app) => html`<option value="${app.appid}">${app.name} (${app.appid})</option>`)}</select> ` : ''}
${fields.map(([name, label]) => html`<label for="${id(name)}">${label}</label> <input id="${id(name)}" name="${name}" required maxlength="128" autocomplete="off"> `)}
<button type="submit">${t(lang, 'consoleSearch')}</button></fieldset></form>`;
}

export function consoleHomePage(ctx: Context, operator: OperatorOnPage, apps: ReadonlyArray<{ readonly appid: string; readonly name: string }>, notice?: ConsoleNotice): void {
  const lang = langOf(ctx);
  const said = notice && (notice.kind === 'not_found' ? t(lang, 'consoleNotFound') : `${t(lang, 'consoleInvalid')} ${notice.detail}`);
  consolePage(ctx, t(lang, 'consoleTitle'), html`${whoAmI(lang, operator)}
${said ? html`<p role="alert">${said}</p>` : ''}
<h2>${t(lang, 'consoleFind')}</h2>
${findForm(lang, 'consoleFindBySub', [['sub', 'sub']])}
${findForm(lang, 'consoleFindByUnionid', [['unionid', 'unionid']])}
${apps.length ? findForm(lang, 'consoleFindByIdentity', [['openid', 'openid']], apps) : ''}
${findForm(lang, 'consoleFindByPhone', [['phone', t(lang, 'consolePhone')]])}
${findForm(lang, 'consoleFindByWeCom', [['wecom_corpid', 'corpid'], ['wecom_userid', 'userid']])}
${findForm(lang, 'consoleFindByWeComGuest', [['wecom_corpid', 'corpid'], ['wecom_openid', 'openid']])}
${findForm(lang, 'consoleFindByPairwise', [['client', 'client_id'], ['sub', 'sub']])}
<h2>${t(lang, 'consoleSuspended')}</h2><a class="button" href="/console/suspended">${t(lang, 'consoleSuspendedList')}</a>
<h2>${t(lang, 'consoleDiagnostics')}</h2><a class="button" href="/console/diagnostics">${t(lang, 'consoleDiagnosticsRun')}</a>`, notice ? (notice.kind === 'not_found' ? 404 : 400) : 200);
}

function rows(entries: ReadonlyArray<readonly [string, unknown]>): Html {
  return html`<table><tbody>${entries.map(([label, value]) => html`<tr><th scope="row">${label}</th><td>${value ?? '—'}</td></tr>`)}</tbody></table>`;
}

function table(lang: Lang, headings: readonly string[], body: readonly Html[]): Html {
  if (body.length === 0) return html`<p>${t(lang, 'consoleNone')}</p>`;
  return html`<table><thead><tr>${headings.map((heading) => html`<th scope="col">${heading}</th>`)}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A write operator's button in a table row: one form posting `field=value` to `action` (none without a value). */
function rowAction(ctx: Context, operator: OperatorOnPage, action: string, field: string, value: string | null | undefined, label: string): Html | '' {
  if (operator.role !== 'write' || !value) return '';
  return postForm(ctx, action, html`<input type="hidden" name="${field}" value="${value}"><button type="submit">${label}</button>`);
}

/** The account's identities; each may be unlinked but the last. */
function identityRows(ctx: Context, lang: Lang, account: ConsoleAccountView, operator: OperatorOnPage): Html[] {
  const action = `/console/accounts/${encodeURIComponent(account.sub)}/unlink`;
  const unlinkable = account.identities.length > 1;
  return account.identities.map((identity) => html`<tr><td>${identity.app ?? '—'}</td><td>${identity.appid}</td><td>${identity.wecom_userid ? `${identity.wecom_corpid}/${identity.wecom_userid}` : identity.openid}</td>
<td>${rowAction(ctx, operator, action, 'appid', unlinkable ? identity.appid : undefined, t(lang, 'consoleUnlink'))}</td></tr>`);
}

function heldTables(ctx: Context, lang: Lang, operator: OperatorOnPage, base: string, held: ConsoleHeldView): Html {
  const sessions = held.sessions.map((session) => html`<tr><td>${at(lang, session.logged_in_at)}</td><td>${session.device ?? '—'}</td><td>${session.clients.join(', ')}</td>
<td>${rowAction(ctx, operator, `${base}/logout-session`, 'uid', session.uid, t(lang, 'consoleLogoutSession'))}</td></tr>`);
  const grants = held.grants.map((grant) => html`<tr><td>${grant.client}</td><td>${grant.scope}</td><td>${at(lang, grant.granted_at)}</td>
<td>${rowAction(ctx, operator, `${base}/revoke`, 'client', grant.own ? undefined : grant.client, t(lang, 'consoleRevoke'))}</td></tr>`);
  return html`<h2>${t(lang, 'consoleSessions')}</h2>
${table(lang, [t(lang, 'consoleLoggedInAt'), t(lang, 'consoleDevice'), 'client_id', ''], sessions)}
<h2>${t(lang, 'consoleGrants')}</h2>
${table(lang, ['client_id', 'scope', t(lang, 'consoleGrantedAt'), ''], grants)}`;
}

function contact(lang: Lang, view: ContactView | null): string | undefined {
  return view ? `${view.value} (${view.source}, ${at(lang, view.at)})` : undefined;
}

/** Where a recent login completed; a device's login (RFC 8628) as where its code was confirmed. */
function deviceOf(lang: Lang, login: ConsoleLoginView): string {
  if (!login.device) return '—';
  return login.device_flow ? t(lang, 'consoleDeviceFlow', { device: login.device }) : login.device;
}

/** What the console shows of one account: its identities, sessions and grants, and what the operator may do. */
export function consoleAccountPage(ctx: Context, operator: OperatorOnPage, account: ConsoleAccountView, held: ConsoleHeldView & { readonly logins: readonly ConsoleLoginView[]; readonly accesses: readonly ConsoleAccessView[] }, said: { readonly done?: ConsoleDone | undefined; readonly reasonMax: number; readonly suspensionDays: readonly number[] }): void {
  const { done } = said;
  const lang = langOf(ctx);
  const base = `/console/accounts/${encodeURIComponent(account.sub)}`;
  const last = account.last_login;
  consolePage(ctx, t(lang, 'consoleAccountTitle'), html`${whoAmI(lang, operator)}<p><a href="/console">${t(lang, 'consoleBack')}</a></p>
${done ? html`<p role="status">${t(lang, DONE_SAID[done])}</p>` : ''}
${rows([
    ['sub', account.sub], ['unionid', account.unionid], [t(lang, 'consoleNickname'), account.profile.nickname],
    [t(lang, 'consoleCreated'), at(lang, account.created_at)], [t(lang, 'consoleUpdated'), at(lang, account.updated_at)],
    [t(lang, 'consoleLastLogin'), last && `${at(lang, last.at)} · ${last.app ?? last.appid}${last.client ? ` · ${last.client}` : ''}`],
    [t(lang, 'consolePhone'), contact(lang, account.contacts.phone)], [t(lang, 'consoleEmail'), contact(lang, account.contacts.email)],
    [t(lang, 'consoleMergedFrom'), account.merged_from.join(', ') || undefined],
    [t(lang, 'consoleSuspension'), account.suspended && `${at(lang, account.suspended.at)} · ${account.suspended.by} · ${account.suspended.reason} · ${t(lang, 'consoleSuspendUntil')} ${until(lang, account.suspended)}`],
  ])}
<h2>${t(lang, 'consoleIdentities')}</h2>
${table(lang, [t(lang, 'consoleApp'), 'appid', 'openid', ''], identityRows(ctx, lang, account, operator))}
${heldTables(ctx, lang, operator, base, held)}
<h2>${t(lang, 'consoleLogins')}</h2>
${table(lang, [t(lang, 'consoleAccessAt'), t(lang, 'consoleApp'), 'client_id', t(lang, 'consoleDevice'), t(lang, 'consoleLoginDisowned')],
  held.logins.map((login) => html`<tr><td>${at(lang, login.at)}</td><td>${login.app ?? login.appid}</td><td>${login.client ?? '—'}</td><td>${deviceOf(lang, login)}</td><td>${login.disowned_at ? at(lang, login.disowned_at) : '—'}</td></tr>`))}
<h2>${t(lang, 'consoleAccesses')}</h2>
${table(lang, [t(lang, 'consoleAccessAt'), t(lang, 'consoleAccessBy'), t(lang, 'consoleAccessWho'), t(lang, 'consoleAccessAction')],
  held.accesses.map((access) => html`<tr><td>${when(lang, access.at)}</td><td>${access.by}</td><td>${access.who ?? '—'}</td><td>${access.action}</td></tr>`))}
<a class="button" href="${base}/export" download>${t(lang, 'consoleExport')}</a>
${operator.role === 'write' ? html`${postForm(ctx, `${base}/logout`, html`<button class="button" type="submit">${t(lang, 'consoleLogout')}</button>`)}
<a class="button" href="${base}/delete">${t(lang, 'consoleDelete')}</a>
${suspension(ctx, lang, base, account, said)}` : ''}`);
}

/**
 * A write operator's suspension form (the reason it needs, for how long, from now); for a
 * suspended account, the reinstatement and the same form to change the suspension (its
 * reason as it is).
 */
function suspension(ctx: Context, lang: Lang, base: string, account: ConsoleAccountView, limits: { readonly reasonMax: number; readonly suspensionDays: readonly number[] }): Html {
  const { suspended } = account;
  const days = new Intl.NumberFormat(lang, { style: 'unit', unit: 'day', unitDisplay: 'long' });
  const form = postForm(ctx, `${base}/suspend`, html`<label for="reason">${t(lang, 'consoleSuspendReason')}</label>
<input id="reason" name="reason" required maxlength="${limits.reasonMax}" autocomplete="off" value="${suspended?.reason ?? ''}">
<label for="days">${t(lang, 'consoleSuspendFor')}</label>
<select id="days" name="days">${suspended?.until ? html`<option value="keep" selected>${t(lang, 'consoleSuspendKeepEnd', { until: at(lang, suspended.until) })}</option>` : ''}<option value="">${t(lang, 'consoleSuspendUntilReinstated')}</option>${limits.suspensionDays.map((count) => html`<option value="${String(count)}">${days.format(count)}</option>`)}</select>
<button class="button danger" type="submit">${t(lang, suspended ? 'consoleSuspendChange' : 'consoleSuspend')}</button>`);
  if (!suspended) return form;
  return html`${postForm(ctx, `${base}/reinstate`, html`<button class="button" type="submit">${t(lang, 'consoleReinstate')}</button>`)}${form}`;
}

/** When a suspension ends, or that it lasts until an operator lifts it. */
const until = (lang: Lang, suspension: SuspensionView) => (suspension.until ? at(lang, suspension.until) : t(lang, 'consoleSuspendUntilReinstated'));

/** Every suspended account (the latest first), each a link to its page, with when, by whom and why. */
export function consoleSuspendedPage(ctx: Context, operator: OperatorOnPage, suspended: ReadonlyArray<SuspensionView & { readonly sub: string }>): void {
  const lang = langOf(ctx);
  const rowsOf = suspended.map((entry) => html`<tr><td><a href="/console/accounts/${encodeURIComponent(entry.sub)}">${entry.sub}</a></td><td>${at(lang, entry.at)}</td><td>${entry.by}</td><td>${entry.reason}</td><td>${until(lang, entry)}</td></tr>`);
  consolePage(ctx, t(lang, 'consoleSuspended'), html`${whoAmI(lang, operator)}<p><a href="/console">${t(lang, 'consoleBack')}</a></p>
${table(lang, ['sub', t(lang, 'consoleAccessAt'), t(lang, 'consoleAccessWho'), t(lang, 'consoleSuspendReasonShort'), t(lang, 'consoleSuspendUntil')], rowsOf)}`);
}

/** A suspension without a reason it can keep: say what one must be, and back to the account. */
export function consoleReasonPage(ctx: Context, sub: string): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleSuspend'), html`<p role="alert">${t(lang, 'consoleReasonInvalid')}</p><a class="button" href="/console/accounts/${encodeURIComponent(sub)}">${t(lang, 'consoleBack')}</a>`, 400);
}

/** Erasing an account: what it means, confirmed by a second step. */
export function consoleDeletePage(ctx: Context, sub: string): void {
  const lang = langOf(ctx);
  const base = `/console/accounts/${encodeURIComponent(sub)}`;
  consolePage(ctx, t(lang, 'consoleDelete'), html`<p>${t(lang, 'consoleDeleteQuestion', { sub })}</p>
${postForm(ctx, `${base}/delete`, html`<button class="button danger" type="submit">${t(lang, 'consoleDeleteConfirm')}</button>`)}
<a class="button" href="${base}">${t(lang, 'consoleDeleteCancel')}</a>`);
}

export function consoleErasedPage(ctx: Context, sub: string): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleErasedTitle'), html`<p role="status">${t(lang, 'consoleErasedBody', { sub })}</p><a class="button" href="/console">${t(lang, 'consoleBack')}</a>`);
}

function advice(lang: Lang, finding: FindingOnPage): string {
  if (!finding.advice) return '';
  if (lang === 'en') return finding.advice.en;
  return lang === 'zh-TW' ? toTraditional(finding.advice.zh) : finding.advice.zh;
}

export function consoleDiagnosticsPage(ctx: Context, operator: OperatorOnPage, findings: readonly FindingOnPage[]): void {
  const lang = langOf(ctx);
  const failed = findings.some((finding) => finding.verdict === 'fail');
  consolePage(ctx, t(lang, 'consoleDiagnostics'), html`${whoAmI(lang, operator)}<p><a href="/console">${t(lang, 'consoleBack')}</a></p>
<p role="status">${t(lang, failed ? 'consoleSomeFailed' : 'consoleAllPassed')}</p>
${table(lang, [t(lang, 'consoleVerdict'), t(lang, 'consoleCheck'), t(lang, 'consoleDetail')], findings.map((finding) => html`<tr><td>${t(lang, `consoleVerdict_${finding.verdict}`)}</td><td>${finding.check} · ${finding.subject}</td><td>${finding.detail}${finding.advice ? html`<br>${advice(lang, finding)}` : ''}</td></tr>`))}`);
}

/** Signed in, but not an operator: the `sub` to give whoever sets CONSOLE_OPERATORS. */
export function consoleNotOperatorPage(ctx: Context, sub: string): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleNotOperatorTitle'), html`<p>${t(lang, 'consoleNotOperator', { sub })}</p>`, 403);
}

/** An operator who may look, asking to change. */
export function consoleReadOnlyPage(ctx: Context): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleTitle'), html`<p>${t(lang, 'consoleReadOnly')}</p><a class="button" href="/console">${t(lang, 'consoleBack')}</a>`, 403);
}

/** Not signed in here (or back from a sign-in that did not happen): a way to sign in. */
export function consoleSignedOutPage(ctx: Context, signIn: string): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleTitle'), html`<p>${t(lang, 'consoleSignedOut')}</p><a class="button primary" href="${signIn}">${t(lang, 'consoleSignIn')}</a>`);
}

/** The console is for a browser at a desk: not WeChat's, whose cookies a shared phone's other WeChat account may inherit. A way to close the page there (no back button). */
export function consoleNotInWeChatPage(ctx: Context): void {
  const lang = langOf(ctx);
  consolePage(ctx, t(lang, 'consoleTitle'), (nonce) => html`<p>${t(lang, 'consoleNotInWeChat')}</p>${closeInWeChat(ctx, lang, nonce)}`, 400);
}
