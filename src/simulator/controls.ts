// The simulator's third face: controls for tests and the dev banner, never part of
// WeChat. Tests drive the simulator through these alone (over HTTP, like the broker).
//
//   POST /_sim/faults          {path, faults: [...]}: the next calls of `path` meet these
//   GET  /_sim/calls           the API calls and authorize pages seen so far (no secrets)
//   POST /_sim/codes           {appid, user, scope, life_ms?, component?}: the code WeChat
//                              would give `user` after authorizing (on the account's behalf
//                              by the platform `component`, if given)
//   POST /_sim/js-codes        {appid, user}: the js_code `wx.login()` gives `user` in the
//                              mini program `appid`
//   POST /_sim/apps/bind       {appid}: bind the app to the Open Platform account (from
//                              now on its logins carry the unionid)
//   POST /_sim/callback-hosts  {host}: register a callback domain (the console's setting)
//   POST /_sim/deliver-twice   {count}: the next `count` callbacks are delivered twice
//   POST /_sim/platforms/urls  {appid, auth_events_url?, events_url?}: a platform's console URLs
//   POST /_sim/platforms/push-ticket  {appid}: a fresh component_verify_ticket, pushed now;
//                              answers what the platform answered
//   POST /_sim/platforms/authorize    {appid, account, authorized}: the account authorizes
//                              the platform (or withdraws), and WeChat pushes the event
//   POST /_sim/accounts/server {appid, url, token, aes_key?}: an Official Account's 服务器配置
//   POST /_sim/follow          {appid, user}: `user` follows the account (before any scan)
//   POST /_sim/scan            {appid, user, ticket?}: `user` scans the account's parametric QR
//                              (the newest, unless a ticket is given) and follows if not yet a
//                              follower; the event is pushed to its server and every platform it
//                              authorized; answers what each answered (the first in front)
//   POST /_sim/events          {account, fields}: an Official Account event, pushed to every
//                              platform the account authorized; answers what each answered

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { pushAccountEvent, pushAuthorization, pushTicket, scanSceneQr } from './platform-pushes.ts';
import type { FaultKind, SimApp, SimPlatform, SimScope, SimUser, SimWorld } from './world.ts';

const FAULT = /^(busy|timeout|slow|garbage|gbk-empty|errcode-object|huge|snapshot-true|errcode:-?\d{1,6})$/;
const SCOPES: readonly string[] = ['snsapi_base', 'snsapi_userinfo', 'snsapi_login'];

/** The request's JSON object, or undefined after answering 400. */
async function jsonBody(ctx: Context): Promise<Record<string, unknown> | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readBody(ctx) || '{}');
  } catch {
    value = undefined;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  ctx.status = 400;
  ctx.body = { error: 'expected a JSON object' };
  return undefined;
}

function badRequest(ctx: Context, error: string): void {
  ctx.status = 400;
  ctx.body = { error };
}

async function injectFaults(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const { path, faults } = body;
  if (typeof path !== 'string' || !Array.isArray(faults) || !faults.every((fault) => typeof fault === 'string' && FAULT.test(fault))) {
    return badRequest(ctx, 'expected {path, faults: [busy|timeout|slow|garbage|gbk-empty|errcode:N, …]}');
  }
  world.injectFaults(path, faults as FaultKind[]);
  ctx.status = 204;
}

function listCalls(ctx: Context, world: SimWorld): void {
  ctx.body = world.calls;
}

async function issueCode(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  const user = world.user(typeof body.user === 'string' ? body.user : undefined);
  const life = body.life_ms;
  const component = body.component === undefined ? undefined : world.platform(String(body.component));
  if (!app || !user || typeof body.scope !== 'string' || !SCOPES.includes(body.scope)
    || (life !== undefined && (typeof life !== 'number' || life < 0))
    || (body.component !== undefined && !component?.authorizers.has(app.appid))) {
    return badRequest(ctx, 'expected {appid, user, scope, life_ms?, component?} naming a registered app, a simulated user and a platform the app authorized');
  }
  ctx.body = { code: world.issueCode(app, user, body.scope as SimScope, life as number | undefined, component?.appid) };
}

async function issueJsCode(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  const user = world.user(typeof body.user === 'string' ? body.user : undefined);
  if (app?.kind !== 'miniprogram' || !user) return badRequest(ctx, 'expected {appid, user} naming a registered mini program and a simulated user');
  // wx.login() asks nothing of the person: the code carries no scope of theirs.
  ctx.body = { code: world.issueCode(app, user, 'snsapi_base') };
}

async function bindApp(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  if (!app) return badRequest(ctx, 'expected {appid} naming a registered app');
  app.bound = true;
  ctx.status = 204;
}

async function addCallbackHost(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  if (typeof body.host !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(body.host)) return badRequest(ctx, 'expected {host: "name[:port]"}');
  world.callbackHosts.add(body.host);
  ctx.status = 204;
}

async function deliverTwice(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  if (typeof body.count !== 'number' || !Number.isInteger(body.count) || body.count < 1 || body.count > 100) return badRequest(ctx, 'expected {count: 1 to 100}');
  world.deliverTwice(body.count);
  ctx.status = 204;
}

const URL_FORMAT = /^https?:\/\/[^\s]{1,500}$/;

/** The platform a control's body names, or undefined after answering 400. */
function platformOf(ctx: Context, world: SimWorld, body: Record<string, unknown>): SimPlatform | undefined {
  const platform = world.platform(typeof body.appid === 'string' ? body.appid : undefined);
  if (!platform) badRequest(ctx, 'expected {appid} naming a registered third-party platform');
  return platform;
}

async function setPlatformUrls(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  const platform = body && platformOf(ctx, world, body);
  if (!body || !platform) return;
  const urls = [body.auth_events_url, body.events_url];
  if (!urls.every((url) => url === undefined || (typeof url === 'string' && URL_FORMAT.test(url)))) return badRequest(ctx, 'expected http(s) URLs');
  if (typeof body.auth_events_url === 'string') platform.authEventsUrl = body.auth_events_url;
  if (typeof body.events_url === 'string') platform.eventsUrl = body.events_url;
  ctx.status = 204;
}

async function pushTicketNow(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  const platform = body && platformOf(ctx, world, body);
  if (!body || !platform) return;
  const delivery = pushTicket(world, platform);
  if (!delivery) return badRequest(ctx, 'the platform has no auth_events_url yet');
  ctx.body = await delivery;
}

async function authorize(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  const platform = body && platformOf(ctx, world, body);
  if (!body || !platform) return;
  const account = world.app(typeof body.account === 'string' ? body.account : undefined);
  if (account?.kind !== 'mp' || typeof body.authorized !== 'boolean') return badRequest(ctx, 'expected {appid, account: an Official Account appid, authorized: true|false}');
  if (body.authorized) {
    ctx.body = await pushAuthorization(platform, account.appid, world.authorize(platform, account)) ?? {};
    return;
  }
  world.unauthorize(platform, account.appid);
  ctx.body = await pushAuthorization(platform, account.appid) ?? {};
}

async function accountEvent(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const account = world.app(typeof body.account === 'string' ? body.account : undefined);
  const fields = body.fields;
  if (account?.kind !== 'mp' || typeof fields !== 'object' || fields === null || !Object.values(fields).every((value) => typeof value === 'string')) {
    return badRequest(ctx, 'expected {account: an Official Account appid, fields: {name: text}}');
  }
  ctx.body = await pushAccountEvent(world, account.appid, fields as Record<string, string>);
}

/** The Official Account and the simulated user a control's body names, or undefined after 400. */
async function accountAndUser(ctx: Context, world: SimWorld): Promise<{ body: Record<string, unknown>; app: SimApp; user: SimUser } | undefined> {
  const body = await jsonBody(ctx);
  if (!body) return undefined;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  const user = world.user(typeof body.user === 'string' ? body.user : undefined);
  if (app?.kind !== 'mp' || !user) return void badRequest(ctx, 'expected {appid, user} naming an Official Account and a simulated user');
  return { body, app, user };
}

async function setAccountServer(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  const { url, token, aes_key: aesKey } = body;
  if (app?.kind !== 'mp' || typeof url !== 'string' || !URL_FORMAT.test(url) || typeof token !== 'string' || (aesKey !== undefined && typeof aesKey !== 'string')) {
    return badRequest(ctx, 'expected {appid, url, token, aes_key?} for an Official Account');
  }
  app.server = { url, token, aesKey };
  ctx.status = 204;
}

async function follow(ctx: Context, world: SimWorld): Promise<void> {
  const named = await accountAndUser(ctx, world);
  if (!named) return;
  world.follow(named.user, named.app);
  ctx.status = 204;
}

async function scan(ctx: Context, world: SimWorld): Promise<void> {
  const named = await accountAndUser(ctx, world);
  if (!named) return;
  const { body, app, user } = named;
  const qr = world.sceneQr(typeof body.ticket === 'string' ? body.ticket : undefined, app);
  if (!qr || qr.app !== app) return badRequest(ctx, 'no such QR code of this account');
  if (qr.expiresAt <= Date.now()) return badRequest(ctx, 'the QR code has expired: WeChat shows nothing to follow');
  ctx.body = await scanSceneQr(world, qr, user);
}

export function controls(world: SimWorld): Router {
  const router = new Router();
  router.post('/_sim/faults', (ctx) => injectFaults(ctx, world));
  router.get('/_sim/calls', (ctx) => listCalls(ctx, world));
  router.post('/_sim/codes', (ctx) => issueCode(ctx, world));
  router.post('/_sim/callback-hosts', (ctx) => addCallbackHost(ctx, world));
  router.post('/_sim/js-codes', (ctx) => issueJsCode(ctx, world));
  router.post('/_sim/apps/bind', (ctx) => bindApp(ctx, world));
  router.post('/_sim/deliver-twice', (ctx) => deliverTwice(ctx, world));
  router.post('/_sim/platforms/urls', (ctx) => setPlatformUrls(ctx, world));
  router.post('/_sim/platforms/push-ticket', (ctx) => pushTicketNow(ctx, world));
  router.post('/_sim/platforms/authorize', (ctx) => authorize(ctx, world));
  router.post('/_sim/events', (ctx) => accountEvent(ctx, world));
  router.post('/_sim/accounts/server', (ctx) => setAccountServer(ctx, world));
  router.post('/_sim/follow', (ctx) => follow(ctx, world));
  router.post('/_sim/scan', (ctx) => scan(ctx, world));
  return router;
}
