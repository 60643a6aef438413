// The simulated WeChat's Official Account APIs the broker uses for follow-to-login:
//   POST /cgi-bin/stable_token          {grant_type, appid, secret, force_refresh} → the token in force
//   POST /cgi-bin/qrcode/create?access_token=…   QR_STR_SCENE → {ticket, expire_seconds, url}
//   GET  /cgi-bin/user/info?access_token&openid  → {subscribe, openid, unionid?}
//   POST /cgi-bin/open/get?access_token=…       {appid} → {open_appid} or 89002 (bound to none)
// Answered as api-answers.ts makes every answer.

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { answer, fail, playFault } from './api-answers.ts';
import type { SimApp, SimWorld } from './world.ts';

/** WeChat's longest temporary QR code: 30 days. */
const MAX_EXPIRE_S = 2_592_000;

async function jsonOf(ctx: Context): Promise<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(await readBody(ctx));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** The account an access_token in the query belongs to, or undefined after WeChat's errcode. */
function accountOf(ctx: Context, world: SimWorld): SimApp | undefined {
  const app = world.accountOfToken(String(ctx.query.access_token ?? ''));
  if (typeof app === 'number') return void fail(ctx, world, app, 'invalid credential, access_token is invalid or not latest');
  return app;
}

async function stableToken(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const body = await jsonOf(ctx);
  if (body.grant_type !== 'client_credential') return fail(ctx, world, 40002, 'invalid grant_type');
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  // An Official Account's or a mini program's (a website app has no API token).
  if (app?.kind !== 'mp' && app?.kind !== 'miniprogram') return fail(ctx, world, 40013, 'invalid appid');
  if (app.secret !== body.secret) return fail(ctx, world, 40125, 'invalid appsecret');
  const token = world.stableToken(app, body.force_refresh === true);
  if (typeof token === 'number') return fail(ctx, world, token, 'reach max api daily quota limit');
  world.calls.push({ path: ctx.path, appid: app.appid });
  answer(ctx, { access_token: token.token, expires_in: token.expiresIn });
}

async function createQr(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const app = accountOf(ctx, world);
  if (!app) return;
  const body = await jsonOf(ctx);
  const scene = (body.action_info as { scene?: { scene_str?: unknown } } | undefined)?.scene?.scene_str;
  const expire = body.expire_seconds === undefined ? 60 : body.expire_seconds;
  if (body.action_name !== 'QR_STR_SCENE' || typeof scene !== 'string' || scene.length < 1 || scene.length > 64) return fail(ctx, world, 40053, 'invalid action info');
  if (typeof expire !== 'number' || !Number.isInteger(expire) || expire < 1 || expire > MAX_EXPIRE_S) return fail(ctx, world, 40009, 'invalid expire_seconds');
  const qr = world.createSceneQr(app, scene, expire, `${ctx.protocol}://${ctx.host}`);
  world.calls.push({ path: ctx.path, appid: app.appid });
  answer(ctx, { ticket: qr.ticket, expire_seconds: expire, url: qr.url });
}

async function userInfo(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const app = accountOf(ctx, world);
  if (!app) return;
  const openid = String(ctx.query.openid ?? '');
  const person = world.userOfOpenid(app, openid);
  if (!person) return fail(ctx, world, 40003, 'invalid openid');
  world.calls.push({ path: ctx.path, appid: app.appid });
  const unionid = world.unionid(app, person.user);
  // Since 2021-12-27: no nickname, no avatar.
  answer(ctx, { subscribe: person.follows ? 1 : 0, openid, language: 'zh_CN', ...(unionid ? { unionid } : {}) });
}

/** The simulated company's Open Platform account (开放平台账号), which its bound apps name in open/get. */
const OPEN_ACCOUNT = 'wx0pen0platform0000';

/** POST /cgi-bin/open/get {appid}: the Open Platform account the app is bound to, or 89002. */
async function openGet(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const app = accountOf(ctx, world);
  if (!app) return;
  const body = await jsonOf(ctx);
  if (body.appid !== app.appid) return fail(ctx, world, 40013, 'invalid appid');
  if (!app.bound) return fail(ctx, world, 89002, 'open not exists');
  world.calls.push({ path: ctx.path, appid: app.appid });
  answer(ctx, { errcode: 0, errmsg: 'ok', open_appid: app.otherOpenAccount ?? OPEN_ACCOUNT });
}

export function accountApi(world: SimWorld): Router {
  const router = new Router();
  router.post('/cgi-bin/stable_token', (ctx) => stableToken(ctx, world));
  router.post('/cgi-bin/qrcode/create', (ctx) => createQr(ctx, world));
  router.get('/cgi-bin/user/info', (ctx) => userInfo(ctx, world));
  router.post('/cgi-bin/open/get', (ctx) => openGet(ctx, world));
  return router;
}
