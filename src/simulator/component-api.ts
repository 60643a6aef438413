// The simulated WeChat's API for a third-party platform's own token:
//   POST /cgi-bin/component/api_component_token
//        {component_appid, component_appsecret, component_verify_ticket}
// → {component_access_token, expires_in: 7200}, or 61005 (ticket expired), 61006 (ticket
// invalid), 40013/40125 (appid, secret); and
//   POST /cgi-bin/component/api_create_preauthcode?component_access_token=… {component_appid}
// → {pre_auth_code, expires_in: 600}; api_query_auth (an account's authorization code →
// the authorizer's tokens) and api_authorizer_token (a refresh token → a fresh authorizer
// token; 61023 once the authorization is gone). Answered as api-answers.ts makes every answer.

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { answer, fail, playFault } from './api-answers.ts';
import { TOKEN_TTL_S } from './tokens.ts';
import type { SimPlatform, SimWorld } from './world.ts';

/** The JSON body's string fields (WeChat reads nothing else). */
async function fieldsOf(ctx: Context): Promise<Record<string, string>> {
  try {
    const value: unknown = JSON.parse(await readBody(ctx));
    if (typeof value !== 'object' || value === null) return {};
    return Object.fromEntries(Object.entries(value).filter((field): field is [string, string] => typeof field[1] === 'string'));
  } catch {
    return {};
  }
}

async function componentToken(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const body = await fieldsOf(ctx);
  const { component_appid: appid, component_appsecret: secret, component_verify_ticket: ticket } = body;
  if (!appid) return fail(ctx, world, 41002, 'appid missing');
  const platform = world.platforms.find(appid);
  if (!platform) return fail(ctx, world, 40013, 'invalid appid');
  if (platform.secret !== secret) return fail(ctx, world, 40125, 'invalid appsecret');
  const token = world.platforms.issueComponentToken(platform, ticket ?? '');
  if (typeof token === 'number') return fail(ctx, world, token, token === 61005 ? 'component_verify_ticket is expired' : 'verify_ticket is invalid');
  world.calls.push({ path: ctx.path, appid });
  answer(ctx, { component_access_token: token, expires_in: TOKEN_TTL_S });
}

/** POST /cgi-bin/component/api_create_preauthcode?component_access_token=…: {component_appid} → a pre_auth_code. */
async function preAuthCode(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const call = await platformCall(ctx, world);
  if (!call) return;
  world.calls.push({ path: ctx.path, appid: call.platform.appid });
  answer(ctx, { pre_auth_code: world.platforms.issuePreAuthCode(call.platform), expires_in: 600 });
}

/** The platform a component_access_token in the query belongs to, named in the body too; undefined after WeChat's errcode. */
async function platformCall(ctx: Context, world: SimWorld): Promise<{ platform: SimPlatform; body: Record<string, string> } | undefined> {
  const platform = world.platforms.componentToken(String(ctx.query.component_access_token ?? ''));
  if (typeof platform === 'number') return void fail(ctx, world, platform, 'invalid credential, access_token is invalid or not latest');
  const body = await fieldsOf(ctx);
  if (body.component_appid !== platform.appid) return void fail(ctx, world, 40013, 'invalid appid');
  return { platform, body };
}

/** The permission sets granted, as WeChat lists them: `[{funcscope_category: {id}}]`. */
const funcInfo = (ids: readonly number[]) => ids.map((id) => ({ funcscope_category: { id } }));

/** POST /cgi-bin/component/api_query_auth: an authorization code → the authorizer's tokens. */
async function queryAuth(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const call = await platformCall(ctx, world);
  if (!call) return;
  const auth = world.platforms.queryAuth(call.platform, call.body.authorization_code ?? '');
  if (typeof auth === 'number') return fail(ctx, world, auth, 'invalid authorization code');
  const token = world.platforms.authorizerToken(call.platform, auth.account, auth.refreshToken);
  if (typeof token === 'number') return fail(ctx, world, token, 'refresh_token is invalid');
  world.calls.push({ path: ctx.path, appid: auth.account });
  answer(ctx, { authorization_info: {
    authorizer_appid: auth.account, authorizer_access_token: token.token, expires_in: token.expiresIn, authorizer_refresh_token: token.refreshToken,
    func_info: funcInfo(world.platforms.permissions(call.platform, auth.account)),
  } });
}

/** POST /cgi-bin/component/api_authorizer_token: the refresh token → a fresh authorizer token. */
async function authorizerToken(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const call = await platformCall(ctx, world);
  if (!call) return;
  const token = world.platforms.authorizerToken(call.platform, call.body.authorizer_appid ?? '', call.body.authorizer_refresh_token ?? '');
  if (typeof token === 'number') return fail(ctx, world, token, 'refresh_token is invalid');
  world.calls.push({ path: ctx.path, appid: call.body.authorizer_appid });
  answer(ctx, { authorizer_access_token: token.token, expires_in: token.expiresIn, authorizer_refresh_token: token.refreshToken });
}

/** POST /cgi-bin/component/api_get_authorizer_info: the account's details and its authorization, with the refresh token. */
async function authorizerInfo(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const call = await platformCall(ctx, world);
  if (!call) return;
  const account = call.body.authorizer_appid ?? '';
  const auth = world.platforms.authorization(call.platform, account);
  if (typeof auth === 'number') return fail(ctx, world, auth, 'component is not authorized by this account');
  world.calls.push({ path: ctx.path, appid: account });
  answer(ctx, {
    authorizer_info: { nick_name: '商城服务号', user_name: `gh_${account.slice(2, 14)}`, service_type_info: { id: 2 }, verify_type_info: { id: 0 } },
    authorization_info: { authorizer_appid: account, authorizer_refresh_token: auth.refreshToken, func_info: funcInfo(auth.permissions) },
  });
}

export function componentApi(world: SimWorld): Router {
  const router = new Router();
  router.post('/cgi-bin/component/api_component_token', (ctx) => componentToken(ctx, world));
  router.post('/cgi-bin/component/api_create_preauthcode', (ctx) => preAuthCode(ctx, world));
  router.post('/cgi-bin/component/api_query_auth', (ctx) => queryAuth(ctx, world));
  router.post('/cgi-bin/component/api_authorizer_token', (ctx) => authorizerToken(ctx, world));
  router.post('/cgi-bin/component/api_get_authorizer_info', (ctx) => authorizerInfo(ctx, world));
  return router;
}
