// The one place where a callback's outcome becomes the browser's answer. Every answer is
// kept with the attempt, so a repeat delivery of the same callback gets the same one; and
// every outcome is counted and logged with the WeChat request id when there is one.

import type { Context } from 'koa';
import { holdPhone } from './phone-holding.ts';
import { weComIdentity, type LoginFacts } from '../accounts/account.ts';
import { browserName } from '../http/browser-name.ts';
import { AccountConflictError, AccountSuspendedError, IdentityConflictError } from '../accounts/store.ts';
import { ACCOUNT_BUSY_NOTE, IDENTITY_CONFLICT_NOTE, SUSPENDED_NOTE, suspendedPage } from './linking-refusals.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import type { WeComPerson } from '../upstreams/wecom/wecom-login.ts';
import type { Interaction } from '../oidc/interactions.ts';
import { wechatFields } from '../wechat/failures.ts';
import type { WeChatUser } from '../wechat/types.ts';
import type { Attempt } from './attempts.ts';
import { acrForApp, acrForWeComApp } from './claims.ts';
import type { Outcome, UpstreamResult } from './decide.ts';
import type { Login } from './login.ts';
import { sendAtCallback, type Answer } from './answer.ts';
import { lostLoginPage, type LostLoginParts } from './lost-login.ts';
import { scopesTheSheetAsked } from './sheet-consent.ts';
import { auditConsent } from './consent.ts';
import type { Channel } from '../upstreams/choose.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type CarryOutParts = Pick<Login, 'attempts' | 'begin' | 'end' | 'linker' | 'holders' | 'log' | 'metrics'> & LostLoginParts;

/** A verified, claimed callback. */
export interface Callback {
  readonly interaction: Interaction;
  /** The state WeChat sent back. */
  readonly state: string;
  readonly app: ConfiguredApp | ConfiguredWeComApp;
  readonly attempt: Attempt;
}

/** The relying party an interaction logs the person in for. */
export function clientOf(interaction: Interaction): string | undefined {
  const id = interaction.params.client_id;
  return typeof id === 'string' ? id : undefined;
}

/** What a login for `client` tells the account store about the person WeChat vouched for. */
export function factsOf(user: WeChatUser, client: string | undefined): LoginFacts {
  return {
    identity: { appid: user.appid, openid: user.openid },
    unionid: user.unionid,
    profile: user.profile && { nickname: user.profile.nickname, picture: user.profile.avatar },
    ...(client === undefined ? {} : { client }),
  };
}

/**
 * The same for somebody WeCom vouched for: a person of their own kind, never with a
 * unionid; a member's name as the nickname; the email and mobile they consented to, as
 * unverified (the company's admins enter them; WeCom does not say the member proved them).
 */
function weComFactsOf(person: WeComPerson, client: string | undefined): LoginFacts {
  const detail = person.type === 'member' ? person.detail : undefined;
  const source = `wecom:${person.corpid}`;
  const contacts = {
    ...(detail?.email ? { email: { value: detail.email, verified: false, source } } : {}),
    ...(detail?.mobile ? { phone: { value: detail.mobile, verified: false, source } } : {}),
  };
  return {
    identity: weComIdentity(person.corpid, person),
    ...(person.type === 'member' && person.name ? { profile: { nickname: person.name } } : {}),
    ...(Object.keys(contacts).length ? { contacts } : {}),
    ...(client === undefined ? {} : { client }),
  };
}

/** The login's acr (the app it went through, OIDC Core 2) and amr. */
function methodOf(app: ConfiguredApp | ConfiguredWeComApp, attempt: Attempt): { acr: string; amr: string[] } {
  return app.kind === 'wecom' ? { acr: acrForWeComApp(app), amr: ['wecom'] } : { acr: acrForApp(attempt.appid), amr: [`wechat_${attempt.channel}`] };
}

/**
 * The account (found, made, completed or merged) logs in; the login remembers its app and
 * channel. What WeChat's sheet just asked on the relying party's behalf is its consent too.
 */
async function logIn(ctx: Context, login: CarryOutParts, { attempt, interaction, app }: Callback, user: WeChatUser | WeComPerson): Promise<{ answer: Answer; account: string }> {
  const client = clientOf(interaction);
  const facts = { ...'corpid' in user ? weComFactsOf(user, client) : factsOf(user, client), device: browserName(ctx.get('user-agent')) };
  const account = await login.linker.resolve(facts);
  const phone = facts.contacts?.phone?.value;
  if (phone !== undefined && account.contacts?.phone?.value === phone) await holdPhone(login.holders, login.log, phone, account.id, app.id);
  const asked = app.kind === 'wecom' ? [] : scopesTheSheetAsked(app, attempt, interaction);
  if (asked.length) auditConsent(login, interaction, account.id, 'wechat-sheet', asked);
  const consent = asked.length ? { consent: { grantId: await login.interactions.grantScopes(interaction, account.id, asked) } } : {};
  const answer = await login.end(ctx, { login: { accountId: account.id, ...methodOf(app, attempt), remember: true }, ...consent });
  return { answer, account: account.id };
}

function page({ interaction }: Callback, outcome: Extract<Outcome, { type: 'page' }>): Answer {
  return {
    type: 'page',
    page: { kind: outcome.page, status: outcome.status, ...(outcome.retry ? { retryHref: `/interaction/${interaction.uid}` } : {}), ...(outcome.until === undefined ? {} : { until: outcome.until }) },
  };
}

/** Linking refused: WeChat's answer would have merged two people. Nothing changed. */
const IDENTITY_CONFLICT: Extract<Outcome, { type: 'page' }> = {
  type: 'page', page: 'conflict', status: 409, retry: false, metric: 'identity_conflict', note: IDENTITY_CONFLICT_NOTE,
};

/**
 * The account kept changing under this login's writes (many logins of one person at the
 * same moment, past every retry): nothing is lost, the person is asked to try again, and a
 * silent login gives the relying party temporarily_unavailable.
 */
function accountBusy({ attempt }: Callback): Outcome {
  const note = ACCOUNT_BUSY_NOTE;
  return attempt.silent
    ? { type: 'rp-error', error: { error: 'temporarily_unavailable', error_description: 'the login could not be recorded now; try again' }, metric: 'account_busy', note }
    : { type: 'page', page: 'storage', status: 503, retry: true, metric: 'account_busy', note };
}

/**
 * An operator suspended the account: the person is told on a page of its own (403), with
 * the suspension's end when it has one; a silent login gives the relying party
 * access_denied (RFC 6749 4.1.2.1), no page.
 */
function suspended({ attempt }: Callback, error: AccountSuspendedError): Outcome {
  const { kind, status, until } = suspendedPage(error);
  return attempt.silent
    ? { type: 'rp-error', error: { error: 'access_denied', error_description: 'the account is suspended' }, metric: 'suspended', note: SUSPENDED_NOTE }
    : { type: 'page', page: kind, status, retry: false, metric: 'suspended', note: SUSPENDED_NOTE, ...(until === undefined ? {} : { until }) };
}

async function respondTo(ctx: Context, login: CarryOutParts, callback: Callback, outcome: Outcome): Promise<{ answer: Answer; account?: string; outcome: Outcome }> {
  switch (outcome.type) {
    case 'login':
      try {
        return { ...await logIn(ctx, login, callback, outcome.user), outcome };
      } catch (error) {
        if (error instanceof AccountConflictError) return respondTo(ctx, login, callback, accountBusy(callback));
        if (error instanceof AccountSuspendedError) return { ...await respondTo(ctx, login, callback, suspended(callback, error)), account: error.account };
        if (!(error instanceof IdentityConflictError)) throw error;
        return { answer: page(callback, IDENTITY_CONFLICT), account: error.account, outcome: IDENTITY_CONFLICT };
      }
    case 'again':
      return { answer: await login.begin(ctx, callback.interaction, outcome.attempt), outcome };
    case 'rp-error':
      return { answer: await login.end(ctx, outcome.error), outcome };
    case 'page':
      return { answer: page(callback, outcome), outcome };
  }
}

/** The operator's WeChat fields for a failed result: its kind, errcode and request id. */
function failedFields(result: UpstreamResult) {
  return result.type === 'failed' ? { wechat: { kind: result.error.code, ...wechatFields(result.error) } } : {};
}

export async function carryOut(ctx: Context, login: CarryOutParts, callback: Callback, decided: Outcome, result: UpstreamResult): Promise<void> {
  const { answer, account, outcome } = await respondTo(ctx, login, callback, decided);
  sendAtCallback(ctx, answer);
  await login.attempts.answer(callback.state, callback.attempt, answer);
  const { attempt, interaction } = callback;
  if ('metric' in outcome) login.metrics.login(attempt.channel, outcome.metric);
  if (outcome.note) {
    login.log[outcome.note.level]({
      uid: interaction.uid, ip: ctx.ip, channel: attempt.channel, appid: attempt.appid, scope: attempt.scope,
      client: interaction.params.client_id, ...(account ? { account } : {}), ...failedFields(result),
    }, outcome.note.msg);
  }
}

/**
 * The callback cannot be trusted (no live interaction in this browser, a state never
 * issued for it, a malformed code): a plain page, and the login is not completed. A
 * claimed attempt keeps this answer too.
 */
export async function refuseCallback(ctx: Context, login: CarryOutParts, channel: Channel | 'unknown' = 'unknown', claimed?: Callback): Promise<void> {
  login.metrics.login(channel, 'state_invalid');
  const answer: Answer = { type: 'page', page: await lostLoginPage(ctx, login, 'state') };
  sendAtCallback(ctx, answer);
  if (claimed) await login.attempts.answer(claimed.state, claimed.attempt, answer);
}
