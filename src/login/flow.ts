// Steps shared by the interaction routes and the WeChat callback: sending the person to
// WeChat with a fresh state, and ending the interaction.

import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { AccountLinker } from '../accounts/linking.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import { langOf } from '../pages/html.ts';
import { qrPage } from '../pages/views.ts';
import { qrConnectUrl, webAuthorizeUrl } from '../wechat/authorize.ts';
import type { WeChatClient } from '../wechat/client.ts';
import type { WeChatApp, WeChatScope } from '../wechat/types.ts';
import type { LoginState, LoginStates } from './state.ts';

export interface LoginDeps {
  readonly config: Config;
  readonly provider: Provider;
  readonly states: LoginStates;
  readonly wechat: WeChatClient;
  readonly linker: AccountLinker;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
}

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export function callbackUrl(config: Config, uid: string): string {
  return `${config.issuer}/interaction/${uid}/wechat`;
}

export interface Attempt {
  readonly app: WeChatApp;
  readonly scope: WeChatScope;
  readonly attempt: number;
  readonly silent: boolean;
  /** QR login drawn in the broker's page (wxLogin.js) rather than WeChat's own page. */
  readonly embedded?: boolean;
}

/** Creates a state for this attempt and sends the browser to WeChat (or draws the QR). */
export async function sendToWeChat(ctx: Context, deps: LoginDeps, interaction: Interaction, attempt: Attempt): Promise<void> {
  const { config } = deps;
  const record: LoginState = {
    uid: interaction.uid,
    kind: attempt.app.kind,
    appid: attempt.app.appid,
    scope: attempt.scope,
    attempt: attempt.attempt,
    silent: attempt.silent,
  };
  const ttl = interaction.exp - Math.floor(Date.now() / 1000);
  const state = await deps.states.create(record, ttl);
  const request = {
    appid: attempt.app.appid,
    redirectUri: callbackUrl(config, interaction.uid),
    scope: attempt.scope,
    state,
    ...(attempt.scope === 'snsapi_login' ? { lang: langOf(ctx) === 'en' ? 'en' as const : 'cn' as const } : {}),
  };
  if (attempt.scope !== 'snsapi_login') return redirect(ctx, webAuthorizeUrl(config.wechat.connectUrl, request));
  const qrUrl = qrConnectUrl(config.wechat.connectUrl, request);
  if (!attempt.embedded) return redirect(ctx, qrUrl);
  qrPage(ctx, {
    appid: attempt.app.appid,
    redirectUri: request.redirectUri,
    state,
    loginJsUrl: config.wechat.loginJsUrl,
    connectUrl: config.wechat.connectUrl,
    fallbackUrl: qrUrl,
  });
}

/** Ends the interaction with `result` and sends the browser back to oidc-provider. */
export async function finishInteraction(ctx: Context, deps: LoginDeps, result: InteractionResults, merge = false): Promise<string> {
  const returnTo = await deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  redirect(ctx, returnTo);
  return returnTo;
}

export function redirect(ctx: Context, url: string): void {
  ctx.status = 303;
  ctx.redirect(url);
}

/** The scopes the relying party asked for. */
export function requestedScopes(interaction: Interaction): Set<string> {
  return new Set(String(interaction.params.scope ?? '').split(' ').filter(Boolean));
}
