// The simulator's third face: controls for tests and the dev banner, never part of
// WeChat. Tests drive the simulator through these alone (over HTTP, like the broker).
//
//   POST /_sim/faults          {path, faults: [...]}: the next calls of `path` meet these
//   GET  /_sim/calls           the API calls and authorize pages seen so far (no secrets)
//   POST /_sim/codes           {appid, user, scope, life_ms?}: the code WeChat would give
//                              `user` after authorizing (as the phone's WeChat would)
//   POST /_sim/callback-hosts  {host}: register a callback domain (the console's setting)
//   POST /_sim/deliver-twice   {count}: the next `count` callbacks are delivered twice

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import type { FaultKind, SimScope, SimWorld } from './world.ts';

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
  if (!app || !user || typeof body.scope !== 'string' || !SCOPES.includes(body.scope)
    || (life !== undefined && (typeof life !== 'number' || life < 0))) {
    return badRequest(ctx, 'expected {appid, user, scope, life_ms?} naming a registered app and a simulated user');
  }
  ctx.body = { code: world.issueCode(app, user, body.scope as SimScope, life as number | undefined) };
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

export function controls(world: SimWorld): Router {
  const router = new Router();
  router.post('/_sim/faults', (ctx) => injectFaults(ctx, world));
  router.get('/_sim/calls', (ctx) => listCalls(ctx, world));
  router.post('/_sim/codes', (ctx) => issueCode(ctx, world));
  router.post('/_sim/callback-hosts', (ctx) => addCallbackHost(ctx, world));
  router.post('/_sim/deliver-twice', (ctx) => deliverTwice(ctx, world));
  return router;
}
