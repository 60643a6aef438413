// GET /interaction/:uid — where oidc-provider sends a person who must log in or consent:
// the consent page (with a device's confirmation, for a device's login), or the way to
// WeChat that upstreams/choose.ts chooses for this browser.

import type { Context } from 'koa';
import type { AccountId } from '../accounts/account.ts';
import type { AppId } from '../wechat/types.ts';
import { clientDisplay, initiateLoginLink } from '../oidc/client-display.ts';
import { SELECT_ACCOUNT, type Client, type Interaction } from '../oidc/interactions.ts';
import { DEVICE_PROMPT } from '../oidc/device-flow.ts';
import { langOf } from '../pages/html.ts';
import { errorPage } from '../pages/error-pages.ts';
import { consentPage, openInWeChatPage, pickPage } from '../pages/login-pages.ts';
import { browserKind, isWeComClient } from '../wechat/user-agent.ts';
import { consentItemsOf } from './claims.ts';
import { startFollow } from './follow.ts';
import { browserName } from '../http/browser-name.ts';
import type { Login } from './login.ts';
import { SILENT_PARAM } from './silent.ts';
import { lostLoginPage, rememberLoginApp } from './lost-login.ts';
import { send } from './answer.ts';
import { appsOfClient, chooseWithWeCom, wecomAppsOfClient } from '../upstreams/choose.ts';
import type { FollowParts } from './follow.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type StartParts = Pick<Login, 'apps' | 'wecomApps' | 'begin' | 'end' | 'handoffs' | 'interactions' | 'issuer' | 'linker' | 'log' | 'metrics' | 'qrMode' | 'silent' | 'upstreams'> & FollowParts;

/** The consent page's "not you?": log in again, in this interaction. */
const SWITCH = 'switch=account';

const CONSENT_REQUIRED = { error: 'consent_required', error_description: 'End-User consent is required' } as const;
const LOGIN_REQUIRED = { error: 'login_required', error_description: 'End-User authentication is required' } as const;
const PLATFORM_STARTING = { error: 'temporarily_unavailable', error_description: 'the login service is starting up' } as const;

async function askConsent(ctx: Context, login: StartParts, interaction: Interaction): Promise<void> {
  if (login.silent.isSilent(interaction)) {
    login.metrics.login('web', 'consent_required');
    send(ctx, await login.end(ctx, CONSENT_REQUIRED));
    return;
  }
  const client = await login.interactions.client(interaction);
  const accountId = interaction.session?.accountId;
  const account = accountId ? await login.linker.byId(accountId as AccountId) : undefined;
  consentPage(ctx, {
    app: client ? clientDisplay(client, langOf(ctx)) : { name: String(interaction.params.client_id) },
    // A device's confirmation alone asks for nothing new: consent was given before.
    items: interaction.prompt.name === 'consent' ? consentItemsOf(interaction) : [],
    apis: interaction.prompt.name === 'consent' ? await login.interactions.apisAsked(interaction, langOf(ctx)) : [],
    device: await login.interactions.device(interaction),
    action: `/interaction/${interaction.uid}/consent`,
    ...(account ? { person: { nickname: account.profile.nickname, picture: account.profile.picture } } : {}),
    // "Not you?": a new WeChat login within this interaction. No parameter of the request is
    // copied into a URL (a pushed request's stay pushed); if WeChat names somebody else,
    // oidc-provider ends the previous session before it goes on (and asks consent anew).
    // Inside WeChat the login can only be the WeChat account present: nothing to switch to.
    ...(browserKind(ctx.get('user-agent')) === 'wechat' ? {} : { switchHref: `/interaction/${interaction.uid}?${SWITCH}` }),
  });
}

/** The interaction's authorization request, again (without the broker's own marker), to open in another browser. */
function authorizationUrl(issuer: string, interaction: Interaction): string {
  const params = Object.entries(interaction.params)
    .filter(([key, value]) => key !== SILENT_PARAM && typeof value === 'string') as Array<[string, string]>;
  return `${issuer}/auth?${new URLSearchParams(params)}`;
}

/**
 * The link to open inside WeChat: the client's initiate_login_uri (third-party initiated
 * login, OIDC Core 4, with `iss`), else its client_uri, else the authorization request itself.
 */
function restartLink(issuer: string, client: Client | undefined, interaction: Interaction): string {
  return (client && initiateLoginLink(client, issuer)) ?? client?.clientUri ?? authorizationUrl(issuer, interaction);
}

/**
 * A phone browser outside WeChat: with an Official Account, the hand-off (a short link
 * to open in WeChat; this page waits and finishes the login); else the app's own way to
 * start a login inside WeChat. The QR for another device where QR login is configured.
 */
async function openInWeChat(ctx: Context, login: StartParts, interaction: Interaction, qr: boolean): Promise<void> {
  const client = await login.interactions.client(interaction);
  const { uid } = interaction;
  // The hand-off needs an Official Account among the client's apps: WeChat authorizes the person there.
  const clientApps = appsOfClient(login.apps, client);
  const handoff = clientApps.some((app) => app.kind === 'mp') ? await login.handoffs.open(uid, browserName(ctx.get('user-agent'))) : undefined;
  openInWeChatPage(ctx, {
    link: handoff ? `${login.issuer}/h/${login.handoffs.code(uid)}` : restartLink(login.issuer, client, interaction),
    ...(handoff ? {
      handoff: { match: login.handoffs.match(uid), statusUrl: `/interaction/${uid}/handoff`, finishAction: `/interaction/${uid}/handoff/finish` },
    } : {}),
    qrHref: qr ? `/interaction/${uid}?via=qr` : undefined,
    // The app's own way to start a login inside WeChat, offered too (OIDC Core 4).
    ...(handoff && client?.initiateLoginUri ? { appStart: restartLink(login.issuer, client, interaction) } : {}),
    ...(client ? { app: clientDisplay(client, langOf(ctx)) } : {}),
    cancelAction: `/interaction/${uid}/cancel`,
  });
}

async function upstreamFor(ctx: Context, login: StartParts, interaction: Interaction) {
  const silent = login.silent.isSilent(interaction);
  // A silent login already happened in this chain and oidc-provider asks again (say, an
  // id_token_hint for somebody else): only a visible login could help.
  if (silent && interaction.lastSubmission?.login !== undefined) return { type: 'login-required' as const };
  const client = await login.interactions.client(interaction);
  const apps = appsOfClient(login.apps, client);
  const { via } = ctx.query;
  return chooseWithWeCom({
    browser: browserKind(ctx.get('user-agent')),
    apps,
    qrMode: login.qrMode,
    silent,
    wantsQr: via === 'qr',
    follow: apps.find((app) => app.kind === 'mp' && app.followLogin === true),
    wantsFollow: via === 'follow',
  }, {
    app: wecomAppsOfClient(login.wecomApps, client)[0],
    inWeCom: isWeComClient(ctx.get('user-agent')),
    picked: via === 'wecom' ? 'wecom' : via === 'wechat' ? 'wechat' : undefined,
  });
}

/** Both WeCom and WeChat could log this person in: the broker's page names both, in the client's order. */
async function pickWay(ctx: Context, login: StartParts, interaction: Interaction): Promise<void> {
  const client = await login.interactions.client(interaction);
  const base = `/interaction/${interaction.uid}`;
  pickPage(ctx, {
    wecomHref: `${base}?via=wecom`, wechatHref: `${base}?via=wechat`,
    ...(client ? { app: clientDisplay(client, langOf(ctx)) } : {}),
    cancelAction: `${base}/cancel`,
  });
}

/** WeChat keeps failing (its circuit is open): no point sending the person there now. */
function weChatDown(ctx: Context, login: StartParts, interaction: Interaction): void {
  login.log.warn({ uid: interaction.uid }, 'WeChat keeps failing: login not started');
  login.metrics.login('none', 'unavailable');
  errorPage(ctx, { kind: 'unavailable', status: 503, retryHref: `/interaction/${interaction.uid}` });
}

/**
 * The Official Account is reached through a third-party platform that has no ticket yet
 * (WeChat pushes the first within 10 minutes of the platform going live): the person is
 * not sent to an authorization that could not complete. prompt=none gets the OAuth error.
 */
async function platformStarting(ctx: Context, login: StartParts, interaction: Interaction, platform: string): Promise<void> {
  login.log.warn({ uid: interaction.uid, platform }, `login not started: third-party platform ${platform} is waiting for its first component_verify_ticket`);
  login.metrics.login('web', 'unavailable');
  if (login.silent.isSilent(interaction)) return send(ctx, await login.end(ctx, PLATFORM_STARTING));
  errorPage(ctx, { kind: 'starting', status: 503, retryHref: `/interaction/${interaction.uid}` });
}

async function toUpstream(ctx: Context, login: StartParts, interaction: Interaction): Promise<void> {
  const upstream = await upstreamFor(ctx, login, interaction);
  const first = { uid: interaction.uid, round: 1 };
  if ((upstream.type === 'web' || upstream.type === 'qr') && !login.upstreams.available) return weChatDown(ctx, login, interaction);
  if (upstream.type === 'wecom' && !login.upstreams.wecom.available) return weChatDown(ctx, login, interaction);
  const platform = upstream.type === 'web' ? await login.upstreams.web.waitingPlatform(upstream.app) : undefined;
  if (platform !== undefined) return platformStarting(ctx, login, interaction, platform);
  switch (upstream.type) {
    case 'web':
      return send(ctx, await login.begin(ctx, interaction, {
        ...first, channel: 'web', appid: upstream.app.appid, scope: 'snsapi_base', embedded: false, silent: login.silent.isSilent(interaction),
      }));
    case 'qr':
      return send(ctx, await login.begin(ctx, interaction, {
        ...first, channel: 'qr', appid: upstream.app.appid, scope: 'snsapi_login', embedded: upstream.mode === 'embedded', silent: false,
      }));
    case 'wecom':
      return send(ctx, await login.begin(ctx, interaction, {
        ...first, channel: 'wecom', appid: upstream.app.corpid as string as AppId, scope: 'snsapi_base', embedded: false,
        silent: login.silent.isSilent(interaction), wecom: { app: upstream.app.id, inClient: upstream.inClient },
      }));
    case 'pick':
      return pickWay(ctx, login, interaction);
    case 'follow':
      return startFollow(ctx, login, interaction, upstream.app, upstream.qrApp !== undefined);
    case 'open-in-wechat':
      return openInWeChat(ctx, login, interaction, upstream.qrApp !== undefined);
    case 'login-required':
      login.metrics.login('none', 'login_required');
      return send(ctx, await login.end(ctx, LOGIN_REQUIRED));
    case 'none':
      login.log.error({ uid: interaction.uid }, 'no configured WeChat app can log in this browser');
      login.metrics.login('none', 'misconfigured');
      return errorPage(ctx, { kind: 'misconfigured', status: 503 });
  }
}

export async function startInteraction(ctx: Context, login: StartParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  if (!interaction) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  rememberLoginApp(ctx, String(interaction.params.client_id));
  const switching = ctx.query.switch === 'account' && !login.silent.isSilent(interaction);
  // Consent, or a device's confirmation (oidc/device-flow.ts), on the same page: after the login.
  if ((interaction.prompt.name === 'consent' || interaction.prompt.name === DEVICE_PROMPT) && !switching) return askConsent(ctx, login, interaction);
  if (switching) return toUpstream(ctx, login, interaction);
  if (interaction.prompt.name !== 'login' && interaction.prompt.name !== SELECT_ACCOUNT) return errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail: `unexpected prompt ${interaction.prompt.name}` });
  return toUpstream(ctx, login, interaction);
}
