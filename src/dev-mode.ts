// Dev mode's substitutions, in one step: without WeChat credentials the built-in simulator
// plays WeChat (its apps and URLs replace WeChat's), and without CLIENTS_FILE the demo
// relying party is the one client. The Config this returns is the one in force.

import type { ClientMetadata, Config } from './config/config.ts';
import { demoClient } from './demo/routes.ts';
import { startSimulator, type RunningSimulator } from './simulator/server.ts';
import { devApps } from './simulator/world.ts';
import type { AppId } from './wechat/types.ts';

/** The configuration in force: every client registered, WeChat (or the simulator) set. */
export type RunningConfig = Config & { readonly clients: readonly ClientMetadata[] };

export interface DevMode {
  readonly config: RunningConfig;
  readonly simulator: RunningSimulator | undefined;
  /** The demo client, when it is registered. */
  readonly demo: ClientMetadata | undefined;
}

async function withSimulator(config: Config): Promise<{ config: Config; simulator: RunningSimulator | undefined }> {
  if (!config.simulator) return { config, simulator: undefined };
  const apps = devApps();
  const simulator = await startSimulator({
    apps,
    callbackHosts: [new URL(config.issuer).host],
    host: config.host === '0.0.0.0' ? 'localhost' : config.host,
    port: config.simulator.port,
  });
  return {
    simulator,
    config: {
      ...config,
      apps: apps.map(({ kind, appid, secret }) => ({ id: kind, kind, appid: appid as AppId, secret, configuredBy: 'the built-in simulator' })),
      wechat: { ...config.wechat, connectUrl: simulator.url, apiUrl: simulator.url, loginJsUrl: simulator.loginJsUrl },
    },
  };
}

export async function applyDevMode(loaded: Config): Promise<DevMode> {
  const { config, simulator } = await withSimulator(loaded);
  if (config.clients) return { config: { ...config, clients: config.clients }, simulator, demo: undefined };
  const demo = demoClient(config.issuer);
  return { config: { ...config, clients: [demo] }, simulator, demo };
}
