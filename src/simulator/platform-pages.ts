// The simulated mp.weixin.qq.com page where an Official Account's administrator authorizes
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
import { pushAuthorization } from './platform-pushes.ts';
import type { SimPlatform, SimWorld } from './world.ts';

type Query = Record<string, string | undefined>;

/** The request's platform and where to go back, or WeChat's error page. */
function requestOf(ctx: Context, world: SimWorld, q: Query, spend: boolean): { platform: SimPlatform; back: URL } | undefined {
  const platform = world.platform(q.component_appid);
  if (!platform) return void wechatErrorPage(ctx, 61001, '参数错误：component_appid 无效');
  if (!q.pre_auth_code || !world.preAuthCode(platform, q.pre_auth_code, spend)) return void wechatErrorPage(ctx, 61006, '授权链接已过期，请重新获取');
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
  const code = world.authorize(request.platform, account);
  await pushAuthorization(request.platform, account.appid, code);
  request.back.searchParams.set('auth_code', code);
  request.back.searchParams.set('expires_in', '3600');
  ctx.redirect(request.back.href);
}

export function platformPages(world: SimWorld): Router {
  const router = new Router();
  router.get('/cgi-bin/componentloginpage', (ctx) => loginPage(ctx, world));
  router.post('/_sim/component-authorize', (ctx) => authorize(ctx, world));
  return router;
}
