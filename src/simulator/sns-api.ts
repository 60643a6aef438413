// The simulator's second face: WeChat's /sns API, which only the broker calls. Answers
// are HTTP 200 and text/plain whatever happened, failures an errcode with a request id
// at the end of errmsg, as WeChat's are. Faults a test injected are played first.

import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { TOKEN_TTL_S, type FaultKind, type SimWorld } from './world.ts';

type Query = Record<string, string | undefined>;

const rid = (): string => `${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;

/** WeChat's JSON answer: HTTP 200 and text/plain whatever happened. */
function answer(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = JSON.stringify(body);
}

function fail(ctx: Context, world: SimWorld, errcode: number, errmsg: string): void {
  world.calls.push({ path: ctx.path, appid: ctx.query.appid as string | undefined, errcode });
  const hint = Math.random() < 0.5 ? `rid: ${rid()}` : `hints: [ req_id: ${rid()} ]`;
  answer(ctx, { errcode, errmsg: `${errmsg}, ${hint}` });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

const HOSTILE_BODIES: Partial<Record<FaultKind, string>> = {
  garbage: '<html>502 Bad Gateway</html>',
  'errcode-object': JSON.stringify({ errcode: { code: 40029 }, errmsg: { text: 'rid: x' }, access_token: ['a'], openid: { id: 'o' } }),
  huge: `{"errcode":-1,"errmsg":"${'x'.repeat(1024 * 1024)}"}`,
};

/** Plays an injected fault; true when it answered the request. */
async function playFault(ctx: Context, world: SimWorld): Promise<boolean> {
  const fault: FaultKind | undefined = world.takeFault(ctx.path);
  if (!fault) return false;
  if (fault === 'slow') {
    await sleep(1500);
    return false;
  }
  if (fault === 'snapshot-true') {
    ctx.state.snapshotTrue = true;
    return false;
  }
  if (fault === 'busy' || fault.startsWith('errcode:')) {
    if (fault === 'busy') fail(ctx, world, -1, 'system error');
    else fail(ctx, world, Number(fault.slice('errcode:'.length)), 'injected error');
    return true;
  }
  world.calls.push({ path: ctx.path, appid: ctx.query.appid as string | undefined });
  if (fault === 'timeout') await sleep(30_000);
  ctx.status = 200;
  ctx.type = fault === 'gbk-empty' ? 'text/html; charset=gbk' : 'text/plain';
  ctx.body = HOSTILE_BODIES[fault] ?? '';
  return true;
}

const CODE_ERRORS: Record<number, string> = { 40029: 'invalid code', 40163: 'code been used', 42003: 'code expired' };

/** GET /sns/oauth2/access_token: code → user access token. */
async function exchangeCode(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const q = ctx.query as Query;
  if (!q.appid) return fail(ctx, world, 41002, 'appid missing');
  if (!q.secret) return fail(ctx, world, 41004, 'appsecret missing');
  const app = world.app(q.appid);
  if (!app) return fail(ctx, world, 40013, 'invalid appid');
  if (app.secret !== q.secret) return fail(ctx, world, 40125, 'invalid appsecret');
  if (!q.code) return fail(ctx, world, 41008, 'missing code');
  const grant = world.redeemCode(app, q.code);
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

export function snsApi(world: SimWorld): Router {
  const router = new Router();
  router.get('/sns/oauth2/access_token', (ctx) => exchangeCode(ctx, world));
  router.get('/sns/userinfo', (ctx) => userinfo(ctx, world));
  return router;
}
