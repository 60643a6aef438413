// The simulated WeCom's pages (../shared/wecom-and-phone.md 1.1, 1.2): web authorization
// inside the WeCom client (on open.weixin.qq.com's path, told from WeChat's by its corpid;
// silent for snsapi_base, a consent page for snsapi_privateinfo), and the SSO page a desktop
// browser shows (a QR code to scan with WeCom: here, a button per simulated person). The
// callback carries `code` and `state` (and on the SSO page also `appid`, as some of WeCom's
// links do: the broker must ignore what it does not expect); a refusal carries `state` only.

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { deliver, esc, page, wechatErrorPage } from './html.ts';
import type { SimWeCom, SimWeComScope } from './wecom-corp.ts';
import { PHONE_USER_COOKIE, SIM_USERS, type SimWorld } from './world.ts';

type Query = Record<string, string | undefined>;

interface WeComRequest {
  readonly wecom: SimWeCom;
  readonly redirectUri: URL;
  readonly state: string;
  readonly scope: SimWeComScope;
}

/** Checks a request as WeCom does: the company and app, a trusted domain (exact host), a state of ≤128 letters and digits. */
function requestOf(ctx: Context, world: SimWorld, q: Query): WeComRequest | undefined {
  const wecom = world.corp(q.appid);
  if (!wecom) return void wechatErrorPage(ctx, 40013, 'invalid corpid');
  if (q.agentid !== wecom.corp.agentid) return void wechatErrorPage(ctx, 40056, 'invalid agentid');
  let redirectUri: URL;
  try {
    redirectUri = new URL(q.redirect_uri ?? '');
  } catch {
    return void wechatErrorPage(ctx, 50001, 'redirect_uri 参数错误');
  }
  if (!world.callbackHosts.has(redirectUri.host)) return void wechatErrorPage(ctx, 50001, 'redirect_uri需使用应用可信域名');
  if (q.state === undefined || Buffer.byteLength(q.state) > 128 || !/^[A-Za-z0-9]*$/.test(q.state)) return void wechatErrorPage(ctx, 84025, 'state 参数错误');
  const scope = q.scope ?? 'snsapi_base';
  if (scope !== 'snsapi_base' && scope !== 'snsapi_privateinfo') return void wechatErrorPage(ctx, 10005, 'scope 参数错误');
  return { wecom, redirectUri, state: q.state, scope };
}

function callback(request: WeComRequest, extra: Record<string, string>): string {
  const url = new URL(request.redirectUri);
  for (const [key, value] of Object.entries({ ...extra, state: request.state })) url.searchParams.set(key, value);
  return url.href;
}

/** The decision form; it navigates the top window, as WeCom's panel does with `redirect_type: top`. */
function decisionForm(ctx: Context, people: ReadonlyArray<{ id: string; label: string }>, allow: string): string {
  const hidden = Object.entries(ctx.query).map(([key, value]) => `<input type="hidden" name="${esc(key)}" value="${esc(value)}">`).join('');
  return `<form method="post" action="/_sim/wecom/decide" target="_top">${hidden}
${people.map((person) => `<button class="ok" name="user" value="${esc(person.id)}">${esc(allow)} · ${esc(person.label)}</button>`).join('\n')}
<button name="refuse" value="1">拒绝</button></form>`;
}

/** Inside the WeCom client: snsapi_base goes straight back with a code; snsapi_privateinfo asks the member first. */
export function wecomAuthorize(ctx: Context, world: SimWorld): void {
  if (!/wxwork/i.test(ctx.get('user-agent'))) return wechatErrorPage(ctx, '', '请在企业微信客户端打开链接');
  const request = requestOf(ctx, world, ctx.query as Query);
  if (!request) return;
  world.calls.push({ path: ctx.path, appid: request.wecom.corp.corpid, scope: request.scope });
  const person = world.user(ctx.cookies.get(PHONE_USER_COOKIE));
  if (!person) return wechatErrorPage(ctx, '', '模拟器：先设置手机上登录的账号 (wxsim_user)');
  const member = request.wecom.member(person.id);
  if (request.scope === 'snsapi_base' || !member) return deliver(ctx, callback(request, { code: request.wecom.issueCode(person.id, request.scope) }), world.takeTwice());
  page(ctx, '授权', `<h3>应用申请获取你的敏感信息</h3><p>手机号、邮箱</p>
${decisionForm(ctx, [{ id: person.id, label: member.name }], '同意')}`);
}

/** GET /wwlogin/sso/login: WeCom's SSO page; the simulated scan picks a person. */
function ssoPage(ctx: Context, world: SimWorld): void {
  const q = ctx.query as Query;
  if (q.login_type !== 'CorpApp') return wechatErrorPage(ctx, 40001, 'login_type 参数错误');
  const request = requestOf(ctx, world, q);
  if (!request) return;
  world.calls.push({ path: ctx.path, appid: request.wecom.corp.corpid });
  const people = SIM_USERS.filter((user) => !user.snapshot)
    .map((user) => ({ id: user.id, label: request.wecom.member(user.id)?.name ?? `${user.nickname}（非企业成员）` }));
  page(ctx, '企业微信登录', `<h3>企业微信扫码登录</h3><div class="qr" title="QR"></div><p><small>模拟器：选择扫码的人</small></p>
${decisionForm(ctx, people, '扫码登录')}`);
}

/** POST /_sim/wecom/decide: the person allowed (as one of the simulated people) or refused. */
async function decide(ctx: Context, world: SimWorld): Promise<void> {
  const form = Object.fromEntries(new URLSearchParams(await readBody(ctx)));
  const request = requestOf(ctx, world, form);
  if (!request) return;
  const extra: Record<string, string> = form.login_type === 'CorpApp' ? { appid: request.wecom.corp.corpid } : {};
  if (form.refuse) return deliver(ctx, callback(request, extra), world.takeTwice());
  const person = world.user(form.user);
  if (!person) return wechatErrorPage(ctx, 400, '参数错误');
  deliver(ctx, callback(request, { code: request.wecom.issueCode(person.id, request.scope), ...extra }), world.takeTwice());
}

/**
 * GET /wecom/jssdk.js: WeCom's JS SDK as far as login goes: `ww.createWWLoginPanel` draws
 * the SSO page in an iframe inside `el`, with the same parameters.
 */
function jssdk(ctx: Context): void {
  ctx.type = 'application/javascript';
  ctx.body = `window.ww={createWWLoginPanel:function(o){var el=document.querySelector(o.el);var f=document.createElement('iframe');
f.src=${JSON.stringify(`${ctx.protocol}://${ctx.host}/wwlogin/sso/login?`)}+new URLSearchParams(o.params).toString();
f.width='480';f.height='420';f.style.border='0';el.appendChild(f);return{unmount:function(){f.remove();}};}};`;
}

export function wecomPages(world: SimWorld): Router {
  const router = new Router();
  router.get('/wecom/jssdk.js', jssdk);
  router.get('/wwlogin/sso/login', (ctx) => ssoPage(ctx, world));
  router.post('/_sim/wecom/decide', (ctx) => decide(ctx, world));
  return router;
}
