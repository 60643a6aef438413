// Follow-to-login (扫码关注登录) on a desktop: the page shows the Official Account's
// temporary parametric QR code (drawn here from WeChat's `url`, with the `qrcode` library)
// and a matching code; the person scans it with WeChat and follows (or, following already,
// opens the account); WeChat pushes the event to upstreams/wechat-follow/follow-events.ts on any instance, which
// sends the scanner a link to confirm in WeChat (follow-confirm.ts). This page polls; once
// the scanner confirmed (or declined) it posts `finish`, which takes the answer once, asks
// WeChat for the follower's unionid and logs the person in like every other login (or
// gives the app access_denied).
//   GET  /interaction/:uid/follow          {state: waiting | scanned | confirmed | declined | expired}
//   POST /interaction/:uid/follow/finish   the login, the refusal, or back to a fresh QR code

import type { Context } from 'koa';
import QRCode from 'qrcode';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { clientDisplay } from '../oidc/client-display.ts';
import type { Interaction } from '../oidc/interactions.ts';
import { langOf } from '../pages/html.ts';
import { appName } from '../pages/i18n.ts';
import { errorPage } from '../pages/error-pages.ts';
import { followPage } from '../pages/login-pages.ts';
import { WeChatError } from '../wechat/errors.ts';
import type { Openid } from '../wechat/types.ts';
import { acrForApp } from './claims.ts';
import { failurePage } from '../pages/failure-pages.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';
import { FollowScenes } from '../upstreams/wechat-follow/follow-scenes.ts';
import { browserName } from '../http/browser-name.ts';
import { DECLINED_IN_WECHAT } from './handoff.ts';
import { lostLoginPage } from './lost-login.ts';
import type { Login } from './login.ts';
import { clientOf, factsOf } from './carry-out.ts';
import { linkingRefusal } from './linking-refusals.ts';
import { send } from './answer.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type FollowParts = Pick<Login, 'apps' | 'end' | 'followQrBudget' | 'handoffs' | 'interactions' | 'linker' | 'log' | 'metrics' | 'scenes' | 'upstreams'>;

/** A QR code lives at most this long (and never beyond its interaction). */
const QR_TTL_S = 10 * 60;

/** WeChat failed: the page the one policy (wechat/failures.ts) calls for, and the operator told why. */
function weChatFailed(ctx: Context, login: FollowParts, app: ConfiguredApp, error: WeChatError, uid: string): void {
  const { kind, note } = failureOf(error, app);
  login.log[note.level]({ uid, app: app.id, wechat: wechatFields(error) }, `follow-to-login: ${note.msg}`);
  login.metrics.login(login.upstreams.follow.way, kind === 'misconfigured' ? 'misconfigured' : 'unavailable');
  errorPage(ctx, failurePage(kind, `/interaction/${uid}?via=follow`));
}

/**
 * The QR content for this interaction: the one its page already shows (a reload shows the
 * same code until it expires), else a new code from WeChat while the broker-wide budget
 * allows (`qrcode/create` draws on the account's API quota, which everything the company
 * runs shares). Undefined after answering why not.
 */
async function qrFor(ctx: Context, login: FollowParts, interaction: Interaction, app: ConfiguredApp): Promise<string | undefined> {
  const { uid } = interaction;
  const shown = await login.scenes.shown(uid, app.id);
  if (shown) {
    login.metrics.followQr('reused');
    return shown.url;
  }
  const { perMinute, counters } = login.followQrBudget;
  if (perMinute > 0 && (await counters.hit('follow-qr', 60)).count > perMinute) {
    login.metrics.followQr('budget_spent');
    login.log.warn({ uid, app: app.id, perMinute }, 'follow-to-login: FOLLOW_QR_PER_MINUTE spent, no QR code created');
    ctx.set('retry-after', '60');
    return void errorPage(ctx, { kind: 'busy', status: 503, retryHref: `/interaction/${uid}?via=follow` });
  }
  const ttl = Math.max(30, Math.min(QR_TTL_S, interaction.exp - Math.floor(Date.now() / 1000)));
  const scene = FollowScenes.fresh();
  try {
    const url = await login.upstreams.follow.qr(app, scene, ttl);
    await login.scenes.open(scene, uid, app.id, ttl, { browser: browserName(ctx.get('user-agent')), lang: langOf(ctx), url });
    login.metrics.followQr('created');
    return url;
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    return void weChatFailed(ctx, login, app, error, uid);
  }
}

/** The follow-to-login page with this interaction's QR code. */
export async function startFollow(ctx: Context, login: FollowParts, interaction: Interaction, app: ConfiguredApp, qrToo: boolean): Promise<void> {
  const { uid } = interaction;
  const url = await qrFor(ctx, login, interaction, app);
  if (url === undefined) return;
  const client = await login.interactions.client(interaction);
  ctx.set('cache-control', 'no-store');
  followPage(ctx, {
    account: appName(langOf(ctx), app),
    qrSvg: await QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }),
    statusUrl: `/interaction/${uid}/follow`,
    match: login.handoffs.match(uid),
    finishAction: `/interaction/${uid}/follow/finish`,
    freshHref: `/interaction/${uid}?via=follow`,
    ...(qrToo ? { qrHref: `/interaction/${uid}?via=qr` } : {}),
    app: client && clientDisplay(client, langOf(ctx)),
    cancelAction: `/interaction/${uid}/cancel`,
  });
}

/** GET /interaction/:uid/follow: where the scan stands, for this browser's interaction only. */
export async function followStatus(ctx: Context, login: FollowParts): Promise<void> {
  const uid = String(ctx.params.uid);
  const interaction = await login.interactions.find(ctx, uid);
  ctx.set('cache-control', 'no-store');
  ctx.body = { state: interaction ? await login.scenes.state(uid) : 'expired' };
}

/** POST /interaction/:uid/follow/finish: the scanner's answer taken once; the person found or made, the login ended; or the refusal. */
export async function finishFollow(ctx: Context, login: FollowParts): Promise<void> {
  const uid = String(ctx.params.uid);
  const interaction = await login.interactions.find(ctx, uid);
  if (!interaction) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  const scan = await login.scenes.take(uid);
  const app = scan && login.apps.find((candidate) => candidate.id === scan.app);
  if (!scan || !app) return ctx.redirect(`/interaction/${uid}?via=follow`);
  if (scan.status === 'declined') {
    login.metrics.login(login.upstreams.follow.way, 'refused');
    return send(ctx, await login.end(ctx, DECLINED_IN_WECHAT));
  }
  try {
    const user = await login.upstreams.follow.complete(app, scan.openid as Openid);
    const account = await login.linker.resolve({ ...factsOf(user, clientOf(interaction)), device: browserName(ctx.get('user-agent')) });
    login.metrics.login(login.upstreams.follow.way, 'success');
    login.log.info({ uid, app: app.id, account: account.id }, 'follow-to-login succeeded');
    send(ctx, await login.end(ctx, { login: { accountId: account.id, acr: acrForApp(app.appid), amr: [`wechat_${login.upstreams.follow.way}`], remember: true } }));
  } catch (error) {
    if (error instanceof WeChatError) return weChatFailed(ctx, login, app, error, uid);
    const refused = linkingRefusal(error, `/interaction/${uid}?via=follow`);
    if (!refused) throw error;
    login.metrics.login(login.upstreams.follow.way, refused.metric);
    login.log[refused.note.level]({ uid, app: app.id }, `follow-to-login: ${refused.note.msg}`);
    errorPage(ctx, refused.page);
  }
}
