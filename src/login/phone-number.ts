// POST /account/phone — a mini program that holds the broker's tokens for a person (the
// token exchange, mini-program.ts) hands over the code of a tap on its phone-number button:
//   Authorization: Bearer <access token with scope phone>   (or DPoP <token> with its DPoP proof)
//   code=<code> as a form, or {"code": "<code>"} as JSON
//   → 200 {"phone_number": "+86…", "phone_number_verified": true}
// The number is WeChat's verified one, kept on the account as the `phone` scope's claims
// (OIDC Core 5.4, 5.1: E.164) with its source and time. It is never a linking key: a number
// that moves to another account only makes a log line. The token is refused as RFC 6750 3
// says (oidc/access-tokens.ts); a body without a code, or a code WeChat refuses (used, expired,
// another app's or another person's), is 400 invalid_request; WeChat's quota (45011) or
// outage 503 temporarily_unavailable. Each failure is one log line and stores nothing.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { phoneButtonSource, type Account } from '../accounts/account.ts';
import type { AccountLinker } from '../accounts/linking.ts';
import type { PhoneHolders } from '../accounts/phone-holders.ts';
import { holdPhone } from './phone-holding.ts';
import { AccountConflictError } from '../accounts/store.ts';
import { readBody } from '../http/read-body.ts';
import type { Logger } from '../log.ts';
import { personToken, presentedToken, refuseToken, type PersonToken } from '../oidc/access-tokens.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import { appsOfClient } from '../upstreams/choose.ts';
import type { MiniProgramPhoneNumbers } from '../upstreams/wechat-mini/phone-numbers.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { WeChatError } from '../wechat/errors.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';
import type { E164 } from '../wechat/phone-number.ts';
import { isWeChatCode, type Openid } from '../wechat/types.ts';

export interface PhoneNumberParts {
  readonly provider: Provider;
  readonly apps: readonly ConfiguredApp[];
  readonly phones: MiniProgramPhoneNumbers;
  readonly linker: AccountLinker;
  readonly holders: PhoneHolders;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
}

type Outcome = 'refused' | 'unavailable' | 'misconfigured';

interface RefusalDetails {
  /** For the metric; `refused` unless said. */
  readonly outcome?: Outcome;
  /** The operator was told already (WeChat's failures, by the one policy). */
  readonly logged?: boolean;
  readonly retryAfterS?: number;
}

/** Why a request gets no number: the status and the OAuth error the mini program reads. */
class PhoneRefusal extends Error {
  readonly code = 'PHONE_REFUSED';
  readonly status: 400 | 401 | 503;
  readonly error: 'invalid_request' | 'invalid_token' | 'temporarily_unavailable';
  readonly details: RefusalDetails;

  constructor(status: PhoneRefusal['status'], error: PhoneRefusal['error'], description: string, details: RefusalDetails = {}) {
    super(description);
    this.name = 'PhoneRefusal';
    this.status = status;
    this.error = error;
    this.details = details;
  }
}

/** The code, from a form or a JSON body. */
async function codeOf(ctx: Context): Promise<string> {
  const text = await readBody(ctx);
  let code: unknown;
  if (ctx.is('application/json')) {
    try {
      code = (JSON.parse(text) as { code?: unknown } | null)?.code;
    } catch {
      code = undefined;
    }
  } else {
    code = new URLSearchParams(text).get('code');
  }
  if (!isWeChatCode(code)) throw new PhoneRefusal(400, 'invalid_request', 'expected code, the code of the phone-number button (as a form or JSON)');
  return code;
}

/** The client's mini program, and the person's openid in it (WeChat checks the code against it). */
function miniProgramOf(parts: PhoneNumberParts, token: PersonToken, account: Account): { app: ConfiguredApp; openid: Openid } {
  const app = appsOfClient(parts.apps, token.client).find((candidate) => candidate.kind === 'miniprogram');
  if (!app) throw new PhoneRefusal(400, 'invalid_request', 'the client has no mini program among its wechat_apps');
  const identity = account.identities.find((known) => known.appid === app.appid);
  if (!identity) throw new PhoneRefusal(400, 'invalid_request', 'the person has not logged in through the mini program: exchange a wx.login code first');
  return { app, openid: identity.openid };
}

/** WeChat's answer for the code: the number, or the refusal its failure comes to (one log line). */
async function redeem(parts: PhoneNumberParts, app: ConfiguredApp, code: string, openid: Openid): Promise<E164> {
  try {
    const redeemed = await parts.phones.redeem(app, code, openid);
    if ('number' in redeemed) return redeemed.number;
    parts.log.warn({ app: app.id, stampedFor: redeemed.foreign }, 'phone number refused: WeChat\'s answer is stamped (watermark.appid) for another app');
    throw new PhoneRefusal(400, 'invalid_request', 'the code belongs to another app', { logged: true });
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    const { kind, note } = failureOf(error, app);
    parts.log[note.level]({ app: app.id, wechat: wechatFields(error) }, `phone number: ${note.msg}`);
    if (kind === 'code' || kind === 'refused' || kind === 'snapshot') {
      throw new PhoneRefusal(400, 'invalid_request', 'the code is invalid, expired, already used, or not this person\'s', { logged: true });
    }
    const retryAfterS = error.code === 'WECHAT_RATE_LIMITED' ? 60 : undefined;
    if (kind === 'misconfigured') throw new PhoneRefusal(503, 'temporarily_unavailable', 'the phone number service is misconfigured; the operator has been told', { outcome: 'misconfigured', logged: true });
    throw new PhoneRefusal(503, 'temporarily_unavailable', 'WeChat is temporarily unavailable; try again in a minute', { outcome: 'unavailable', logged: true, retryAfterS });
  }
}

/** Keeps the number on the account; a number that was another account's is logged, never linked. */
async function keep(parts: PhoneNumberParts, account: Account, app: ConfiguredApp, number: E164): Promise<void> {
  try {
    const kept = await parts.linker.recordContact(account.id, 'phone', { value: number, verified: true, source: phoneButtonSource(app.appid) });
    if (!kept) throw new PhoneRefusal(401, 'invalid_token', 'the account no longer exists');
  } catch (error) {
    if (!(error instanceof AccountConflictError)) throw error;
    parts.log.warn({ app: app.id, account: account.id }, 'phone number not recorded: the account kept changing past every retry');
    throw new PhoneRefusal(503, 'temporarily_unavailable', 'the number could not be recorded now; try again', { outcome: 'unavailable', logged: true, retryAfterS: 1 });
  }
  await holdPhone(parts.holders, parts.log, number, account.id, app.id);
}

async function phoneNumber(ctx: Context, parts: PhoneNumberParts): Promise<void> {
  ctx.set('cache-control', 'no-store');
  const token = await personToken(ctx, parts.provider, 'phone');
  if (!('accountId' in token)) return refuseToken(ctx, 'phone', token);
  try {
    const code = await codeOf(ctx);
    const account = await parts.linker.byId(token.accountId as Account['id']);
    if (!account) throw new PhoneRefusal(401, 'invalid_token', 'the account no longer exists');
    const { app, openid } = miniProgramOf(parts, token, account);
    const number = await redeem(parts, app, code, openid);
    await keep(parts, account, app, number);
    parts.metrics.phoneNumber('stored');
    parts.log.info({ app: app.id, account: account.id, client: token.clientId }, 'phone number stored');
    ctx.body = { phone_number: number, phone_number_verified: true };
  } catch (error) {
    if (!(error instanceof PhoneRefusal)) throw error;
    const { outcome = 'refused', logged = false, retryAfterS } = error.details;
    parts.metrics.phoneNumber(outcome);
    if (!logged) parts.log.info({ client: token.clientId, reason: error.message }, 'phone number refused');
    if (retryAfterS) ctx.set('retry-after', String(retryAfterS));
    if (error.error === 'invalid_token') return refuseToken(ctx, 'phone', { status: 401, error: 'invalid_token', dpop: presentedToken(ctx)?.dpop });
    ctx.status = error.status;
    ctx.body = { error: error.error, error_description: error.message };
  }
}

export function phoneNumberRoutes(parts: PhoneNumberParts): Router {
  const router = new Router();
  router.post('/account/phone', (ctx) => phoneNumber(ctx, parts));
  return router;
}
