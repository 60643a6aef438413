// Two simulated pages around Official Accounts. A parametric QR code's content URL
// (`/q/<ticket>`, or `/q/latest` for the newest): what WeChat shows the person who scanned
// it, with a choice of simulated WeChat user; following (or opening) pushes the event.
//   GET  /q/:ticket          POST /q/:ticket   (user)
// The mp.weixin.qq.com page where an Official Account's administrator authorizes
// a third-party platform: opened only from a page on a registered domain (WeChat checks the
// Referer), with a live pre_auth_code of the platform; the administrator picks the account
// (the real page asks them to scan with the administrator's WeChat), WeChat pushes the
// `authorized` event to the platform, and sends the browser back to redirect_uri with an
// auth_code.
//   GET  /cgi-bin/componentloginpage?component_appid&pre_auth_code&redirect_uri&auth_type
//   POST /_sim/component-authorize   (the administrator's choice)

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { esc, page, wechatErrorPage } from './html.ts';
import { pushAuthorization, scanSceneQr, type Reply } from './platform-pushes.ts';
import { SIM_USERS, type SimPlatform, type SimWorld } from './world.ts';

type Query = Record<string, string | undefined>;

/** The request's platform and where to go back, or WeChat's error page. */
function requestOf(ctx: Context, world: SimWorld, q: Query, spend: boolean): { platform: SimPlatform; back: URL } | undefined {
  const platform = world.platforms.find(q.component_appid);
  if (!platform) return void wechatErrorPage(ctx, 61001, '参数错误：component_appid 无效');
  if (!q.pre_auth_code || !world.platforms.preAuthCode(platform, q.pre_auth_code, spend)) return void wechatErrorPage(ctx, 61006, '授权链接已过期，请重新获取');
  let back: URL;
  try {
    back = new URL(q.redirect_uri ?? '');
  } catch {
    return void wechatErrorPage(ctx, 61007, '参数错误：redirect_uri 无效');
  }
  return { platform, back };
}

function loginPage(ctx: Context, world: SimWorld): void {
  const q = ctx.query as Query;
  let referer: string | undefined;
  try {
    referer = new URL(ctx.get('referer')).host;
  } catch {
    referer = undefined;
  }
  if (!referer || !world.callbackHosts.has(referer)) return wechatErrorPage(ctx, 61003, '请从第三方平台的授权发起页域名打开此链接');
  const request = requestOf(ctx, world, q, false);
  if (!request) return;
  world.calls.push({ path: ctx.path, appid: request.platform.appid });
  const hidden = ['component_appid', 'pre_auth_code', 'redirect_uri']
    .map((key) => `<input type="hidden" name="${key}" value="${esc(q[key])}">`).join('');
  const accounts = world.apps.filter((app) => app.kind === 'mp');
  page(ctx, '公众号授权', `<h3>授权给第三方平台</h3><p><small>模拟器：管理员扫码后选择要授权的公众号</small></p>
<form method="post" action="/_sim/component-authorize">${hidden}
${accounts.map((app) => `<button class="ok" name="account" value="${esc(app.appid)}">授权 ${esc(app.appid)}</button>`).join('\n')}</form>`);
}

async function authorize(ctx: Context, world: SimWorld): Promise<void> {
  const form = Object.fromEntries(new URLSearchParams(await readBody(ctx))) as Query;
  const account = world.app(form.account);
  if (account?.kind !== 'mp') return wechatErrorPage(ctx, 400, '参数错误');
  const request = requestOf(ctx, world, form, true);
  if (!request) return;
  const code = world.platforms.authorize(request.platform, account);
  await pushAuthorization(request.platform, account.appid, code);
  request.back.searchParams.set('auth_code', code);
  request.back.searchParams.set('expires_in', '3600');
  ctx.redirect(request.back.href);
}

/** The account's reply as the chat shows it: text, with its `<a href>` links (and nothing else) as links. */
function chatOf(reply: Reply): string {
  if (reply.kind === 'none') return '';
  if (reply.kind === 'failed') return `<p class="notice">${esc(reply.shown)}</p>`;
  const text = esc(reply.content).replace(/&lt;a href=&quot;(https?:\/\/[^&<>]+)&quot;&gt;(.*?)&lt;\/a&gt;/g, '<a href="$1">$2</a>');
  return `<p><small>公众号回复（模拟器：链接需在微信中打开）</small></p><blockquote class="chat" style="white-space:pre-wrap">${text}</blockquote>`;
}

function sceneQrPage(ctx: Context, world: SimWorld): void {
  const ticket = String(ctx.params.ticket);
  const qr = world.sceneQr(ticket === 'latest' ? undefined : ticket);
  if (!qr || qr.expiresAt <= Date.now()) return wechatErrorPage(ctx, 40001, '二维码已过期');
  page(ctx, '关注公众号', `<h3>扫码关注公众号</h3><p><small>模拟器：用哪个微信账号扫码？未关注的会先关注</small></p>
<form method="post" action="/q/${esc(qr.ticket)}">${SIM_USERS.filter((user) => !user.snapshot)
    .map((user) => `<button class="ok" name="user" value="${esc(user.id)}">${esc(user.nickname)}</button>`).join('\n')}</form>`);
}

async function scanFromPage(ctx: Context, world: SimWorld): Promise<void> {
  const qr = world.sceneQr(String(ctx.params.ticket));
  const user = world.user(new URLSearchParams(await readBody(ctx)).get('user') ?? undefined);
  if (!qr || qr.expiresAt <= Date.now() || !user || user.snapshot) return wechatErrorPage(ctx, 400, '二维码已过期或参数错误');
  const { event, reply } = await scanSceneQr(world, qr, user);
  page(ctx, '已关注', `<h3>${event === 'subscribe' ? '已关注' : '已进入公众号'}</h3><p>${esc(user.nickname)}</p>${chatOf(reply)}`);
}

export function platformPages(world: SimWorld): Router {
  const router = new Router();
  router.get('/q/:ticket', (ctx) => sceneQrPage(ctx, world));
  router.post('/q/:ticket', (ctx) => scanFromPage(ctx, world));
  router.get('/cgi-bin/componentloginpage', (ctx) => loginPage(ctx, world));
  router.post('/_sim/component-authorize', (ctx) => authorize(ctx, world));
  return router;
}
