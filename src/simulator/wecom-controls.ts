// The simulator's controls for its WeCom companies (tests and the dev banner; never part
// of WeCom). Faults and the call log are the shared ones (controls.ts).
//
//   POST /_sim/wecom/codes          {corpid, user, scope?}: the code WeCom would give `user`
//                                   (a member, or a non-member) after authorizing the app
//   POST /_sim/wecom/visible        {corpid, user, visible}: the member in or out of the
//                                   app's visible range (可见范围)
//   POST /_sim/wecom/rename         {corpid, user, userid}: an admin changes the member's userid;
//                                   WeCom pushes update_user (NewUserID) to the app's server, if set
//   POST /_sim/wecom/server         {corpid, url}: the app's 接收消息服务器 URL (the console's setting)
//   POST /_sim/wecom/expire-token   {corpid}: the app's token dies early (next call: 42001)
//   GET  /_sim/wecom/token-calls    ?corpid=: how many times gettoken answered

import Router from '@koa/router';
import type { Context } from 'koa';
import { badRequest, jsonBody } from './controls.ts';
import type { SimWeCom } from './wecom-corp.ts';
import { deliver, encryptedPush } from './platform-pushes.ts';
import type { SimWorld } from './world.ts';

/** A userid as WeCom allows them: 1–64 of [0-9A-Za-z_-@.]. */
const USERID = /^[A-Za-z0-9_@.-]{1,64}$/;

/** The company and the request's body, or undefined after answering 400. */
async function corpOf(ctx: Context, world: SimWorld): Promise<{ wecom: SimWeCom; body: Record<string, unknown> } | undefined> {
  const body = await jsonBody(ctx);
  if (!body) return undefined;
  const wecom = world.corp(typeof body.corpid === 'string' ? body.corpid : undefined);
  if (!wecom) return void badRequest(ctx, 'unknown corpid');
  return { wecom, body };
}

async function issueCode(ctx: Context, world: SimWorld): Promise<void> {
  const found = await corpOf(ctx, world);
  if (!found) return;
  const { user, scope = 'snsapi_base' } = found.body;
  if (typeof user !== 'string' || !world.user(user) || (scope !== 'snsapi_base' && scope !== 'snsapi_privateinfo')) {
    return badRequest(ctx, 'expected {corpid, user, scope: snsapi_base|snsapi_privateinfo}');
  }
  ctx.body = { code: found.wecom.issueCode(user, scope) };
}

async function setVisible(ctx: Context, world: SimWorld): Promise<void> {
  const found = await corpOf(ctx, world);
  const member = found && found.wecom.member(String(found.body.user));
  if (!found) return;
  if (!member || typeof found.body.visible !== 'boolean') return badRequest(ctx, 'expected {corpid, user (a member), visible: boolean}');
  member.visible = found.body.visible;
  ctx.status = 204;
}

/** The member's new userid, and WeCom's contact change event to the app's server: what it answered (status 0 when no server is set). */
async function rename(ctx: Context, world: SimWorld): Promise<void> {
  const found = await corpOf(ctx, world);
  const member = found && found.wecom.member(String(found.body.user));
  if (!found) return;
  if (!member || typeof found.body.userid !== 'string' || !USERID.test(found.body.userid)) return badRequest(ctx, 'expected {corpid, user (a member), userid}');
  const { corp } = found.wecom;
  const from = member.userid;
  member.userid = found.body.userid;
  const event = {
    ToUserName: corp.corpid, FromUserName: 'sys', CreateTime: String(Math.floor(Date.now() / 1000)), MsgType: 'event',
    Event: 'change_contact', ChangeType: 'update_user', UserID: from, NewUserID: member.userid,
  };
  ctx.body = corp.server ? await deliver(corp.server, encryptedPush({ appid: corp.corpid, token: corp.token, aesKey: corp.aesKey }, event)) : { status: 0, body: '' };
}

async function setServer(ctx: Context, world: SimWorld): Promise<void> {
  const found = await corpOf(ctx, world);
  if (!found) return;
  if (typeof found.body.url !== 'string' || !/^https?:\/\//.test(found.body.url)) return badRequest(ctx, 'expected {corpid, url}');
  found.wecom.corp.server = found.body.url;
  ctx.status = 204;
}

async function expireToken(ctx: Context, world: SimWorld): Promise<void> {
  const found = await corpOf(ctx, world);
  if (!found) return;
  found.wecom.expireToken();
  ctx.status = 204;
}

function tokenCalls(ctx: Context, world: SimWorld): void {
  const wecom = world.corp(String(ctx.query.corpid));
  if (!wecom) return badRequest(ctx, 'unknown corpid');
  ctx.body = { calls: wecom.tokenCalls };
}

export function wecomControls(world: SimWorld): Router {
  const router = new Router({ prefix: '/_sim/wecom' });
  router.post('/codes', (ctx) => issueCode(ctx, world));
  router.post('/visible', (ctx) => setVisible(ctx, world));
  router.post('/rename', (ctx) => rename(ctx, world));
  router.post('/server', (ctx) => setServer(ctx, world));
  router.post('/expire-token', (ctx) => expireToken(ctx, world));
  router.get('/token-calls', (ctx) => tokenCalls(ctx, world));
  return router;
}
