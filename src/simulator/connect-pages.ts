// The simulator's first face: the pages a person sees at WeChat. wxLogin.js, the
// Official Account authorize page (inside the WeChat browser), the website QR page, and
// the forms behind them (which WeChat account the phone is logged in to; allow or refuse).

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { deliver, esc, page, wechatErrorPage } from './html.ts';
import { wecomAuthorize } from './wecom-pages.ts';
import { wxLoginJs } from './wxlogin.ts';
import { PHONE_USER_COOKIE, SIM_USERS, type SimApp, type SimAppKind, type SimPlatform, type SimScope, type SimUser, type SimWorld } from './world.ts';

// A mobile app's authorization happens in the WeChat app (the OpenSDK), never on a page: its codes come from /_sim/codes.
const SCOPES: Record<SimAppKind, readonly SimScope[]> = { mp: ['snsapi_base', 'snsapi_userinfo'], open: ['snsapi_login'], miniprogram: [], app: [] };

interface AuthorizeParams {
  readonly app: SimApp;
  readonly redirectUri: URL;
  readonly scope: SimScope;
  readonly state: string;
  /** Authorization on the account's behalf (`component_appid`): the platform. */
  readonly component?: SimPlatform;
}

type Query = Record<string, string | undefined>;

/** The app of an authorize request, or WeChat's error page. */
function appOf(ctx: Context, world: SimWorld, q: Query, kind: SimAppKind): SimApp | undefined {
  if (!q.appid) return void wechatErrorPage(ctx, 10013, '参数错误：缺少 appid');
  const app = world.app(q.appid);
  if (!app) return void wechatErrorPage(ctx, 10013, '参数错误：appid 无效');
  if (app.kind === kind) return app;
  return void (kind === 'mp'
    ? wechatErrorPage(ctx, 10016, '不支持开放平台 appid 进行网页授权')
    : wechatErrorPage(ctx, 10015, '该应用不是网站应用'));
}

/** The redirect_uri of an authorize request: on a registered callback domain, or WeChat's error page. */
function redirectUriOf(ctx: Context, world: SimWorld, q: Query): URL | undefined {
  if (!q.redirect_uri) return void wechatErrorPage(ctx, 10011, '参数错误：缺少 redirect_uri');
  let redirectUri: URL;
  try {
    redirectUri = new URL(q.redirect_uri);
  } catch {
    return void wechatErrorPage(ctx, 10003, 'redirect_uri 参数错误');
  }
  if (!world.callbackHosts.has(redirectUri.host)) return void wechatErrorPage(ctx, 10003, 'redirect_uri 域名与后台配置不一致');
  return redirectUri;
}

/** The permission set of web authorization on an account's behalf (网页服务). */
const WEB_SERVICE = 4;

/** `component_appid`: a platform the account authorized (or none asked); WeChat's error page otherwise. */
function componentOf(ctx: Context, world: SimWorld, q: Query, app: SimApp): { component?: SimPlatform } | undefined {
  if (q.component_appid === undefined) return {};
  const component = world.platforms.find(q.component_appid);
  if (!component || app.kind !== 'mp') return void wechatErrorPage(ctx, 10013, '参数错误：component_appid 无效');
  if (!component.authorizers.has(app.appid)) return void wechatErrorPage(ctx, 10016, '该公众号未授权给此第三方平台');
  // Web authorization on the account's behalf needs the web service permission set (id 4).
  // WeChat's errcode for its absence is not in the reference: the simulator shows 10016 too.
  if (!world.platforms.permissions(component, app.appid).includes(WEB_SERVICE)) return void wechatErrorPage(ctx, 10016, '该公众号未授权给此第三方平台网页服务权限');
  return { component };
}

/** Validates an authorize request the way WeChat does; answers WeChat's error page otherwise. */
function authorizeParams(ctx: Context, world: SimWorld, q: Query, kind: SimAppKind): AuthorizeParams | undefined {
  const app = appOf(ctx, world, q, kind);
  const component = app && componentOf(ctx, world, q, app);
  const redirectUri = component && redirectUriOf(ctx, world, q);
  if (!app || !component || !redirectUri) return undefined;
  if (!q.scope) return void wechatErrorPage(ctx, 10010, '参数错误：缺少 scope');
  if (!(SCOPES[kind] as readonly string[]).includes(q.scope)) return void wechatErrorPage(ctx, 10005, 'Scope 参数错误或没有 Scope 权限');
  if (q.state === undefined) return void wechatErrorPage(ctx, 10014, '参数错误：缺少 state');
  if (Buffer.byteLength(q.state) > 128 || !/^[A-Za-z0-9]*$/.test(q.state)) return void wechatErrorPage(ctx, 10014, 'state参数过长');
  return { app, redirectUri, scope: q.scope as SimScope, state: q.state, ...component };
}

/** The callback: `extra` (the code), the state, and on the account's behalf its `appid`. */
function callbackUrl(params: AuthorizeParams, extra: Record<string, string>): string {
  const url = new URL(params.redirectUri);
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  url.searchParams.set('state', params.state);
  if (params.component) url.searchParams.set('appid', params.app.appid);
  return url.href;
}

/** A code for the person's authorization of these parameters. */
function codeFor(world: SimWorld, params: AuthorizeParams, user: SimUser): string {
  return world.issueCode(params.app, user, params.scope, undefined, params.component?.appid);
}

/** The decision forms: pick a user (allow), refuse either way WeChat does, deliver twice. */
function decisionForm(ctx: Context, users: readonly SimUser[], target: string): string {
  const hidden = Object.entries(ctx.query)
    .map(([key, value]) => `<input type="hidden" name="${esc(key)}" value="${esc(value)}">`).join('');
  return `<form method="post" action="/_sim/decide" target="${target}">${hidden}
${users.map((user) => `<button class="ok" name="user" value="${esc(user.id)}">允许 · ${esc(user.nickname)}${user.snapshot ? ' (朋友圈快照)' : ''}</button>`).join('\n')}
<label><input type="checkbox" name="twice" value="1"> 回调投递两次 (deliver the callback twice)</label>
<button name="refuse" value="authdeny">拒绝 (code=authdeny)</button>
<button name="refuse" value="nocode">拒绝 (no code)</button></form>`;
}

function serveWxLogin(ctx: Context): void {
  ctx.type = 'application/javascript';
  ctx.body = wxLoginJs(`${ctx.protocol}://${ctx.host}`);
}

function choosePhoneUserPage(ctx: Context): void {
  page(ctx, '选择微信账号', `<h3>模拟器：这台手机上登录的是哪个微信账号？</h3>
<form method="post" action="/_sim/phone-user">${SIM_USERS.map((u) => `<button name="user" value="${esc(u.id)}">${esc(u.nickname)}</button>`).join('')}
<input type="hidden" name="return" value="${esc(ctx.url)}"></form>`);
}

/** GET /connect/oauth2/authorize: Official Account web authorization, inside WeChat only. */
function webAuthorize(ctx: Context, world: SimWorld): void {
  // WeCom's in-client authorization is on the same page, for a corpid (wecom-pages.ts).
  if (world.corp(ctx.query.appid as string | undefined)) return wecomAuthorize(ctx, world);
  if (!/MicroMessenger/i.test(ctx.get('user-agent'))) return wechatErrorPage(ctx, '', '请在微信客户端打开链接');
  const params = authorizeParams(ctx, world, ctx.query as Query, 'mp');
  if (!params) return;
  world.calls.push({ path: ctx.path, appid: params.app.appid, scope: params.scope, ...(params.component ? { component: params.component.appid } : {}) });
  const user = world.user(ctx.cookies.get(PHONE_USER_COOKIE));
  if (!user) return choosePhoneUserPage(ctx);
  if (params.scope === 'snsapi_base' || (world.hasAllowed(user, params.app) && !user.snapshot)) {
    return deliver(ctx, callbackUrl(params, { code: codeFor(world, params, user) }), world.takeTwice());
  }
  page(ctx, '授权', `<h3>${esc(user.snapshot ? '朋友圈快照页' : '网页授权')}</h3><p>该网页申请获取你的昵称、头像</p>
${decisionForm(ctx, [user], '_self')}<small>账号：${esc(user.nickname)}</small>`);
}

/** GET /connect/qrconnect: the website app's QR page (compact inside wxLogin.js's iframe). */
function qrConnect(ctx: Context, world: SimWorld): void {
  const params = authorizeParams(ctx, world, ctx.query as Query, 'open');
  if (!params) return;
  world.calls.push({ path: ctx.path, appid: params.app.appid, scope: params.scope });
  page(ctx, '微信登录', `<h3>微信登录</h3><div class="qr" title="QR"></div><p><small>模拟器：选择扫码的微信用户</small></p>
${decisionForm(ctx, SIM_USERS.filter((u) => !u.snapshot), '_top')}`, ctx.query.login_type === 'jssdk');
}

/** POST /_sim/phone-user: which WeChat account the simulated phone is logged in to. */
async function choosePhoneUser(ctx: Context, world: SimWorld): Promise<void> {
  const form = new URLSearchParams(await readBody(ctx));
  const user = world.user(form.get('user') ?? undefined);
  const back = form.get('return') ?? '';
  if (!user || !back.startsWith('/connect/')) return wechatErrorPage(ctx, 400, '参数错误');
  ctx.cookies.set(PHONE_USER_COOKIE, user.id, { httpOnly: true, sameSite: 'lax' });
  ctx.redirect(back);
}

/** POST /_sim/decide: the person allowed (as one user) or refused. */
async function decide(ctx: Context, world: SimWorld): Promise<void> {
  const form = new URLSearchParams(await readBody(ctx));
  const q = Object.fromEntries(form);
  const params = authorizeParams(ctx, world, q, q.scope === 'snsapi_login' ? 'open' : 'mp');
  if (!params) return;
  const twice = form.get('twice') === '1' || world.takeTwice();
  const refuse = form.get('refuse');
  if (refuse) return deliver(ctx, callbackUrl(params, refuse === 'authdeny' ? { code: 'authdeny' } : {}), twice);
  const user = world.user(form.get('user') ?? undefined);
  if (!user) return wechatErrorPage(ctx, 400, '参数错误');
  deliver(ctx, callbackUrl(params, { code: codeFor(world, params, user) }), twice);
}

export function connectPages(world: SimWorld): Router {
  const router = new Router();
  router.get('/connect/zh_CN/htmledition/js/wxLogin.js', serveWxLogin);
  router.get('/connect/oauth2/authorize', (ctx) => webAuthorize(ctx, world));
  router.get('/connect/qrconnect', (ctx) => qrConnect(ctx, world));
  router.post('/_sim/phone-user', (ctx) => choosePhoneUser(ctx, world));
  router.post('/_sim/decide', (ctx) => decide(ctx, world));
  return router;
}
