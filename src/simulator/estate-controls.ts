// The simulator's controls for a company's estate beyond logins: third-party platforms
// (their console URLs, ticket pushes on demand, authorizations), Official Accounts' servers,
// followers and scans of parametric QR codes, account events. Like controls.ts, never part
// of WeChat; tests drive them over HTTP.
//
//   POST /_sim/platforms/urls  {appid, auth_events_url?, events_url?}: a platform's console URLs
//   POST /_sim/platforms/push-ticket  {appid}: a fresh component_verify_ticket, pushed now;
//                              answers what the platform answered
//   POST /_sim/platforms/authorize    {appid, account, authorized, permissions?}: the account
//                              authorizes the platform (or withdraws), granting the permission
//                              sets `permissions` (WeChat's ids; all the platform asks when
//                              absent), and WeChat pushes the event
//   POST /_sim/accounts/server {appid, url, token, aes_key?}: an Official Account's 服务器配置
//   POST /_sim/follow          {appid, user}: `user` follows the account (before any scan)
//   POST /_sim/scan            {appid, user, ticket?, repeat?}: `user` scans the account's parametric QR
//                              (the newest, unless a ticket is given) and follows if not yet a
//                              follower; the event is pushed to its server and every platform it
//                              authorized; answers what each answered (the first in front) and
//                              the reply the user sees. `repeat: true` delivers that user's last
//                              scan event of the account again, as WeChat does without an answer in 5 s
//   POST /_sim/events          {account, fields}: an Official Account event, pushed to every
//                              platform the account authorized; answers what each answered

import Router from '@koa/router';
import type { Context } from 'koa';
import { badRequest, jsonBody } from './controls.ts';
import { pushAccountEvent, pushAuthorization, pushTicket, scanSceneQr } from './platform-pushes.ts';
import type { SimApp, SimPlatform, SimUser, SimWorld } from './world.ts';

const URL_FORMAT = /^https?:\/\/[^\s]{1,500}$/;

/** The platform a control's body names, or undefined after answering 400. */
function platformOf(ctx: Context, world: SimWorld, body: Record<string, unknown>): SimPlatform | undefined {
  const platform = world.platforms.find(typeof body.appid === 'string' ? body.appid : undefined);
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
  const { permissions } = body;
  const listed = permissions === undefined || (Array.isArray(permissions) && permissions.every((id) => Number.isInteger(id)));
  if (account?.kind !== 'mp' || typeof body.authorized !== 'boolean' || !listed) {
    return badRequest(ctx, 'expected {appid, account: an Official Account appid, authorized: true|false, permissions?: [permission set ids]}');
  }
  if (body.authorized) {
    ctx.body = await pushAuthorization(platform, account.appid, world.platforms.authorize(platform, account, permissions as number[] | undefined)) ?? {};
    return;
  }
  world.platforms.unauthorize(platform, account.appid);
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

async function scan(ctx: Context, world: SimWorld, lastScans: Map<string, Record<string, string>>): Promise<void> {
  const named = await accountAndUser(ctx, world);
  if (!named) return;
  const { body, app, user } = named;
  const qr = world.sceneQr(typeof body.ticket === 'string' ? body.ticket : undefined, app);
  if (!qr || qr.app !== app) return badRequest(ctx, 'no such QR code of this account');
  if (qr.expiresAt <= Date.now()) return badRequest(ctx, 'the QR code has expired: WeChat shows nothing to follow');
  const key = `${app.appid}|${user.id}`;
  const repeat = body.repeat === true ? lastScans.get(key) : undefined;
  if (body.repeat === true && !repeat) return badRequest(ctx, 'this user has not scanned this account\'s QR code yet');
  const scanned = await scanSceneQr(world, qr, user, repeat);
  lastScans.set(key, scanned.fields);
  ctx.body = scanned;
}

export function estateControls(world: SimWorld): Router {
  const router = new Router();
  router.post('/_sim/platforms/urls', (ctx) => setPlatformUrls(ctx, world));
  router.post('/_sim/platforms/push-ticket', (ctx) => pushTicketNow(ctx, world));
  router.post('/_sim/platforms/authorize', (ctx) => authorize(ctx, world));
  router.post('/_sim/events', (ctx) => accountEvent(ctx, world));
  router.post('/_sim/accounts/server', (ctx) => setAccountServer(ctx, world));
  router.post('/_sim/follow', (ctx) => follow(ctx, world));
  const lastScans = new Map<string, Record<string, string>>();
  router.post('/_sim/scan', (ctx) => scan(ctx, world, lastScans));
  return router;
}
