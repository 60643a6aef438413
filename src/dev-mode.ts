// Dev mode's substitutions, in one step: without WeChat credentials the built-in simulator
// plays WeChat (its estate and URLs replace WeChat's: a website app, a brand Official
// Account with follow-to-login, and a shop Official Account reached through a simulated
// third-party platform) and WeCom (a company with a self-built app, offered beside WeChat
// to the demo client),
// and without CLIENTS_FILE the demo relying party is the one client (with a demo device for
// examples/device-login.mjs). The Config this
// returns is the one in force.

import { randomBytes } from 'node:crypto';
import { ANY_OPERATOR, type ClientMetadata, type Config } from './config/config.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from './wechat/apps.ts';
import { demoClient, demoDeviceClient } from './demo/routes.ts';
import { startSimulator, type RunningSimulator } from './simulator/server.ts';
import { randomCorp, type SimCorp } from './simulator/wecom-corp.ts';
import { devEstate } from './simulator/world.ts';
import type { CorpId } from './wechat/wecom.ts';
import type { AppId } from './wechat/types.ts';

/** The configuration in force: every client registered, WeChat (or the simulator) set. */
export type RunningConfig = Config & { readonly clients: readonly ClientMetadata[] };

export interface DevMode {
  readonly config: RunningConfig;
  readonly simulator: RunningSimulator | undefined;
  /** The demo client, when it is registered. */
  readonly demo: ClientMetadata | undefined;
}

const PLATFORM_ID = 'platform';
/** The simulated company's WeCom app: the demo client offers it beside WeChat's. */
const DEMO_WECOM_APP = 'wecom';
/** WeChat pushes a component_verify_ticket every 10 minutes. */
const TICKET_EVERY_MS = 10 * 60_000;

/** The simulated company's self-built app, as the apps file would configure it. */
function weComApp(corp: SimCorp, configuredBy: string): ConfiguredWeComApp {
  return {
    id: DEMO_WECOM_APP, kind: 'wecom', corpid: corp.corpid as CorpId, agentid: corp.agentid, secret: corp.secret, scope: 'snsapi_base',
    name: '员工门户', configuredBy, allowNonMembers: false,
  };
}

/** The simulator's people are nobody real: anyone who logs in may try the console, unless CONSOLE_OPERATORS says who. */
const simulatedOperators = (config: Config): Config['consoleOperators'] => (
  config.consoleOperators.size > 0 ? config.consoleOperators : new Map([[ANY_OPERATOR, 'write' as const]]));

async function withSimulator(config: Config): Promise<{ config: Config; simulator: RunningSimulator | undefined }> {
  if (!config.simulator) return { config, simulator: undefined };
  const { brand, shop, web, platform } = devEstate();
  // The URLs an operator enters in the platform's console, and in the brand account's 服务器配置.
  platform.authEventsUrl = `${config.issuer}/wechat/platform/${PLATFORM_ID}/auth-events`;
  platform.eventsUrl = `${config.issuer}/wechat/platform/${PLATFORM_ID}/events/$APPID$`;
  // Safe mode (安全模式), as follow-to-login requires: a token and an EncodingAESKey of 43 letters and digits.
  const messageKeys = { token: randomBytes(12).toString('hex'), aesKey: randomBytes(43).toString('hex').slice(0, 43) };
  brand.server = { url: `${config.issuer}/wechat/mp/mp/events`, ...messageKeys };
  const corp = randomCorp();
  const simulator = await startSimulator({
    apps: [web, brand, shop],
    platforms: [platform],
    corps: [corp],
    pushTicketsEveryMs: TICKET_EVERY_MS,
    callbackHosts: [new URL(config.issuer).host],
    host: config.host === '0.0.0.0' ? 'localhost' : config.host,
    port: config.simulator.port,
  });
  const configuredBy = 'the built-in simulator';
  // The website app first: a desktop gets QR login, and follow-to-login with `via=follow`.
  const apps: ConfiguredApp[] = [
    { id: 'open', kind: 'open', appid: web.appid as AppId, secret: web.secret, configuredBy },
    { id: 'mp', kind: 'mp', appid: brand.appid as AppId, secret: brand.secret, name: '品牌服务号', configuredBy, followLogin: true, messageKeys },
    { id: 'shop-mp', kind: 'mp', appid: shop.appid as AppId, component: platform.appid as AppId, via: PLATFORM_ID, name: '商城服务号', configuredBy },
  ];
  return {
    simulator,
    config: {
      ...config,
      apps,
      platforms: [{ id: PLATFORM_ID, appid: platform.appid as AppId, secret: platform.secret, token: platform.token, aesKey: platform.aesKey }],
      wecomApps: [weComApp(corp, configuredBy)],
      wechat: {
        ...config.wechat, connectUrl: simulator.url, mpUrl: simulator.url, apiUrl: simulator.url, loginJsUrl: simulator.loginJsUrl,
        wecomApiUrl: simulator.url, wecomLoginUrl: simulator.url, wecomLoginJsUrl: simulator.wecomLoginJsUrl,
      },
    },
  };
}

export async function applyDevMode(loaded: Config): Promise<DevMode> {
  const simulated = await withSimulator(loaded);
  const { simulator } = simulated;
  const config = simulator ? { ...simulated.config, consoleOperators: simulatedOperators(simulated.config) } : simulated.config;
  if (config.clients) return { config: { ...config, clients: config.clients }, simulator, demo: undefined };
  // With the simulator, the demo offers its WeCom app too (a client names WeCom apps to offer them).
  const demo = { ...demoClient(config.issuer), ...(simulator ? { wechat_apps: [...config.apps, ...config.wecomApps].map((app) => app.id) } : {}) };
  return { config: { ...config, clients: [demo, demoDeviceClient()] }, simulator, demo };
}
