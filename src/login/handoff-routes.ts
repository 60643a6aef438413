// The hand-off's routes (login/handoff.ts says what it is for):
//
//   inside WeChat, from the short link:
//     GET  /h/:code           which app and browser ask, the matching code; confirm or decline
//     POST /h/:code/confirm   WeChat web authorization for this hand-off (snsapi_userinfo)
//     POST /h/:code/decline   the waiting browser gives the app access_denied
//     GET  /h/:code/wechat    WeChat's callback: the person, linked as in any login
//   in the browser that waits:
//     GET  /interaction/:uid/handoff         the hand-off's status (polled)
//     POST /interaction/:uid/handoff/finish  the login (or the refusal) lands at the app

import type { Context } from 'koa';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { clientDisplay } from '../oidc/client-display.ts';
import { langOf } from '../pages/html.ts';
import { handoffConfirmPage, handoffNoticePage } from '../pages/confirm-pages.ts';
import { errorPage, errorSentence, type ErrorData } from '../pages/error-pages.ts';
import { WeChatError } from '../wechat/errors.ts';
import { browserKind } from '../wechat/user-agent.ts';
import { acrForApp } from './claims.ts';
import { DECLINED_IN_WECHAT, isHandoffCode, type Handoff } from './handoff.ts';
import type { Login } from './login.ts';
import { failurePage } from '../pages/failure-pages.ts';
import { appsOfClient } from '../upstreams/choose.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';
import { factsOf } from './carry-out.ts';
import { linkingRefusal } from './linking-refusals.ts';
import { send } from './answer.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type HandoffParts = Pick<Login, 'apps' | 'end' | 'handoffs' | 'interactions' | 'issuer' | 'linker' | 'log' | 'metrics' | 'upstreams'>;

const CONFIRMED_COOKIE = 'handoff';

/** The Official Account the waiting login's client uses (its `wechat_apps`, in order), direct or through its platform. */
async function webAppOf(login: HandoffParts, uid: string): Promise<ConfiguredApp | undefined> {
  const client = await login.interactions.clientOf(uid);
  return appsOfClient(login.apps, client).find((app) => app.kind === 'mp');
}
const callbackOf = (login: HandoffParts, code: string) => `${login.issuer}/h/${code}/wechat`;

/** The hand-off of the link, inside WeChat; undefined after answering why not. */
async function handoffOf(ctx: Context, login: HandoffParts): Promise<{ code: string; handoff: Handoff } | undefined> {
  if (browserKind(ctx.get('user-agent')) !== 'wechat') return void handoffNoticePage(ctx, 'not_wechat');
  const code = ctx.params.code;
  const handoff = isHandoffCode(code) ? await login.handoffs.find(code) : undefined;
  if (!code || !handoff) return void handoffNoticePage(ctx, 'expired', 404);
  return { code, handoff };
}

async function showHandoff(ctx: Context, login: HandoffParts): Promise<void> {
  const found = await handoffOf(ctx, login);
  if (!found) return;
  const { code, handoff } = found;
  if (handoff.status !== 'waiting') return handoffNoticePage(ctx, 'used', 409);
  const client = await login.interactions.clientOf(handoff.uid);
  handoffConfirmPage(ctx, {
    ...(client ? { app: clientDisplay(client, langOf(ctx)) } : {}),
    browser: handoff.browser,
    match: login.handoffs.match(handoff.uid),
    confirmAction: `/h/${code}/confirm`,
    declineAction: `/h/${code}/decline`,
  });
}

async function confirmHandoff(ctx: Context, login: HandoffParts): Promise<void> {
  const found = await handoffOf(ctx, login);
  const app = found && await webAppOf(login, found.handoff.uid);
  if (!found || !app) return found ? errorPage(ctx, { kind: 'misconfigured', status: 503 }) : undefined;
  if (!await login.handoffs.move(found.code, 'waiting', { status: 'confirmed', failure: undefined, until: undefined })) return handoffNoticePage(ctx, 'used', 409);
  // The callback must come back to this browser, the one that confirmed.
  ctx.cookies.set(CONFIRMED_COOKIE, found.code, { httpOnly: true, sameSite: 'lax', path: `/h/${found.code}`, maxAge: 10 * 60_000 });
  ctx.status = 303;
  ctx.redirect(login.upstreams.web.authorizeUrl(app, { redirectUri: callbackOf(login, found.code), scope: 'snsapi_userinfo', state: login.handoffs.state(found.code) }));
}

async function declineHandoff(ctx: Context, login: HandoffParts): Promise<void> {
  const found = await handoffOf(ctx, login);
  if (!found) return;
  if (!await login.handoffs.move(found.code, 'waiting', { status: 'declined' })) return handoffNoticePage(ctx, 'used', 409);
  handoffNoticePage(ctx, 'declined');
}

/** WeChat's callback for a hand-off: the person, linked; the waiting browser may finish. */
async function handoffCallback(ctx: Context, login: HandoffParts): Promise<void> {
  const found = await handoffOf(ctx, login);
  const app = found && await webAppOf(login, found.handoff.uid);
  if (!found || !app) return;
  const { code, handoff } = found;
  const wechatCode = ctx.query.code;
  if (handoff.status !== 'confirmed' || ctx.cookies.get(CONFIRMED_COOKIE) !== code || ctx.query.state !== login.handoffs.state(code)) {
    return errorPage(ctx, { kind: 'state', status: 400 });
  }
  if (typeof wechatCode !== 'string' || wechatCode === '' || wechatCode === 'authdeny') {
    return answered(ctx, login, code, await login.handoffs.move(code, 'confirmed', { status: 'declined' }) && 'declined');
  }
  try {
    const user = await login.upstreams.web.complete(app, { scope: 'snsapi_userinfo', code: wechatCode, lang: 'zh_CN' });
    const client = await login.interactions.clientOf(handoff.uid);
    // The login completes in the browser that waits, which the hand-off named.
    const account = await login.linker.resolve({ ...factsOf(user, client?.clientId), device: handoff.browser });
    await vouched(ctx, login, { code, handoff, app }, { accountId: account.id, acr: acrForApp(app.appid), amr: ['wechat_web'] });
  } catch (error) {
    const refused = linkingRefusal(error);
    if (refused) {
      login.metrics.login(login.upstreams.web.way, refused.metric);
      login.log[refused.note.level]({ uid: handoff.uid, app: app.id }, `hand-off: ${refused.note.msg}`);
      await failedInWeChat(login, code, refused.page.kind, refused.page.until);
      return errorPage(ctx, refused.page);
    }
    if (!(error instanceof WeChatError)) throw error;
    const { kind, note } = failureOf(error, app);
    login.log[note.level]({ uid: handoff.uid, app: app.id, wechat: wechatFields(error) }, `hand-off: ${note.msg}`);
    await failedInWeChat(login, code, kind);
    errorPage(ctx, failurePage(kind, `/h/${code}`));
  }
}

/** WeChat named the person: the waiting browser may finish as them, if the hand-off still waits for this answer. */
async function vouched(ctx: Context, login: HandoffParts, { code, handoff, app }: { code: string; handoff: Handoff; app: ConfiguredApp }, result: NonNullable<Handoff['result']>): Promise<void> {
  const said = { uid: handoff.uid, ip: ctx.ip, appid: app.appid };
  const moved = await login.handoffs.move(code, 'confirmed', { status: 'done', result });
  if (moved) login.log.info({ ...said, account: result.accountId }, 'hand-off confirmed in WeChat');
  else login.log.info(said, 'hand-off confirmed in WeChat after it had ended: not used');
  return answered(ctx, login, code, moved && 'done');
}

/**
 * The page after a callback's answer: what it did, when the hand-off moved on with it; else the
 * hand-off ended meanwhile (it expired, or another of this link's callbacks answered first, in
 * another tab), the waiting browser follows that, and this page must not say "done" or "declined".
 */
async function answered(ctx: Context, login: HandoffParts, code: string, moved: 'done' | 'declined' | false): Promise<void> {
  if (moved) return handoffNoticePage(ctx, moved);
  return await login.handoffs.find(code) ? handoffNoticePage(ctx, 'used', 409) : handoffNoticePage(ctx, 'expired', 404);
}

/** The try in WeChat failed: the hand-off waits again (the error page's retry leads back to it), and the waiting browser learns why. */
async function failedInWeChat(login: HandoffParts, code: string, kind: string, until?: number): Promise<void> {
  await login.handoffs.move(code, 'confirmed', { status: 'waiting', failure: kind, ...(until === undefined ? {} : { until }) });
}

/**
 * The refusals another try in WeChat cannot mend (the account store's: the person's account
 * is suspended, or WeChat's answer would merge two people): the waiting browser says what the
 * phone's page said (with the suspension's end), not "try again in WeChat".
 */
const FINAL_REFUSALS: ReadonlySet<string> = new Set<ErrorData['kind']>(['suspended', 'conflict']);

/** What the waiting browser says of the hand-off's failure, when it is one of FINAL_REFUSALS. */
function saidOf(ctx: Context, handoff: Handoff): { said?: string } {
  if (!handoff.failure || !FINAL_REFUSALS.has(handoff.failure)) return {};
  const kind = handoff.failure as ErrorData['kind'];
  return { said: errorSentence(langOf(ctx), { kind, ...(handoff.until === undefined ? {} : { until: handoff.until }) }) };
}

/**
 * Polled by the waiting browser: `waiting` (with `failure` after a failed try in WeChat, and
 * `said`, the sentence to show, when trying again cannot help), `confirmed`, `done`,
 * `declined` or `expired`.
 */
async function handoffStatus(ctx: Context, login: HandoffParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  ctx.set('cache-control', 'no-store');
  if (!interaction) {
    ctx.status = 404;
    ctx.body = { status: 'expired' };
    return;
  }
  const handoff = await login.handoffs.find(login.handoffs.code(interaction.uid));
  ctx.body = { status: handoff?.status ?? 'expired', ...(handoff?.failure ? { failure: handoff.failure, ...saidOf(ctx, handoff) } : {}) };
}

/** The waiting browser lands at the app: logged in as the person WeChat named, or refused. */
async function finishHandoff(ctx: Context, login: HandoffParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  if (!interaction) return errorPage(ctx, { kind: 'interaction', status: 400 });
  const ready = await login.handoffs.find(login.handoffs.code(interaction.uid));
  if (!ready || (ready.status !== 'done' && ready.status !== 'declined')) return errorPage(ctx, { kind: 'state', status: 400 });
  const taken = await login.handoffs.take(interaction.uid);
  if (!taken) return errorPage(ctx, { kind: 'state', status: 400 });
  if (taken.status === 'declined' || !taken.result) return send(ctx, await login.end(ctx, DECLINED_IN_WECHAT));
  const { accountId, acr, amr } = taken.result;
  login.metrics.login('web', 'success');
  send(ctx, await login.end(ctx, { login: { accountId, acr, amr: [...amr], remember: true } }));
}

export const HANDOFF_ROUTES = {
  show: showHandoff,
  confirm: confirmHandoff,
  decline: declineHandoff,
  callback: handoffCallback,
  status: handoffStatus,
  finish: finishHandoff,
};
