// The login: what the interaction routes share (each types the part it uses), built once
// in app.ts, with the two moves every route makes: send the browser to WeChat on a fresh
// attempt, or end the interaction and send the browser back to the provider. Each gives
// the answer; the route sends it (answer.ts).

import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { AccountLinker } from '../accounts/linking.ts';
import type { PhoneHolders } from '../accounts/phone-holders.ts';
import type { QrMode } from '../wechat/authorize.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { Interaction, InteractionError, Interactions } from '../oidc/interactions.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import type { Counters } from '../storage/counters.ts';
import { clientDisplay } from '../oidc/client-display.ts';
import { langOf } from '../pages/html.ts';
import type { Lang } from '../pages/i18n.ts';
import type { AppId } from '../wechat/types.ts';
import type { Attempt, Attempts } from './attempts.ts';
import type { FollowScenes } from '../upstreams/wechat-follow/follow-scenes.ts';
import type { Handoffs } from './handoff.ts';
import type { SilentLogins } from './silent.ts';
import type { Answer } from './answer.ts';
import type { Upstreams } from '../upstreams/upstreams.ts';
import { appsOfClient } from '../upstreams/choose.ts';

export interface LoginParts {
  /** The broker's public URL: WeChat's callbacks and the links people open are under it. */
  readonly issuer: string;
  readonly qrMode: QrMode;
  /** The configured WeChat apps, in order of preference within a kind. */
  readonly apps: readonly ConfiguredApp[];
  /** The configured WeCom apps. */
  readonly wecomApps: readonly ConfiguredWeComApp[];
  readonly interactions: Interactions;
  readonly attempts: Attempts;
  /** The ways in (upstreams/): WeChat is reached through them only. */
  readonly upstreams: Upstreams;
  /** Follow-to-login's QR scenes and their scans. */
  readonly scenes: FollowScenes;
  /** Follow-to-login QR codes WeChat may be asked for in a minute (0: no limit), counted across instances. */
  readonly followQrBudget: { readonly perMinute: number; readonly counters: Counters };
  readonly linker: AccountLinker;
  /** Which account each phone number was last given to (a WeCom member's, from their login). */
  readonly holders: PhoneHolders;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  readonly silent: SilentLogins;
  readonly handoffs: Handoffs;
}

export interface Login extends LoginParts {
  /** The configured app of an attempt (undefined when the configuration changed since). */
  app(appid: AppId): ConfiguredApp | undefined;
  /** The configured WeCom app of an attempt, by its id. */
  wecomApp(id: string): ConfiguredWeComApp | undefined;
  /** Keeps `attempt` for as long as the interaction lives: the answer that sends the browser to WeChat. */
  begin(ctx: Context, interaction: Interaction, attempt: Attempt): Promise<Answer>;
  /** Ends the interaction with `result`: the answer that sends the browser back to the provider. */
  end(ctx: Context, result: InteractionResults | InteractionError, merge?: boolean): Promise<Answer>;
}

/** Where an attempt sends the browser: its way in's authorize page, or the broker's QR page. */
function toWeChat(parts: LoginParts, attempt: Attempt, state: string, lang: Lang): Answer {
  const redirectUri = `${parts.issuer}/interaction/${attempt.uid}/wechat`;
  const { wecom, channel } = attempt;
  if (wecom) {
    const app = parts.wecomApps.find((candidate) => candidate.id === wecom.app);
    if (!app) return { type: 'page', page: { kind: 'misconfigured', status: 503 } };
    return parts.upstreams.wecom.authorize(app, { redirectUri, state, lang: lang === 'en' ? 'en' : 'zh', inClient: wecom.inClient, privateinfo: wecom.privateinfo === true });
  }
  const app = parts.apps.find((candidate) => candidate.appid === attempt.appid);
  if (!app || channel === 'wecom') return { type: 'page', page: { kind: 'misconfigured', status: 503 } };
  return parts.upstreams.byChannel(channel).authorize(app, { redirectUri, scope: attempt.scope, state, lang, embedded: attempt.embedded });
}

export function createLogin(parts: LoginParts): Login {
  const appOf = (appid: AppId) => parts.apps.find((candidate) => candidate.appid === appid);
  return {
    ...parts,
    app: appOf,
    wecomApp: (id) => parts.wecomApps.find((candidate) => candidate.id === id),
    async begin(ctx, interaction, attempt) {
      const state = await parts.attempts.begin(attempt, interaction.exp - Math.floor(Date.now() / 1000));
      const answer = toWeChat(parts, attempt, state, langOf(ctx));
      if (answer.type !== 'qr' && answer.type !== 'wecom-panel') return answer;
      // The broker's own QR or panel page says which app the person logs in to, and offers a way back.
      const client = await parts.interactions.client(interaction);
      const app = client && clientDisplay(client, langOf(ctx));
      const cancelAction = `/interaction/${interaction.uid}/cancel`;
      if (answer.type === 'wecom-panel') return { type: 'wecom-panel', panel: { ...answer.panel, ...(app ? { app } : {}), cancelAction } };
      // Follow-to-login offered beside the QR where one of the client's Official Accounts has it.
      const follow = appsOfClient(parts.apps, client).some((candidate) => candidate.kind === 'mp' && candidate.followLogin === true);
      return {
        type: 'qr',
        qr: { ...answer.qr, ...(app ? { app } : {}), ...(follow ? { followHref: `/interaction/${interaction.uid}?via=follow` } : {}), cancelAction },
      };
    },
    async end(ctx, result, merge = false) {
      return { type: 'redirect', url: await parts.interactions.finish(ctx, result, merge) };
    },
  };
}
