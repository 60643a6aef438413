// The simulated mini program phone number (手机号快速验证组件; ../shared/wecom-and-phone.md
// part 2): the server API that redeems the codes of taps on the phone-number button
// (phone-state.ts keeps them, single use for 5 minutes, and each person's number):
//   POST /wxa/business/getuserphonenumber?access_token=…  {code, openid?}
//     → {phone_info: {phoneNumber, purePhoneNumber, countryCode, watermark: {timestamp, appid}}}
// with the mini program's own token (stable_token) or an authorizer token. A code of
// another mini program, a used or expired one, or one whose person is not `openid` is
// 40029 (WeChat's errcode for a binding mismatch is not documented; this is the reading the
// broker must survive either way). A control issues codes:
//   POST /_sim/phone-codes  {appid, user, watermark_appid?}  → {code}
// (`watermark_appid` plays an answer stamped for another app, which the broker must refuse),
// and sets a person's number (a carrier recycles numbers: two people can have had one):
//   POST /_sim/phone-numbers  {user, country_code, number}  → 204

import Router from '@koa/router';
import type { Context } from 'koa';
import { readBody } from '../http/read-body.ts';
import { answer, fail, playFault } from './api-answers.ts';
import { badRequest, jsonBody } from './controls.ts';
import type { SimWorld } from './world.ts';

async function getUserPhoneNumber(ctx: Context, world: SimWorld): Promise<void> {
  if (await playFault(ctx, world)) return;
  const app = world.accountOfToken(String(ctx.query.access_token ?? ''));
  if (typeof app === 'number') return fail(ctx, world, app, 'invalid credential, access_token is invalid or not latest');
  if (app.kind !== 'miniprogram') return fail(ctx, world, 48001, 'api unauthorized');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(await readBody(ctx)) as Record<string, unknown>;
  } catch {
    return fail(ctx, world, 47001, 'data format error');
  }
  const tap = typeof body.code === 'string' ? world.phoneCodes.take(body.code) : undefined;
  const user = tap && world.user(tap.userId);
  if (!tap || !user || tap.appid !== app.appid || (body.openid !== undefined && body.openid !== world.openid(app, user))) return fail(ctx, world, 40029, 'invalid code');
  const number = world.phoneCodes.numbers.get(user.id)!;
  world.calls.push({ path: ctx.path, appid: app.appid });
  answer(ctx, {
    errcode: 0, errmsg: 'ok',
    phone_info: {
      // The country code only for numbers outside China; countryCode a number, as WeChat's example has it.
      phoneNumber: number.countryCode === 86 ? number.pure : `+${number.countryCode}${number.pure}`,
      purePhoneNumber: number.pure, countryCode: number.countryCode,
      watermark: { timestamp: Math.floor(Date.now() / 1000), appid: tap.watermarkAppid },
    },
  });
}

async function issuePhoneCode(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const app = world.app(typeof body.appid === 'string' ? body.appid : undefined);
  const user = world.user(typeof body.user === 'string' ? body.user : undefined);
  const watermark = body.watermark_appid;
  if (app?.kind !== 'miniprogram' || !user || !world.phoneCodes.numbers.has(user.id) || (watermark !== undefined && typeof watermark !== 'string')) {
    return badRequest(ctx, 'expected {appid, user, watermark_appid?} naming a registered mini program and a simulated user with a number');
  }
  ctx.body = { code: world.phoneCodes.issue(app.appid, user.id, watermark) };
}

async function setNumber(ctx: Context, world: SimWorld): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body) return;
  const user = world.user(typeof body.user === 'string' ? body.user : undefined);
  const { country_code: countryCode, number } = body;
  if (!user || typeof countryCode !== 'number' || typeof number !== 'string' || !/^\d{4,20}$/.test(number)) {
    return badRequest(ctx, 'expected {user, country_code (a number), number (digits, without the country code)}');
  }
  world.phoneCodes.numbers.set(user.id, { countryCode, pure: number });
  ctx.status = 204;
}

export function phoneNumbers(world: SimWorld): Router {
  const router = new Router();
  router.post('/wxa/business/getuserphonenumber', (ctx) => getUserPhoneNumber(ctx, world));
  router.post('/_sim/phone-codes', (ctx) => issuePhoneCode(ctx, world));
  router.post('/_sim/phone-numbers', (ctx) => setNumber(ctx, world));
  return router;
}
