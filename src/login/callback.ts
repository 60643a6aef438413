// GET /interaction/:uid/wechat — where WeChat sends the person back with `code` and `state`.
//
// The interaction's signed cookie proves this is the browser that started the login; the
// state must be one the broker issued for this interaction, unexpired and unused. Then the
// code is exchanged, the person's account found (or made, completed, merged), and the
// interaction finished. A second delivery of the same callback waits for the first and
// follows it to the same place.

import type { Context } from 'koa';
import type { LoginFacts } from '../accounts/account.ts';
import { langOf } from '../pages/html.ts';
import { errorPage } from '../pages/views.ts';
import { acrForApp } from '../oidc/claims.ts';
import { httpsAvatar } from '../wechat/avatar.ts';
import {
  WeChatCodeRejectedError, WeChatCredentialsError, WeChatError, WeChatUnavailableError,
} from '../wechat/errors.ts';
import type { WeChatProfile, WeChatToken } from '../wechat/types.ts';
import {
  finishInteraction, redirect, requestedScopes, sendToWeChat, type Interaction, type LoginDeps,
} from './flow.ts';
import { isStateFormat, type LoginState } from './state.ts';
import { accountCovers } from './upstream.ts';

/** How long a repeat delivery waits for the first one to finish. */
const REPEAT_WAIT_MS = 8000;
const CODE_FORMAT = /^[\x21-\x7e]{1,512}$/;

export async function wechatCallback(ctx: Context, deps: LoginDeps): Promise<void> {
  const { provider, states, log, metrics } = deps;
  const uid = String(ctx.params.uid);
  const badState = (upstream = 'unknown') => {
    metrics.login(upstream, 'state_invalid');
    errorPage(ctx, { kind: 'state', status: 400 });
  };
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    log.info({ uid }, 'WeChat callback without a live interaction in this browser');
    return badState();
  }
  const stateId = ctx.query.state;
  if (interaction.uid !== uid || !isStateFormat(stateId)) return badState();
  const known = await states.find(stateId);
  if (!known || known.uid !== uid) {
    log.warn({ uid }, 'WeChat callback with a state this interaction never issued');
    return badState();
  }

  const state = await states.claim(stateId);
  if (!state) {
    const returnTo = await states.outcome(stateId, REPEAT_WAIT_MS);
    log.info({ uid, followed: Boolean(returnTo) }, 'repeat delivery of a WeChat callback');
    return returnTo ? redirect(ctx, returnTo) : badState(known.kind);
  }

  const code = ctx.query.code;
  if (typeof code !== 'string' || code === '' || code === 'authdeny') {
    log.info({ uid, upstream: state.kind, client: interaction.params.client_id }, 'login refused at WeChat');
    metrics.login(state.kind, 'refused');
    const returnTo = await finishInteraction(ctx, deps, {
      error: 'access_denied', error_description: 'the End-User declined the WeChat authorization',
    });
    return states.finish(stateId, state, returnTo);
  }

  const app = deps.config.apps.find((candidate) => candidate.appid === state.appid);
  if (!app || !CODE_FORMAT.test(code)) return badState(state.kind);

  let token: WeChatToken;
  let profile: WeChatProfile | undefined;
  try {
    token = await deps.wechat.exchangeCode(app, code);
    if (token.snapshotUser) {
      log.info({ uid, upstream: state.kind }, 'snapshot-page user refused');
      metrics.login(state.kind, 'snapshot');
      return errorPage(ctx, { kind: 'snapshot', status: 403, retryHref: `/interaction/${uid}` });
    }
    if (state.scope !== 'snsapi_base') {
      profile = await deps.wechat.profile(token.accessToken, token.openid, langOf(ctx) === 'en' ? 'en' : 'zh_CN');
    }
  } catch (error) {
    return weChatFailed(ctx, deps, interaction, state, error);
  }

  const facts: LoginFacts = {
    identity: { appid: app.appid, openid: token.openid },
    unionid: token.unionid ?? profile?.unionid,
    profile: profile && { nickname: profile.nickname, picture: httpsAvatar(profile.headimgurl) },
  };

  if (state.scope === 'snsapi_base') {
    const existing = await deps.linker.find(facts.identity);
    if (!accountCovers(existing, requestedScopes(interaction))) {
      if (state.silent) return endSilently(ctx, deps, stateId, state);
      return sendToWeChat(ctx, deps, interaction, { app, scope: 'snsapi_userinfo', attempt: state.attempt, silent: false });
    }
  }

  const account = await deps.linker.resolve(facts);
  const returnTo = await finishInteraction(ctx, deps, {
    login: {
      accountId: account.id,
      acr: acrForApp(app.appid),
      amr: [app.kind === 'mp' ? 'wechat_mp' : 'wechat_qr'],
      remember: true,
    },
  });
  await states.finish(stateId, state, returnTo);
  metrics.login(state.kind, 'success');
  log.info({
    uid, upstream: state.kind, scope: state.scope, client: interaction.params.client_id, account: account.id,
  }, 'login succeeded');
}

async function endSilently(ctx: Context, deps: LoginDeps, stateId: string, state: LoginState): Promise<void> {
  deps.metrics.login(state.kind, 'login_required');
  const returnTo = await finishInteraction(ctx, deps, {
    error: 'login_required', error_description: 'End-User authentication is required',
  });
  await deps.states.finish(stateId, state, returnTo);
}

/** What the person and the relying party get when a WeChat call fails. */
async function weChatFailed(ctx: Context, deps: LoginDeps, interaction: Interaction, state: LoginState, error: unknown): Promise<void> {
  if (!(error instanceof WeChatError)) throw error;
  const { log, metrics } = deps;
  const fields = {
    uid: interaction.uid, upstream: state.kind, appid: state.appid, client: interaction.params.client_id,
    wechat: { kind: error.code, errcode: error.errcode, rid: error.requestId },
  };
  if (error instanceof WeChatCodeRejectedError) {
    const app = deps.config.apps.find((candidate) => candidate.appid === state.appid)!;
    if (state.attempt < 2) {
      log.warn(fields, 'WeChat rejected the code, trying once more with a fresh authorization');
      return sendToWeChat(ctx, deps, interaction, {
        app, scope: state.scope, attempt: state.attempt + 1, silent: state.silent, embedded: deps.config.wechat.qrMode === 'embedded',
      });
    }
    log.warn(fields, 'WeChat rejected the code twice');
    metrics.login(state.kind, 'code_rejected');
    return errorPage(ctx, { kind: 'code', status: 400, retryHref: `/interaction/${interaction.uid}` });
  }
  if (error instanceof WeChatCredentialsError) {
    metrics.login(state.kind, 'misconfigured');
    log.error(fields, `WeChat refused the app credentials: check ${state.kind === 'mp' ? 'WECHAT_MP_APPID/WECHAT_MP_SECRET' : 'WECHAT_OPEN_APPID/WECHAT_OPEN_SECRET'}`);
    return errorPage(ctx, { kind: 'misconfigured', status: 503 });
  }
  if (error instanceof WeChatUnavailableError) log.warn(fields, 'WeChat unavailable');
  else log.error(fields, 'WeChat refused a call the broker made');
  metrics.login(state.kind, 'unavailable');
  await finishInteraction(ctx, deps, {
    error: 'temporarily_unavailable', error_description: 'WeChat is temporarily unavailable',
  });
}
