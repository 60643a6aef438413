// GET /interaction/:uid/wechat — where WeChat sends the person back with `code` and `state`.
// A short list of named steps:
//   1. verify the callback: the interaction is live in this browser, the state is one the
//      broker issued for it → the stored attempt;
//   2. claim the attempt (a repeat delivery follows the first one's answer instead);
//   3. let the attempt's way in (upstreams/) complete it: code → token → profile → the person;
//   4. decide (decide.ts, pure) and carry the outcome out (carry-out.ts), which always keeps
//      the answer for repeat deliveries.

import type { Context } from 'koa';
import { weComIdentity, type Account } from '../accounts/account.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import { requestedScopes } from '../oidc/interactions.ts';
import { langOf } from '../pages/html.ts';
import { WeChatError } from '../wechat/errors.ts';
import { isWeChatCode } from '../wechat/types.ts';
import type { Attempt } from './attempts.ts';
import { isStateFormat } from './attempts.ts';
import { decide, type UpstreamResult } from './decide.ts';
import type { Login } from './login.ts';
import { carryOut, refuseCallback, type Callback } from './carry-out.ts';
import { sendAtCallback } from './answer.ts';
import type { CarryOutParts } from './carry-out.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type CallbackParts = Pick<Login, 'app' | 'wecomApp' | 'attempts' | 'interactions' | 'linker' | 'log' | 'upstreams'> & CarryOutParts;

/** How long a repeat delivery waits for the first one to answer. */
const REPEAT_WAIT_MS = 8000;
/** WeChat gives the profile's region names in the person's language. */
const PROFILE_LANG = { 'zh-CN': 'zh_CN', 'zh-TW': 'zh_TW', en: 'en' } as const;

/** Step 1: the callback's interaction, state and app; undefined after refusing it. */
async function verifyCallback(ctx: Context, login: CallbackParts): Promise<Omit<Callback, 'attempt'> | undefined> {
  const uid = String(ctx.params.uid);
  const interaction = await login.interactions.find(ctx, uid);
  if (!interaction) {
    login.log.info({ uid }, 'WeChat callback without a live interaction in this browser');
    await refuseCallback(ctx, login);
    return undefined;
  }
  const state = ctx.query.state;
  const stored = isStateFormat(state) ? await login.attempts.find(state) : undefined;
  if (!isStateFormat(state) || !stored || stored.uid !== uid) {
    if (isStateFormat(state)) login.log.warn({ uid }, 'WeChat callback with a state this interaction never issued');
    await refuseCallback(ctx, login);
    return undefined;
  }
  if (stored.wecom) {
    // WeCom's SSO page may add its corpid as `appid` (../shared/wecom-and-phone.md 1.1): nothing to check there.
    const app = login.wecomApp(stored.wecom.app);
    if (app) return { interaction, state, app };
    login.log.warn({ uid, app: stored.wecom.app }, 'WeCom callback for an app that is no longer configured');
    await refuseCallback(ctx, login, stored.channel);
    return undefined;
  }
  const app = login.app(stored.appid);
  if (!app || !appidMatches(app, ctx.query.appid)) {
    login.log.warn({ uid, appid: stored.appid }, app ? 'WeChat callback naming another appid than the one asked' : 'WeChat callback for an app that is no longer configured');
    await refuseCallback(ctx, login, stored.channel);
    return undefined;
  }
  return { interaction, state, app };
}

/** On the account's behalf WeChat names the account in `appid`: it must be the one asked (and may not be absent). */
function appidMatches(app: ConfiguredApp, appid: unknown): boolean {
  return appid === undefined ? app.component === undefined : appid === app.appid;
}

/** Step 2 when another delivery claimed the attempt first: its answer, once it has one. */
async function followFirstDelivery(ctx: Context, login: CallbackParts, callback: Omit<Callback, 'attempt'>): Promise<void> {
  const answer = await login.attempts.answered(callback.state, REPEAT_WAIT_MS);
  login.log.info({ uid: callback.interaction.uid, followed: Boolean(answer) }, 'repeat delivery of a WeChat callback');
  if (answer) return sendAtCallback(ctx, answer);
  await refuseCallback(ctx, login);
}

/** Step 3: what WeChat says of the person (or of the refusal, or of its failure). */
async function completeUpstream(ctx: Context, login: CallbackParts, app: ConfiguredApp | ConfiguredWeComApp, attempt: Attempt): Promise<UpstreamResult | 'bad-code'> {
  const code = ctx.query.code;
  if (typeof code !== 'string' || code === '' || code === 'authdeny') return { type: 'refused' };
  if (!isWeChatCode(code)) return 'bad-code';
  try {
    if (app.kind === 'wecom') return { type: 'member', person: await login.upstreams.wecom.complete(app, code) };
    if (attempt.channel === 'wecom') return 'bad-code';
    return { type: 'user', user: await login.upstreams.byChannel(attempt.channel).complete(app, { scope: attempt.scope, code, lang: PROFILE_LANG[langOf(ctx)] }) };
  } catch (error) {
    if (error instanceof WeChatError) return { type: 'failed', error };
    throw error;
  }
}

/** The account the openid (or the WeCom member) has, when the decision needs it (snsapi_base gives no profile, no email, no mobile). */
async function accountOf(login: CallbackParts, attempt: Attempt, result: UpstreamResult): Promise<Account | undefined> {
  if (result.type === 'member') return attempt.wecom?.privateinfo ? undefined : login.linker.find(weComIdentity(result.person.corpid, result.person));
  if (attempt.scope !== 'snsapi_base' || result.type !== 'user') return undefined;
  return login.linker.find({ appid: result.user.appid, openid: result.user.openid });
}

export async function wechatCallback(ctx: Context, login: CallbackParts): Promise<void> {
  const verified = await verifyCallback(ctx, login);
  if (!verified) return;
  const attempt = await login.attempts.claim(verified.state);
  if (!attempt) return followFirstDelivery(ctx, login, verified);
  const callback: Callback = { ...verified, attempt };
  const result = await completeUpstream(ctx, login, verified.app, attempt);
  if (result === 'bad-code') return refuseCallback(ctx, login, attempt.channel, callback);
  const account = await accountOf(login, attempt, result);
  const scopes = requestedScopes(verified.interaction);
  await carryOut(ctx, login, callback, decide({ attempt, app: verified.app, result, account, scopes }), result);
}
