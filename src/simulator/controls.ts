// The simulator's third face: controls for tests and the dev banner, never part of
// WeChat. Tests drive the simulator through these alone (over HTTP, like the broker).
//
//   POST /_sim/faults          {path, faults: [...]}: the next calls of `path` meet these
//   GET  /_sim/calls           the API calls and authorize pages seen so far (no secrets)
//   GET  /_sim/held            the paths whose calls a `hold` fault holds now
//   POST /_sim/release         {path}: the calls held at `path` go on
//   POST /_sim/codes           {appid, user, scope, life_ms?, component?}: the code WeChat
//                              would give `user` after authorizing (on the account's behalf
//                              by the platform `component`, if given)
//   POST /_sim/js-codes        {appid, user}: the js_code `wx.login()` gives `user` in the
//                              mini program `appid`
//   POST /_sim/apps/bind       {appid}: bind the app to the Open Platform account (from
//                              now on its logins carry the unionid)
//   POST /_sim/callback-hosts  {host}: register a callback domain (the console's setting)
//   POST /_sim/deliver-twice   {count}: the next `count` callbacks are delivered twice
//   (a platform's console, accounts' servers, followers, scans: estate-controls.ts)

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import type { FaultKind, SimScope, SimWorld } from './world.ts';

const FAULT = /^(busy|timeout|hold|garbage|gbk-empty|errcode-object|huge|snapshot-true|errcode:-?\d{1,6})$/;
const SCOPES: readonly string[] = ['snsapi_base', 'snsapi_userinfo', 'snsapi_login'];

/** The request's JSON object, or undefined after answering 400. */
export async function jsonBody(ctx: Context): Promise<Record<string, unknown> | undefined> {
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

export function badRequest(ctx: Context, error: string): void {
  ctx.status = 400;
  ctx.body = { error };
}

async function injectFaults(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const { path, faults } = body;
  if (typeof path !== 'string' || !Array.isArray(faults) || !faults.every((fault) => typeof fault === 'string' && FAULT.test(fault))) {
    return badRequest(ctx, 'expected {path, faults: [busy|timeout|hold|garbage|gbk-empty|errcode:N, …]}');
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
  const component = body.component === undefined ? undefined : world.platforms.find(String(body.component));
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

async function release(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  if (typeof body.path !== 'string') return badRequest(ctx, 'expected {path}');
  world.release(body.path);
  ctx.status = 204;
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
  router.get('/_sim/held', (ctx) => { ctx.body = world.held; });
  router.post('/_sim/release', (ctx) => release(ctx, world));
  return router;
}
