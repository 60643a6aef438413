// The WeChat simulator as a Koa app on its own port: the broker reaches it only over HTTP,
// like real WeChat. Connect pages (authorize, qrconnect, wxLogin.js) for the person, the
// /sns API for the broker, and /_sim/* for tests (fault injection, call log, clock).

import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { esc } from '../pages/html.ts';
import type { WeChatScope } from '../wechat/types.ts';
import { wxLoginJs } from './wxlogin.ts';
import {
  SIM_USERS, type FaultKind, type SimApp, type SimUser, type SimWorld,
} from './world.ts';

const USER_COOKIE = 'wxsim_user';
const rid = (): string => `${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;

/** WeChat's JSON answer: HTTP 200 and text/plain whatever happened. */
function answer(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = JSON.stringify(body);
}

function fail(ctx: Context, world: SimWorld, errcode: number, errmsg: string): void {
  world.calls.push({ path: ctx.path, appid: ctx.query.appid as string | undefined, errcode });
  const hint = Math.random() < 0.5 ? `rid: ${rid()}` : `hints: [ req_id: ${rid()} ]`;
  answer(ctx, { errcode, errmsg: `${errmsg}, ${hint}` });
}

/** Plays an injected fault; true when it answered the request. */
async function playFault(ctx: Context, world: SimWorld): Promise<boolean> {
  const fault: FaultKind | undefined = world.takeFault(ctx.path);
  if (!fault) return false;
  if (fault === 'slow') {
    await new Promise((resolve) => setTimeout(resolve, 1500).unref());
    return false;
  }
  // Errcode answers are recorded by fail(); the others are recorded here.
  if (fault !== 'busy' && !fault.startsWith('errcode:')) world.calls.push({ path: ctx.path, appid: ctx.query.appid as string | undefined });
  if (fault === 'busy') fail(ctx, world, -1, 'system error');
  else if (fault === 'garbage') { ctx.status = 200; ctx.type = 'text/plain'; ctx.body = '<html>502 Bad Gateway</html>'; }
  else if (fault === 'gbk-empty') { ctx.status = 200; ctx.type = 'text/html; charset=gbk'; ctx.body = ''; }
  else if (fault === 'timeout') { await new Promise((resolve) => setTimeout(resolve, 30_000).unref()); ctx.body = ''; }
  else fail(ctx, world, Number(fault.slice('errcode:'.length)), 'injected error');
  return true;
}

/** WeChat's own error page for a bad authorize request (never a redirect back). */
function wechatErrorPage(ctx: Context, code: number | string, text: string): void {
  ctx.status = 200;
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>微信</title></head>
<body><h2 class="wx-error">${esc(text)}</h2><p>错误码：<span class="errcode">${esc(code)}</span></p></body></html>`;
}

/** `compact`: drawn inside wxLogin.js's 300×400 iframe, which does not scroll. */
function page(ctx: Context, title: string, body: string, compact = false): void {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>body{font-family:sans-serif;background:#ededed;margin:0;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;max-width:360px;margin:0 auto}button{display:block;width:100%;padding:10px;margin:8px 0;border:0;border-radius:6px;font-size:15px}
.ok{background:#07c160;color:#fff}.qr{width:160px;height:160px;margin:8px auto;background:repeating-conic-gradient(#000 0 25%,#fff 0 50%) 0 0/20px 20px}
small{color:#888}body.compact{padding:4px}.compact .card{padding:8px}.compact h3{margin:2px 0;font-size:15px}
.compact .qr{width:64px;height:64px;margin:4px auto;background-size:8px 8px}.compact button{padding:5px;margin:4px 0;font-size:13px}
.compact label,.compact p{font-size:12px;margin:2px 0}</style></head><body class="${compact ? 'compact' : ''}"><div class="card">${body}</div></body></html>`;
}

interface AuthorizeParams {
  app: SimApp;
  redirectUri: URL;
  scope: WeChatScope;
  state: string;
}

/** Validates an authorize request the way WeChat does; answers WeChat's error page otherwise. */
function authorizeParams(ctx: Context, world: SimWorld, kind: SimApp['kind']): AuthorizeParams | undefined {
  const q = ctx.query as Record<string, string | undefined>;
  if (!q.appid) return void wechatErrorPage(ctx, 10013, '参数错误：缺少 appid');
  const app = world.app(q.appid);
  if (!app) return void wechatErrorPage(ctx, 10013, '参数错误：appid 无效');
  if (app.kind !== kind) {
    return void wechatErrorPage(ctx, kind === 'mp' ? 10016 : 10015,
      kind === 'mp' ? '不支持开放平台 appid 进行网页授权' : '该应用不是网站应用');
  }
  if (!q.redirect_uri) return void wechatErrorPage(ctx, 10011, '参数错误：缺少 redirect_uri');
  let redirectUri: URL;
  try {
    redirectUri = new URL(q.redirect_uri);
  } catch {
    return void wechatErrorPage(ctx, 10003, 'redirect_uri 参数错误');
  }
  if (!world.callbackHosts.has(redirectUri.host)) return void wechatErrorPage(ctx, 10003, 'redirect_uri 域名与后台配置不一致');
  const scopes: readonly string[] = kind === 'mp' ? ['snsapi_base', 'snsapi_userinfo'] : ['snsapi_login'];
  if (!q.scope) return void wechatErrorPage(ctx, 10010, '参数错误：缺少 scope');
  if (!scopes.includes(q.scope)) return void wechatErrorPage(ctx, 10005, 'Scope 参数错误或没有 Scope 权限');
  if (q.state === undefined) return void wechatErrorPage(ctx, 10014, '参数错误：缺少 state');
  if (Buffer.byteLength(q.state) > 128 || !/^[A-Za-z0-9]*$/.test(q.state)) return void wechatErrorPage(ctx, 10014, 'state参数过长');
  return { app, redirectUri, scope: q.scope as WeChatScope, state: q.state };
}

function callbackUrl(params: AuthorizeParams, extra: Record<string, string>): string {
  const url = new URL(params.redirectUri);
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  url.searchParams.set('state', params.state);
  return url.href;
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

/**
 * Redirects to the callback, or (twice) delivers it twice at once like WeChat sometimes
 * does: the browser drops the first delivery's answer (as when a navigation is replaced
 * by another), so the first request is sent without following its redirect.
 */
function deliver(ctx: Context, url: string, twice: boolean): void {
  if (!twice) return ctx.redirect(url);
  page(ctx, '跳转中', `<p>跳转中…</p><script>var u=${JSON.stringify(url).replace(/</g, '\\u003c')};
fetch(u,{credentials:'include',redirect:'manual'}).catch(function(){});location.replace(u);</script>`);
}

export function createSimulatorApp(world: SimWorld): Koa {
  const app = new Koa();
  const router = new Router();

  router.get('/connect/zh_CN/htmledition/js/wxLogin.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = wxLoginJs(`${ctx.protocol}://${ctx.host}`);
  });

  router.get('/connect/oauth2/authorize', (ctx) => {
    if (!/MicroMessenger/i.test(ctx.get('user-agent'))) return wechatErrorPage(ctx, '', '请在微信客户端打开链接');
    const params = authorizeParams(ctx, world, 'mp');
    if (!params) return;
    world.calls.push({ path: ctx.path, appid: params.app.appid, scope: params.scope });
    const user = world.user(ctx.cookies.get(USER_COOKIE));
    if (!user) {
      return page(ctx, '选择微信账号', `<h3>模拟器：这台手机上登录的是哪个微信账号？</h3>
<form method="post" action="/_sim/phone-user">${SIM_USERS.map((u) => `<button name="user" value="${esc(u.id)}">${esc(u.nickname)}</button>`).join('')}
<input type="hidden" name="return" value="${esc(ctx.url)}"></form>`);
    }
    if (params.scope === 'snsapi_base' || (world.hasAllowed(user, params.app) && !user.snapshot)) {
      return ctx.redirect(callbackUrl(params, { code: world.issueCode(params.app, user, params.scope) }));
    }
    page(ctx, '授权', `<h3>${esc(user.snapshot ? '朋友圈快照页' : '网页授权')}</h3><p>该网页申请获取你的昵称、头像</p>
${decisionForm(ctx, [user], '_self')}<small>账号：${esc(user.nickname)}</small>`);
  });

  router.get('/connect/qrconnect', (ctx) => {
    const params = authorizeParams(ctx, world, 'open');
    if (!params) return;
    world.calls.push({ path: ctx.path, appid: params.app.appid, scope: params.scope });
    page(ctx, '微信登录', `<h3>微信登录</h3><div class="qr" title="QR"></div><p><small>模拟器：选择扫码的微信用户</small></p>
${decisionForm(ctx, SIM_USERS.filter((u) => !u.snapshot), '_top')}`, ctx.query.login_type === 'jssdk');
  });

  router.post('/_sim/phone-user', async (ctx) => {
    const form = new URLSearchParams(await readBody(ctx));
    const user = world.user(form.get('user') ?? undefined);
    const back = form.get('return') ?? '';
    if (!user || !back.startsWith('/connect/')) return wechatErrorPage(ctx, 400, '参数错误');
    ctx.cookies.set(USER_COOKIE, user.id, { httpOnly: true, sameSite: 'lax' });
    ctx.redirect(back);
  });

  router.post('/_sim/decide', async (ctx) => {
    const form = new URLSearchParams(await readBody(ctx));
    ctx.query = Object.fromEntries(form);
    const qr = form.get('scope') === 'snsapi_login';
    const params = authorizeParams(ctx, world, qr ? 'open' : 'mp');
    if (!params) return;
    const twice = form.get('twice') === '1';
    const refuse = form.get('refuse');
    if (refuse) return deliver(ctx, callbackUrl(params, refuse === 'authdeny' ? { code: 'authdeny' } : {}), twice);
    const user = world.user(form.get('user') ?? undefined);
    if (!user) return wechatErrorPage(ctx, 400, '参数错误');
    deliver(ctx, callbackUrl(params, { code: world.issueCode(params.app, user, params.scope) }), twice);
  });

  router.get('/sns/oauth2/access_token', async (ctx) => {
    if (await playFault(ctx, world)) return;
    const q = ctx.query as Record<string, string | undefined>;
    if (!q.appid) return fail(ctx, world, 41002, 'appid missing');
    if (!q.secret) return fail(ctx, world, 41004, 'appsecret missing');
    const app = world.app(q.appid);
    if (!app) return fail(ctx, world, 40013, 'invalid appid');
    if (app.secret !== q.secret) return fail(ctx, world, 40125, 'invalid appsecret');
    if (!q.code) return fail(ctx, world, 41008, 'missing code');
    const grant = world.redeemCode(app, q.code);
    if (typeof grant === 'number') {
      return fail(ctx, world, grant, { 40029: 'invalid code', 40163: 'code been used', 42003: 'code expired' }[grant] ?? 'error');
    }
    const { accessToken, refreshToken } = world.issueTokens(grant);
    world.calls.push({ path: ctx.path, appid: app.appid, scope: grant.scope });
    answer(ctx, {
      access_token: accessToken,
      expires_in: 7200,
      refresh_token: refreshToken,
      openid: grant.openid,
      scope: grant.scope,
      // snsapi_base token answers have not carried the unionid since 2017.
      ...(grant.unionid && grant.scope !== 'snsapi_base' ? { unionid: grant.unionid } : {}),
      ...(grant.snapshot ? { is_snapshotuser: 1 } : {}),
    });
  });

  router.get('/sns/oauth2/refresh_token', async (ctx) => {
    if (await playFault(ctx, world)) return;
    const q = ctx.query as Record<string, string | undefined>;
    const app = world.app(q.appid);
    if (!app) return fail(ctx, world, 40013, 'invalid appid');
    const grant = world.refreshToken(q.refresh_token ?? '');
    if (typeof grant === 'number' || grant.app.appid !== app.appid) return fail(ctx, world, typeof grant === 'number' ? grant : 40030, 'invalid refresh_token');
    const { accessToken, refreshToken } = world.issueTokens(grant);
    answer(ctx, { access_token: accessToken, expires_in: 7200, refresh_token: refreshToken, openid: grant.openid, scope: grant.scope });
  });

  router.get('/sns/auth', async (ctx) => {
    if (await playFault(ctx, world)) return;
    const grant = world.accessToken(String(ctx.query.access_token ?? ''));
    if (typeof grant === 'number') return fail(ctx, world, grant, 'invalid credential, access_token is invalid or not latest');
    if (grant.openid !== ctx.query.openid) return fail(ctx, world, 40003, 'invalid openid');
    answer(ctx, { errcode: 0, errmsg: 'ok' });
  });

  router.get('/sns/userinfo', async (ctx) => {
    if (await playFault(ctx, world)) return;
    const grant = world.accessToken(String(ctx.query.access_token ?? ''));
    if (typeof grant === 'number') return fail(ctx, world, grant, 'invalid credential, access_token is invalid or not latest');
    if (grant.openid !== ctx.query.openid) return fail(ctx, world, 40003, 'invalid openid');
    if (grant.scope === 'snsapi_base') return fail(ctx, world, 48001, 'api unauthorized');
    world.calls.push({ path: ctx.path, appid: grant.app.appid, scope: grant.scope });
    answer(ctx, {
      openid: grant.openid,
      nickname: grant.user.nickname,
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: `http://thirdwx.qlogo.cn/mmopen/vi_32/${grant.snapshot ? 'default' : grant.user.id}/132`,
      privilege: [],
      ...(grant.unionid ? { unionid: grant.unionid } : {}),
    });
  });

  router.post('/_sim/faults', async (ctx) => {
    const body = JSON.parse(await readBody(ctx) || '{}') as { path?: string; faults?: FaultKind[] };
    if (!body.path || !Array.isArray(body.faults)) { ctx.status = 400; return; }
    world.injectFaults(body.path, body.faults);
    ctx.status = 204;
  });
  router.get('/_sim/calls', (ctx) => { ctx.body = world.calls; });
  router.post('/_sim/expire-codes', (ctx) => { world.expireCodes(); ctx.status = 204; });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
