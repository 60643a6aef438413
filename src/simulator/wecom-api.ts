// The simulated WeCom's API (qyapi.weixin.qq.com), which only the broker calls: gettoken,
// the login code's visitor, the member's consented details and the member's name. Answers
// as WeCom's: HTTP 200 JSON, errcode 0 with "ok" on success, failures with WeCom's errmsg
// tail (`hint: [ … ], from ip: …, more info at …`); faults a test injected come first.

import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { answer, playFault, type Query } from './api-answers.ts';
import type { SimWeCom } from './wecom-corp.ts';
import type { SimWorld } from './world.ts';

const MESSAGES: Record<number, string> = {
  40001: 'invalid secret', 40013: 'invalid corpid', 40014: 'invalid access_token', 42001: 'access_token expired',
  40029: 'invalid code', 60011: 'no privilege to access/modify contact/party/agent', 60111: 'invalid UserID',
  84014: 'invalid user ticket, expired', 84015: 'invalid user ticket', 41001: 'access_token missing', 41002: 'corpid missing', 41004: 'corpsecret missing',
};

/** WeCom's failure: its errmsg names the calling IP and where to read more. */
export function wecomFail(ctx: Context, world: SimWorld, errcode: number, errmsg?: string): void {
  world.calls.push({ path: ctx.path, errcode });
  const hint = `${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  answer(ctx, { errcode, errmsg: `${errmsg ?? MESSAGES[errcode] ?? 'error'}, hint: [${hint}], from ip: ${ctx.ip.replace(/^::ffff:/, '')}, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}` });
}

function ok(ctx: Context, world: SimWorld, body: Record<string, unknown>): void {
  world.calls.push({ path: ctx.path });
  answer(ctx, { errcode: 0, errmsg: 'ok', ...body });
}

/** GET /cgi-bin/gettoken: the app's token in force. */
async function gettoken(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world, wecomFail)) return;
  const q = ctx.query as Query;
  if (!q.corpid) return wecomFail(ctx, world, 41002);
  if (!q.corpsecret) return wecomFail(ctx, world, 41004);
  const wecom = world.corp(q.corpid);
  if (!wecom) return wecomFail(ctx, world, 40013);
  if (wecom.corp.secret !== q.corpsecret) return wecomFail(ctx, world, 40001);
  const { token, expiresIn } = wecom.token();
  ok(ctx, world, { access_token: token, expires_in: expiresIn });
}

/** The company whose token the call carries; undefined after WeCom's errcode. */
function byToken(ctx: Context, world: SimWorld): SimWeCom | undefined {
  const token = ctx.query.access_token as string | undefined;
  if (!token) return void wecomFail(ctx, world, 41001);
  let errcode = 40014;
  for (const wecom of world.corps) {
    errcode = wecom.checkToken(token);
    if (errcode === 0) return wecom;
    if (errcode === 42001) break;
  }
  return void wecomFail(ctx, world, errcode);
}

/** GET /cgi-bin/auth/getuserinfo: a member's userid (and user ticket), or a non-member's openid. */
async function getuserinfo(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world, wecomFail)) return;
  const wecom = byToken(ctx, world);
  if (!wecom) return;
  const visitor = wecom.redeemCode(ctx.query.code as string | undefined);
  if (typeof visitor === 'number') return wecomFail(ctx, world, visitor);
  if (!visitor.member) return ok(ctx, world, { openid: wecom.openidOf(visitor.person) });
  ok(ctx, world, { userid: visitor.member.userid, ...(visitor.userTicket ? { user_ticket: visitor.userTicket } : {}) });
}

/** POST /cgi-bin/auth/getuserdetail: what the member consented to (privateinfo), by user ticket. */
async function getuserdetail(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world, wecomFail)) return;
  const wecom = byToken(ctx, world);
  if (!wecom) return;
  let ticket: unknown;
  try {
    ticket = (JSON.parse(await readBody(ctx)) as { user_ticket?: unknown }).user_ticket;
  } catch {
    return wecomFail(ctx, world, 47001, 'data format error');
  }
  const member = wecom.ticket(typeof ticket === 'string' ? ticket : undefined);
  if (typeof member === 'number') return wecomFail(ctx, world, member);
  ok(ctx, world, { userid: member.userid, gender: '0', avatar: '', qr_code: '', mobile: member.mobile, email: member.email, biz_mail: '', address: '' });
}

/** GET /cgi-bin/user/get: a visible member's record; since 2022-06-20 a new self-built app reads no mobile, email or avatar here. */
async function userGet(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world, wecomFail)) return;
  const wecom = byToken(ctx, world);
  if (!wecom) return;
  const member = wecom.corp.members.find((candidate) => candidate.userid.toLowerCase() === String(ctx.query.userid ?? '').toLowerCase());
  if (!member) return wecomFail(ctx, world, 60111);
  if (!member.visible) return wecomFail(ctx, world, 60011);
  ok(ctx, world, { userid: member.userid, name: member.name, department: [1], position: '', status: 1, isleader: 0, enable: 1, main_department: 1 });
}

export function wecomApi(world: SimWorld): Router {
  const router = new Router();
  router.get('/cgi-bin/gettoken', (ctx) => gettoken(ctx, world));
  router.get('/cgi-bin/auth/getuserinfo', (ctx) => getuserinfo(ctx, world));
  router.post('/cgi-bin/auth/getuserdetail', (ctx) => getuserdetail(ctx, world));
  router.get('/cgi-bin/user/get', (ctx) => userGet(ctx, world));
  return router;
}
