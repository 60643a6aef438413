// Follow-to-login's confirmation, inside WeChat: the scanner got a link in the account's
// chat (upstreams/wechat-follow/follow-events.ts); it logs the desktop in only when the WeChat account that opens
// it is the one that scanned, and that person confirms, having seen which app asks, on
// which browser, with which matching code (the desktop shows the same code). This is what
// WeChat's own QR login does, and what stops "QR login jacking": a QR code sent to someone
// else ("scan for a coupon") logs nobody in.
//
//   GET  /f/:link           inside WeChat: web authorization (snsapi_base, silent) for the scanned account
//   GET  /f/:link/wechat    WeChat's callback: the same openid as the scan → the confirmation page
//   POST /f/:link/confirm   the desktop logs in
//   POST /f/:link/decline   the desktop's app gets access_denied
// Opened outside WeChat, by another WeChat account, a second time or after a few
// minutes: a plain page, and nobody is logged in.

import type { Context } from 'koa';
import type { ConfiguredApp } from '../wechat/apps.ts';
import { clientDisplay } from '../oidc/client-display.ts';
import { langOf } from '../pages/html.ts';
import { handoffConfirmPage, handoffNoticePage } from '../pages/confirm-pages.ts';
import { errorPage } from '../pages/error-pages.ts';
import { WeChatError } from '../wechat/errors.ts';
import { browserKind } from '../wechat/user-agent.ts';
import { isWeChatCode } from '../wechat/types.ts';
import { isLinkCode, type Scan } from '../upstreams/wechat-follow/follow-scenes.ts';
import { failurePage } from '../pages/failure-pages.ts';
import type { Login } from './login.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type FollowConfirmParts = Pick<Login, 'apps' | 'handoffs' | 'interactions' | 'issuer' | 'log' | 'scenes' | 'upstreams'>;

/** Set once WeChat named the scanner in this browser: the confirm and decline forms need it. */
const VERIFIED_COOKIE = 'follow_scanner';

const callbackOf = (login: FollowConfirmParts, link: string) => `${login.issuer}/f/${link}/wechat`;

/** The scan of the link, opened inside WeChat and still waiting for its answer; undefined after answering why not. */
async function scanOf(ctx: Context, login: FollowConfirmParts): Promise<{ scan: Scan; app: ConfiguredApp } | undefined> {
  if (browserKind(ctx.get('user-agent')) !== 'wechat') return void handoffNoticePage(ctx, 'not_wechat');
  const link = ctx.params.link;
  const scan = isLinkCode(link) ? await login.scenes.byLink(link) : undefined;
  const app = scan && login.apps.find((candidate) => candidate.id === scan.app && candidate.followLogin);
  if (!scan || !app) return void handoffNoticePage(ctx, 'expired', 404);
  if (scan.status !== 'scanned') return void handoffNoticePage(ctx, 'used', 409);
  return { scan, app };
}

/** GET /f/:link: WeChat names the person who opened it (silently: snsapi_base). */
async function openLink(ctx: Context, login: FollowConfirmParts): Promise<void> {
  const found = await scanOf(ctx, login);
  if (!found) return;
  const { scan, app } = found;
  ctx.set('cache-control', 'no-store');
  ctx.redirect(login.upstreams.web.authorizeUrl(app, { redirectUri: callbackOf(login, scan.link), scope: 'snsapi_base', state: login.handoffs.state(scan.link) }));
}

/** GET /f/:link/wechat: the person who opened the link is the one who scanned → the page that asks them. */
async function linkCallback(ctx: Context, login: FollowConfirmParts): Promise<void> {
  const found = await scanOf(ctx, login);
  if (!found) return;
  const { scan, app } = found;
  const code = ctx.query.code;
  if (ctx.query.state !== login.handoffs.state(scan.link) || !isWeChatCode(code)) {
    return errorPage(ctx, { kind: 'state', status: 400 });
  }
  let openid: string;
  try {
    ({ openid } = await login.upstreams.web.complete(app, { scope: 'snsapi_base', code, lang: 'zh_CN' }));
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    const { kind, note } = failureOf(error, app);
    login.log[note.level]({ uid: scan.uid, app: app.id, wechat: wechatFields(error) }, `follow-to-login confirmation: ${note.msg}`);
    return errorPage(ctx, failurePage(kind, `/f/${scan.link}`));
  }
  if (openid !== scan.openid) {
    login.log.warn({ uid: scan.uid, app: app.id, ip: ctx.ip }, 'follow-to-login confirmation opened by another WeChat account than the scanner: refused');
    return handoffNoticePage(ctx, 'other_account', 403);
  }
  ctx.cookies.set(VERIFIED_COOKIE, scan.link, { signed: true, httpOnly: true, sameSite: 'lax', path: `/f/${scan.link}`, maxAge: 10 * 60_000 });
  const client = await login.interactions.clientOf(scan.uid);
  ctx.set('cache-control', 'no-store');
  handoffConfirmPage(ctx, {
    ...(client ? { app: clientDisplay(client, langOf(ctx)) } : {}),
    browser: scan.browser,
    match: login.handoffs.match(scan.uid),
    confirmAction: `/f/${scan.link}/confirm`,
    declineAction: `/f/${scan.link}/decline`,
  });
}

/** POST /f/:link/confirm and /decline, from the page above (the page-form token, ops/page-forms.ts) in the browser WeChat vouched for. */
async function answer(ctx: Context, login: FollowConfirmParts, status: 'confirmed' | 'declined'): Promise<void> {
  const found = await scanOf(ctx, login);
  if (!found) return;
  const { scan, app } = found;
  if (ctx.cookies.get(VERIFIED_COOKIE, { signed: true }) !== scan.link) return errorPage(ctx, { kind: 'state', status: 400 });
  if (!await login.scenes.answer(scan, status)) return handoffNoticePage(ctx, 'used', 409);
  ctx.cookies.set(VERIFIED_COOKIE, null, { path: `/f/${scan.link}` });
  login.log.info({ uid: scan.uid, app: app.id, answer: status }, 'follow-to-login: the scanner answered in WeChat');
  handoffNoticePage(ctx, status === 'confirmed' ? 'done' : 'declined');
}

export const FOLLOW_CONFIRM_ROUTES = {
  open: openLink,
  callback: linkCallback,
  confirm: (ctx: Context, login: FollowConfirmParts) => answer(ctx, login, 'confirmed'),
  decline: (ctx: Context, login: FollowConfirmParts) => answer(ctx, login, 'declined'),
};
