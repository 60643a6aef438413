// How the simulated WeChat answers its APIs: HTTP 200 and text/plain whatever happened,
// failures an errcode with a request id at the end of errmsg, as WeChat's are; faults a
// test injected are played first.

import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { FaultKind, SimWorld } from './world.ts';

export type Query = Record<string, string | undefined>;

const rid = (): string => `${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;

/** WeChat's JSON answer: HTTP 200 and text/plain whatever happened. */
export function answer(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = JSON.stringify(body);
}

export function fail(ctx: Context, world: SimWorld, errcode: number, errmsg: string): void {
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

type Fail = (ctx: Context, world: SimWorld, errcode: number, errmsg: string) => void;

/** WeChat's own words for the faults whose errmsg the broker reads (the IP a whitelist refused). */
const FAULT_MESSAGES: Partial<Record<FaultKind, string>> = { 'errcode:40164': 'invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist' };

/** Plays an injected fault (an errcode as `failWith` words it: WeChat's or WeCom's); true when it answered the request. */
export async function playFault(ctx: Context, world: SimWorld, failWith: Fail = fail): Promise<boolean> {
  const fault: FaultKind | undefined = world.takeFault(ctx.path);
  if (!fault) return false;
  if (fault === 'hold') {
    await world.hold(ctx.path);
    return false;
  }
  if (fault === 'snapshot-true') {
    ctx.state.snapshotTrue = true;
    return false;
  }
  if (fault === 'busy' || fault.startsWith('errcode:')) {
    if (fault === 'busy') failWith(ctx, world, -1, 'system error');
    else failWith(ctx, world, Number(fault.slice('errcode:'.length)), FAULT_MESSAGES[fault] ?? 'injected error');
    return true;
  }
  world.calls.push({ path: ctx.path, appid: ctx.query.appid as string | undefined });
  if (fault === 'timeout') await sleep(30_000);
  ctx.status = 200;
  ctx.type = fault === 'gbk-empty' ? 'text/html; charset=gbk' : 'text/plain';
  ctx.body = HOSTILE_BODIES[fault] ?? '';
  return true;
}
