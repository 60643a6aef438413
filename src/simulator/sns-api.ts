// The simulator's second face: WeChat's /sns API, which only the broker calls (answers as
// api-answers.ts makes them), and the same exchange on an account's behalf by a platform.

import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { answer, fail, playFault, type Query } from './api-answers.ts';
import { TOKEN_TTL_S } from './tokens.ts';
import type { Grant, SimApp, SimAppKind, SimWorld } from './world.ts';

const CODE_ERRORS: Record<number, string> = { 40029: 'invalid code', 40163: 'code been used', 42003: 'code expired' };

/** Redeems the code for `app` (through `component`, if given) and answers the user access token, or the errcode. */
function redeem(ctx: Context, world: SimWorld, app: Grant['app'], code: string | undefined, component?: string): void {
  if (!code) return fail(ctx, world, 41008, 'missing code');
  const grant = world.redeemCode(app, code, component);
  if (typeof grant === 'number') return fail(ctx, world, grant, CODE_ERRORS[grant] ?? 'error');
  world.calls.push({ path: ctx.path, appid: app.appid, scope: grant.scope });
  answer(ctx, {
    access_token: world.issueToken(grant),
    expires_in: TOKEN_TTL_S,
    // WeChat sends one; the broker never refreshes, so the simulator keeps none.
    refresh_token: randomBytes(32).toString('base64url'),
    openid: grant.openid,
    scope: grant.scope,
    // snsapi_base token answers have not carried the unionid since 2017.
    ...(grant.unionid && grant.scope !== 'snsapi_base' ? { unionid: grant.unionid } : {}),
    ...(grant.snapshot ? { is_snapshotuser: 1 } : {}),
    ...(ctx.state.snapshotTrue ? { is_snapshotuser: true } : {}),
  });
}

/** The app a call names, with its secret checked (and its kind, if given); undefined after WeChat's errcode. */
function authenticatedApp(ctx: Context, world: SimWorld, q: Query, kind?: SimAppKind): SimApp | undefined {
  if (!q.appid) return void fail(ctx, world, 41002, 'appid missing');
  if (!q.secret) return void fail(ctx, world, 41004, 'appsecret missing');
  const app = world.app(q.appid);
  if (!app || (kind !== undefined && app.kind !== kind)) return void fail(ctx, world, 40013, 'invalid appid');
  if (app.secret !== q.secret) return void fail(ctx, world, 40125, 'invalid appsecret');
  return app;
}

/** GET /sns/oauth2/access_token: code → user access token. */
async function exchangeCode(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const q = ctx.query as Query;
  const app = authenticatedApp(ctx, world, q);
  if (app) redeem(ctx, world, app, q.code);
}

/**
 * GET /sns/oauth2/component/access_token: the same exchange on the account's behalf, with
 * the platform's component_access_token instead of the account's secret.
 */
async function exchangeOnBehalf(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const q = ctx.query as Query;
  if (!q.appid || !q.component_appid) return fail(ctx, world, 41002, 'appid missing');
  if (!q.component_access_token) return fail(ctx, world, 41001, 'access_token missing');
  const platform = world.platforms.componentToken(q.component_access_token);
  if (typeof platform === 'number') return fail(ctx, world, platform, 'invalid credential, access_token is invalid or not latest');
  if (platform.appid !== q.component_appid) return fail(ctx, world, 40001, 'invalid credential, access_token is invalid or not latest');
  const app = world.app(q.appid);
  if (!app) return fail(ctx, world, 40013, 'invalid appid');
  if (!platform.authorizers.has(app.appid)) return fail(ctx, world, 61003, 'component is not authorized by this account');
  redeem(ctx, world, app, q.code, platform.appid);
}

/** GET /sns/userinfo: the profile, for snsapi_userinfo and snsapi_login tokens only. */
async function userinfo(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const grant = world.accessToken(String(ctx.query.access_token ?? ''));
  if (typeof grant === 'number') return fail(ctx, world, grant, 'invalid credential, access_token is invalid or not latest');
  if (grant.openid !== ctx.query.openid) return fail(ctx, world, 40003, 'invalid openid');
  if (grant.scope === 'snsapi_base') return fail(ctx, world, 48001, 'api unauthorized');
  world.calls.push({ path: ctx.path, appid: grant.app.appid, scope: grant.scope });
  answer(ctx, {
    openid: grant.openid,
    nickname: grant.user.nickname,
    // Since late 2021 WeChat sends sex 0 and empty region fields.
    sex: 0,
    province: '',
    city: '',
    country: '',
    headimgurl: `http://thirdwx.qlogo.cn/mmopen/vi_32/${grant.snapshot ? 'default' : grant.user.id}/132`,
    privilege: [],
    ...(grant.unionid ? { unionid: grant.unionid } : {}),
  });
}

/**
 * GET /sns/jscode2session: a mini program's `wx.login()` code → openid, session_key and,
 * when the mini program is bound to the Open Platform account, the unionid.
 */
async function jscode2session(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const q = ctx.query as Query;
  const app = authenticatedApp(ctx, world, q, 'miniprogram');
  if (!app) return;
  if (!q.js_code) return fail(ctx, world, 41008, 'missing code');
  const grant = world.redeemCode(app, q.js_code);
  if (typeof grant === 'number') return fail(ctx, world, grant, CODE_ERRORS[grant] ?? 'error');
  world.calls.push({ path: ctx.path, appid: app.appid });
  answer(ctx, {
    openid: grant.openid,
    session_key: randomBytes(16).toString('base64'),
    ...(grant.unionid ? { unionid: grant.unionid } : {}),
  });
}

export function snsApi(world: SimWorld): Router {
  const router = new Router();
  router.get('/sns/oauth2/access_token', (ctx) => exchangeCode(ctx, world));
  router.get('/sns/oauth2/component/access_token', (ctx) => exchangeOnBehalf(ctx, world));
  router.get('/sns/userinfo', (ctx) => userinfo(ctx, world));
  router.get('/sns/jscode2session', (ctx) => jscode2session(ctx, world));
  return router;
}
