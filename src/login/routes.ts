// The interaction routes: where oidc-provider sends a person who must log in or consent.
//
//   GET  /interaction/:uid          choose the way to WeChat (or show consent)
//   GET  /interaction/:uid/wechat   WeChat's callback (callback.ts)
//   POST /interaction/:uid/consent  the consent form

import Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../http/read-body.ts';
import { SILENT_PARAM } from '../oidc/provider.ts';
import { errorPage, consentPage, openInWeChatPage } from '../pages/views.ts';
import { browserKind } from '../wechat/user-agent.ts';
import { wechatCallback } from './callback.ts';
import { finishInteraction, sendToWeChat, type Interaction, type LoginDeps } from './flow.ts';
import { chooseUpstream } from './upstream.ts';

async function interactionOf(ctx: Context, deps: LoginDeps): Promise<Interaction | undefined> {
  try {
    const interaction = await deps.provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid === ctx.params.uid) return interaction;
  } catch {
    // no interaction cookie in this browser, or the interaction expired
  }
  errorPage(ctx, { kind: 'interaction', status: 400 });
  return undefined;
}

const isSilent = (interaction: Interaction): boolean => interaction.params[SILENT_PARAM] === '1';

async function start(ctx: Context, deps: LoginDeps): Promise<void> {
  const interaction = await interactionOf(ctx, deps);
  if (!interaction) return;
  const silent = isSilent(interaction);
  if (interaction.prompt.name === 'consent') {
    if (silent) {
      deps.metrics.login('mp', 'consent_required');
      return void await finishInteraction(ctx, deps, { error: 'consent_required', error_description: 'End-User consent is required' });
    }
    const client = await deps.provider.Client.find(String(interaction.params.client_id));
    return consentPage(ctx, {
      clientName: client?.clientName ?? String(interaction.params.client_id),
      scopes: String(interaction.params.scope ?? '').split(' '),
      action: `/interaction/${interaction.uid}/consent`,
    });
  }
  if (interaction.prompt.name !== 'login') return errorPage(ctx, { kind: 'request', status: 400, detail: interaction.prompt.name });

  // A silent login already happened in this chain and oidc-provider asks again (say, an
  // id_token_hint for somebody else): only a visible login could help.
  const loopsSilently = silent && interaction.lastSubmission?.login !== undefined;
  const upstream = loopsSilently ? { type: 'login-required' as const } : chooseUpstream({
    browser: browserKind(ctx.get('user-agent')),
    apps: deps.config.apps,
    qrMode: deps.config.wechat.qrMode,
    silent,
    wantsQr: ctx.query.via === 'qr',
  });
  switch (upstream.type) {
    case 'web':
      return sendToWeChat(ctx, deps, interaction, { app: upstream.app, scope: 'snsapi_base', attempt: 1, silent });
    case 'qr':
      return sendToWeChat(ctx, deps, interaction, {
        app: upstream.app, scope: 'snsapi_login', attempt: 1, silent: false, embedded: upstream.mode === 'embedded',
      });
    case 'open-in-wechat':
      return openInWeChatPage(ctx, {
        link: await restartLink(deps, interaction),
        qrHref: upstream.qrApp ? `/interaction/${interaction.uid}?via=qr` : undefined,
      });
    case 'login-required':
      deps.metrics.login('none', 'login_required');
      return void await finishInteraction(ctx, deps, { error: 'login_required', error_description: 'End-User authentication is required' });
    case 'none':
      deps.log.error({ uid: interaction.uid }, 'no configured WeChat app can log in this browser');
      deps.metrics.login('none', 'misconfigured');
      return errorPage(ctx, { kind: 'misconfigured', status: 503 });
  }
}

/**
 * The link to open inside WeChat: the client's initiate_login_uri (third-party initiated
 * login, with `iss`), else its client_uri, else the authorization request itself.
 */
async function restartLink(deps: LoginDeps, interaction: Interaction): Promise<string> {
  const client = await deps.provider.Client.find(String(interaction.params.client_id));
  if (client?.initiateLoginUri) {
    const url = new URL(client.initiateLoginUri);
    url.searchParams.set('iss', deps.config.issuer);
    return url.href;
  }
  if (client?.clientUri) return client.clientUri;
  const params = Object.entries(interaction.params)
    .filter(([key, value]) => key !== SILENT_PARAM && typeof value === 'string') as Array<[string, string]>;
  return `${deps.config.issuer}/auth?${new URLSearchParams(params)}`;
}

async function consent(ctx: Context, deps: LoginDeps): Promise<void> {
  const interaction = await interactionOf(ctx, deps);
  if (!interaction) return;
  if (interaction.prompt.name !== 'consent') return errorPage(ctx, { kind: 'interaction', status: 400 });
  const form = await readForm(ctx);
  if (form.get('decision') !== 'allow') {
    return void await finishInteraction(ctx, deps, { error: 'access_denied', error_description: 'End-User denied the request' });
  }
  const { Grant } = deps.provider;
  const accountId = interaction.session?.accountId;
  const clientId = String(interaction.params.client_id);
  if (!accountId) return errorPage(ctx, { kind: 'interaction', status: 400 });
  const grant = (interaction.grantId ? await Grant.find(interaction.grantId) : undefined) ?? new Grant({ accountId, clientId });
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  const grantId = await grant.save();
  await finishInteraction(ctx, deps, { consent: { grantId } }, true);
}

export function loginRoutes(deps: LoginDeps): Router {
  const router = new Router();
  router.get('/interaction/:uid', (ctx) => start(ctx, deps));
  router.get('/interaction/:uid/wechat', (ctx) => wechatCallback(ctx, deps));
  router.post('/interaction/:uid/consent', (ctx) => consent(ctx, deps));
  return router;
}
