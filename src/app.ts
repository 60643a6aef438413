// Builds the broker: the stores, the metrics, the simulator in dev mode, and the app (the
// provider, a Koa app, with the broker's middleware in order and its routes), which SIGHUP
// rebuilds from re-read files. main.ts listens and handles signals.

import type Provider from 'oidc-provider';
import { AccountLinker } from './accounts/linking.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reloadFiles, type ClientMetadata, type Config } from './config/config.ts';
import { demoClient, demoRoutes } from './demo/routes.ts';
import { createLogger, type Logger } from './log.ts';
import { loginRoutes } from './login/routes.ts';
import { silentPromptInWeChat } from './login/silent.ts';
import { LoginStates, STATE_MODEL } from './login/state.ts';
import { createProvider } from './oidc/provider.ts';
import { errorPages } from './ops/errors.ts';
import { healthRoutes } from './ops/health.ts';
import { BrokerMetrics, metricsRoutes } from './ops/metrics.ts';
import { requestLog } from './ops/request-log.ts';
import { observeStorage } from './storage/errors.ts';
import { openStores, type Stores } from './storage/open.ts';
import { startSimulator, type RunningSimulator } from './simulator/server.ts';
import { devApps } from './simulator/world.ts';
import { WeChatClient } from './wechat/client.ts';
import type { WeChatApp } from './wechat/types.ts';

export interface Broker {
  /** The HTTP request handler: always the app in force, so a reload never drops a request. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The configuration in force (in simulator mode: the simulator's apps and URLs). */
  readonly config: Config;
  readonly log: Logger;
  readonly simulator: RunningSimulator | undefined;
  /** The demo relying party's start page, when the demo runs. */
  readonly demoUrl: string | undefined;
  readonly stores: Stores;
  readonly metrics: BrokerMetrics;
  /**
   * Re-reads CLIENTS_FILE and JWKS_FILE and swaps in a new app built from them; requests in
   * flight finish on the old one. Throws ConfigError (and keeps the old app) when a file is wrong.
   */
  reload(): Promise<Config>;
  /** Readiness turns 503 from here on. */
  beginShutdown(): void;
  close(): Promise<void>;
}

/** In simulator mode, the simulator's own apps and URLs take WeChat's place. */
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
      apps: apps.map(({ kind, appid, secret }): WeChatApp => ({ kind, appid: appid as WeChatApp['appid'], secret })),
      wechat: { ...config.wechat, connectUrl: simulator.url, apiUrl: simulator.url, loginJsUrl: simulator.loginJsUrl },
    },
  };
}

interface Shared {
  readonly log: Logger;
  readonly stores: Stores;
  readonly metrics: BrokerMetrics;
  readonly isClosing: () => boolean;
}

/** The provider (a Koa app) with the broker's middleware and routes, for one set of clients and keys. */
async function buildApp(config: Config, shared: Shared, demo: ClientMetadata | undefined): Promise<Provider> {
  const { log, stores, metrics } = shared;
  const provider = await createProvider({
    config, clients: config.clients ?? [demo!], storage: stores.protocol, accounts: stores.accounts,
  });
  provider.on('server_error', (_ctx, error: Error) => log.error({ err: error }, 'oidc-provider server error'));
  provider.on('grant.success', (ctx) => metrics.tokenIssued(String(ctx.oidc.params?.grant_type ?? 'unknown')));
  provider.use(errorPages(log));
  provider.use(requestLog(log));
  provider.use(silentPromptInWeChat(config));
  for (const router of [
    healthRoutes(stores, shared.isClosing),
    loginRoutes({
      config,
      provider,
      states: new LoginStates(stores.protocol.adapter(STATE_MODEL)),
      wechat: new WeChatClient({
        apiUrl: config.wechat.apiUrl,
        timeoutMs: config.wechat.timeoutMs,
        log,
        observe: (path, seconds, errcode) => metrics.wechatCall(path, seconds, errcode),
      }),
      linker: new AccountLinker(stores.accounts),
      log,
      metrics,
    }),
    ...(config.metrics.enabled && config.metrics.port === undefined ? [metricsRoutes(metrics, config.metrics.token)] : []),
    ...(demo ? [demoRoutes(config.issuer, demo)] : []),
  ]) {
    provider.use(router.routes());
    provider.use(router.allowedMethods());
  }
  return provider;
}

export async function createBroker(baseConfig: Config, log: Logger = createLogger(baseConfig.logLevel)): Promise<Broker> {
  const { config: startConfig, simulator } = await withSimulator(baseConfig);
  let config = startConfig;
  const metrics = new BrokerMetrics();
  observeStorage((store, seconds, ok) => metrics.storageOperation(store, seconds, ok));
  const stores = openStores(config.storage, log);
  if (!await stores.ready(config.storage.timeoutMs * 2)) log.warn('storage is not reachable yet: /readyz answers 503 until it is');
  let closing = false;
  const shared: Shared = { log, stores, metrics, isClosing: () => closing };
  const demo = config.clients ? undefined : demoClient(config.issuer);
  let handle = (await buildApp(config, shared, demo)).callback();

  return {
    get config() { return config; },
    handle: (req, res) => handle(req, res),
    log,
    simulator,
    demoUrl: demo ? `${config.issuer}/demo` : undefined,
    stores,
    metrics,
    async reload() {
      const next = await reloadFiles(config);
      const nextHandle = (await buildApp(next, shared, demo)).callback();
      [config, handle] = [next, nextHandle];
      return next;
    },
    beginShutdown: () => { closing = true; },
    async close() {
      closing = true;
      await Promise.all([stores.close(), simulator?.close()]);
    },
  };
}
