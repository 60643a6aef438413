// Composition: builds the broker from the configuration in force. The stores, the metrics
// and the WeChat client once; the app (the provider, a Koa app, with the broker's
// middleware in order and its routes) from the clients and keys, which SIGHUP re-reads.
// main.ts listens and handles signals.

import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import { AccountLinker } from './accounts/linking.ts';
import { adminRoutes } from './admin/routes.ts';
import { accountPageRoutes } from './account-page/routes.ts';
import { consoleRoutes } from './console/routes.ts';
import { reloadFiles, type ClientMetadata, type Config } from './config/config.ts';
import { BROKER_VERSION } from './config/version.ts';
import { providerFor } from './provider.ts';
import { demoRoutes } from './demo/routes.ts';
import { applyDevMode, type RunningConfig } from './dev-mode.ts';
import { publicOrigin } from './http/public-origin.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createLogger, type Logger } from './log.ts';
import { ATTEMPT_MODEL, Attempts } from './login/attempts.ts';
import { HANDOFF_MODEL, Handoffs } from './login/handoff.ts';
import { consentItems } from './login/claims.ts';
import { createLogin, type Login } from './login/login.ts';
import { codeExchangeLogins } from './login/code-exchange.ts';
import { platformAuthorizationRoutes } from './platforms/authorization-pages.ts';
import { PlatformTokens } from './platforms/platform-tokens.ts';
import { OfficialAccountTokens } from './platforms/official-account-tokens.ts';
import { FollowEvents } from './upstreams/wechat-follow/follow-events.ts';
import { wecomEventRoutes } from './upstreams/wecom/wecom-events.ts';
import { FollowScenes } from './upstreams/wechat-follow/follow-scenes.ts';
import { PlatformPushes } from './platforms/pushes.ts';
import { loginRoutes } from './login/routes.ts';
import { diagnose } from './diagnostics/doctor.ts';
import type { Finding } from './diagnostics/findings.ts';
import { deviceGuard, pollingContext } from './oidc/device-flow.ts';
import { phoneNumberRoutes } from './login/phone-number.ts';
import { PHONE_HOLDER_MODEL, PhoneHolders } from './accounts/phone-holders.ts';
import { SilentLogins } from './login/silent.ts';
import { anonymousLogout } from './oidc/anonymous-logout.ts';
import { cachedDocuments } from './oidc/cached-documents.ts';
import { Interactions } from './oidc/interactions.ts';
import type { ApiResources } from './oidc/api-resources.ts';
import { LogoutNotices } from './oidc/logout-notices.ts';
import { requestLimits } from './oidc/request-limits.ts';
import { SessionDevices } from './oidc/session-devices.ts';
import { PersonalData } from './privacy/personal-data.ts';
import { Retention, RETENTION_LOCK_MODEL } from './privacy/retention.ts';
import { afterAnswerErrors, errorPages } from './ops/errors.ts';
import { pageForms } from './ops/page-forms.ts';
import { healthRoutes } from './ops/health.ts';
import { homeRoutes } from './ops/home.ts';
import { languageRoutes } from './ops/language.ts';
import { BrokerMetrics, metricsRoutes } from './ops/metrics.ts';
import { rateLimits } from './ops/rate-limit.ts';
import { requestLog } from './ops/request-log.ts';
import type { Tracing } from './ops/tracing.ts';
import { brandPages } from './pages/brand.ts';
import type { Stoppable } from './ops/shutdown.ts';
import type { RunningSimulator } from './simulator/server.ts';
import { Sealer } from './storage/sealing.ts';
import { openStores, storesForDoctor, type Stores } from './stores.ts';
import { Upstreams } from './upstreams/upstreams.ts';
import { WeChatClient } from './wechat/client.ts';
import { WeComClient } from './wechat/wecom.ts';

export interface Broker extends Stoppable {
  /** The HTTP request handler: always the app in force, so a reload never drops a request. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The configuration in force (in dev mode: the simulator's apps and URLs, the demo client). */
  readonly config: RunningConfig;
  readonly simulator: RunningSimulator | undefined;
  /** The demo relying party's start page, when the demo runs. */
  readonly demoUrl: string | undefined;
  readonly stores: Stores;
  readonly metrics: BrokerMetrics;
  /** The doctor's checks (diagnostics/) on the broker's own clients and storage. */
  diagnose(): Promise<Finding[]>;
  /**
   * Re-reads CLIENTS_FILE and JWKS_FILE and swaps in a new app built from them; requests in
   * flight finish on the old one. Throws ConfigError (and keeps the old app) when a file is wrong.
   */
  reload(): Promise<Config>;
}

/** What every build of the app shares: built once per process. */
interface Shared {
  readonly log: Logger;
  readonly stores: Stores;
  readonly metrics: BrokerMetrics;
  readonly wechat: WeChatClient;
  readonly wecom: WeComClient;
  readonly platformTokens: PlatformTokens;
  readonly officialAccountTokens: OfficialAccountTokens;
  readonly upstreams: Upstreams;
  readonly demo: ClientMetadata | undefined;
  readonly silent: SilentLogins;
  readonly notices: LogoutNotices;
  readonly isClosing: () => boolean;
  /** OpenTelemetry traces, when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  readonly tracing: Tracing | undefined;
}

function middleware(config: RunningConfig, shared: Shared) {
  return [
    publicOrigin(config.issuer, config.trustProxy),
    securityHeaders(config.issuer.startsWith('https:')),
    brandPages(config.brand),
    ...(shared.tracing ? [shared.tracing.middleware()] : []),
    // Outside the error pages: the line and the metrics say the status the person got.
    requestLog(shared.log, shared.metrics, shared.tracing?.traceId),
    errorPages(shared.log),
    cachedDocuments(),
    rateLimits(shared.stores.counters, config.rateLimits, shared.log),
    requestLimits(),
    pageForms(config.cookieKeys, config.issuer, shared.log),
    deviceGuard(shared.stores.counters, shared.log),
    pollingContext(),
    shared.silent.middleware(config.apps.some((app) => app.kind === 'mp')),
    new SessionDevices(shared.stores.protocol).middleware(shared.log),
  ];
}

/** What WeChat pushes (platform authorization events, accounts' events), WeCom's events, and the platform's authorization pages. */
function weChatPushRoutes(config: RunningConfig, shared: Shared, login: Login) {
  const { stores, log, platformTokens, officialAccountTokens } = shared;
  const follow = new FollowEvents({
    apps: config.apps, scenes: login.scenes, storage: stores.protocol, log, issuer: config.issuer,
    appName: (uid, lang) => login.interactions.appName(uid, lang),
  });
  return [
    new PlatformPushes({
      platforms: config.platforms, storage: stores.protocol, tokens: platformTokens, authorizations: officialAccountTokens, events: follow, log,
    }).routes(),
    platformAuthorizationRoutes({
      platforms: config.platforms, tokens: platformTokens, officialAccountTokens, wechat: shared.wechat, issuer: config.issuer, mpUrl: config.wechat.mpUrl, log,
    }),
    follow.routes(),
    wecomEventRoutes({ apps: config.wecomApps, linker: login.linker, log }),
  ];
}

function routers(config: RunningConfig, shared: Shared, login: Login, built: { provider: Provider; personalData: PersonalData; apis: ApiResources }) {
  const { provider, personalData, apis } = built;
  const { stores, metrics } = shared;
  const health = {
    kinds: { protocol: stores.protocol.kind, accounts: stores.accountsKind },
    ping: () => stores.ping(),
    ...(config.platforms.length > 0 ? { detail: async () => ({ platforms: await shared.platformTokens.states() }) } : {}),
  };
  return [
    healthRoutes(health, shared.isClosing),
    homeRoutes(config.issuer, shared.demo ? `${config.issuer}/demo` : undefined),
    languageRoutes(),
    ...weChatPushRoutes(config, shared, login),
    loginRoutes(login),
    adminRoutes({
      provider, accounts: stores.accounts, personalData, apps: config.apps, log: shared.log, metrics, pairwiseSecret: config.pairwiseSecret,
      diagnose: () => diagnoseWith(config, shared),
    }),
    phoneNumberRoutes({
      provider, apps: config.apps, phones: shared.upstreams.phoneNumbers, linker: login.linker,
      holders: login.holders, log: shared.log, metrics,
    }),
    consoleRoutes({
      provider, accounts: stores.accounts, personalData, apps: config.apps, issuer: config.issuer, operators: config.consoleOperators,
      log: shared.log, metrics, pairwiseSecret: config.pairwiseSecret, diagnose: () => diagnoseWith(config, shared),
    }),
    accountPageRoutes({
      provider, personalData, apps: config.apps, issuer: config.issuer, metrics,
      describe: (scope) => consentItems(new Set(scope.split(' '))), apis,
    }),
    ...(config.metrics.enabled && config.metrics.port === undefined ? [metricsRoutes(metrics, config.metrics.token)] : []),
    ...(shared.demo ? [demoRoutes(config.issuer, shared.demo)] : []),
  ];
}

/**
 * oidc-provider's own endpoints (its routes, with their subpaths, and discovery): none of
 * the broker's routers answers there, so their requests skip the routers' matching.
 */
const PROVIDER_PATHS = /^\/(auth|token|me|jwks|request|reg|device|session\/end|challenge|backchannel|\.well-known)(\/|$)/i;

/**
 * The broker's routers as one step, which oidc-provider's own endpoints pass by. Every
 * method Node's parser takes counts as known to them, so that one no route takes (TRACE,
 * PROPFIND) is 405 with `Allow` where the path is the broker's and 404 where it is not
 * (RFC 9110 15.5.6), never the router's 501: a request gets no 5xx for its method.
 */
function brokerRoutes(all: readonly Router[]): Middleware {
  for (const router of all) router.methods = [...METHODS];
  const routes = compose(all.flatMap((router) => [router.routes(), router.allowedMethods()]) as Middleware[]);
  return (ctx, next) => (PROVIDER_PATHS.test(ctx.path) ? next() : routes(ctx, next));
}

/** The doctor's checks with the broker's own clients and storage (where the platforms' tickets are, whatever the store). */
function diagnoseWith(config: RunningConfig, shared: Shared): Promise<Finding[]> {
  return diagnose({
    config, wechat: shared.wechat, wecom: shared.wecom, platformTokens: shared.platformTokens, accountTokens: shared.officialAccountTokens, ticketsShared: true,
    ...storesForDoctor(shared.stores, () => shared.stores.ping()),
    accounts: shared.stores.accounts,
  });
}

/** The provider (a Koa app) with the broker's middleware and routes, for one set of clients and keys. */
async function buildApp(config: RunningConfig, shared: Shared) {
  const { log, stores, metrics } = shared;
  const linker = new AccountLinker(stores.accounts);
  const scenes = new FollowScenes(stores.protocol);
  const subjectTokens = codeExchangeLogins({ apps: config.apps, miniProgram: shared.upstreams.miniProgram, mobileApp: shared.upstreams.mobileApp, linker, log, metrics });
  const { provider, apis, personalData } = await providerFor(config, stores, { linker, notices: shared.notices, log, subjectTokens, observeEvents: (outcome) => metrics.securityEvent(outcome) });
  provider.on('server_error', (_ctx, error: Error) => log.error({ err: error }, 'oidc-provider server error'));
  // The provider is the Koa app itself (oidc-provider 9; its typings list only its own events).
  (provider as unknown as Koa).on('error', afterAnswerErrors(log));
  provider.on('grant.success', (ctx) => metrics.tokenIssued(String(ctx.oidc.params?.grant_type ?? 'unknown'), (ctx.body as { token_type?: unknown } | undefined)?.token_type));
  const login = createLogin({
    issuer: config.issuer,
    qrMode: config.wechat.qrMode,
    apps: config.apps,
    wecomApps: config.wecomApps,
    interactions: new Interactions(provider, apis),
    attempts: new Attempts(stores.protocol.adapter(ATTEMPT_MODEL), config.cookieKeys[0]),
    upstreams: shared.upstreams,
    scenes,
    followQrBudget: { perMinute: config.followQrPerMinute, counters: stores.counters },
    linker,
    holders: new PhoneHolders(stores.durable.adapter(PHONE_HOLDER_MODEL)),
    log,
    metrics,
    silent: shared.silent,
    handoffs: new Handoffs(stores.protocol.adapter(HANDOFF_MODEL), config.cookieKeys[0]),
  });
  const routes = brokerRoutes(routers(config, shared, login, { provider, personalData, apis }));
  for (const step of [...middleware(config, shared), anonymousLogout(provider), routes]) provider.use(step);
  return { app: provider, personalData };
}

/** ACCOUNT_RETENTION_DAYS: the erasure job, when configured. */
function retentionJob(config: Config, shared: Shared, personalData: () => PersonalData): Retention | undefined {
  if (config.retentionDays === undefined) return undefined;
  const { stores, log } = shared;
  return new Retention({ days: config.retentionDays, accounts: stores.accounts, personalData, locks: stores.protocol.adapter(RETENTION_LOCK_MODEL), log });
}

/**
 * The operator hears which platforms still wait for WeChat's first ticket. Not with the
 * built-in simulator, which pushes its first as soon as the broker listens: nothing to do.
 */
async function tellWaitingPlatforms(config: Config, platformTokens: PlatformTokens, log: Logger): Promise<void> {
  if (config.simulator) return;
  const states = await platformTokens.states().catch(() => ({}));
  for (const [id, state] of Object.entries(states)) {
    if (state !== 'ready') {
      log.warn({ platform: id }, `third-party platform ${id}: ${state} (WeChat pushes one every 10 minutes to /wechat/platform/${id}/auth-events); logins through it show a "starting up" page until then`);
    }
  }
}

/** The WeChat client and the platforms' tokens; each API call counted, and traced when traces are sent. */
async function weChat(config: Config, stores: Stores, metrics: BrokerMetrics, log: Logger, tracing: Tracing | undefined) {
  const observer = (api: string) => (path: string, seconds: number, errcode?: number | string) => {
    metrics.wechatCall(path, seconds, errcode);
    tracing?.apiCall(api, path, seconds, errcode);
  };
  const wechat = new WeChatClient({ apiUrl: config.wechat.apiUrl, timeoutMs: config.wechat.timeoutMs, log, observe: observer('WeChat') });
  const platformTokens = new PlatformTokens(config.platforms, stores.protocol, wechat, log);
  await tellWaitingPlatforms(config, platformTokens, log);
  const officialAccountTokens = new OfficialAccountTokens({
    platforms: config.platforms, platformTokens, storage: stores.protocol, durable: stores.durable, sealer: new Sealer(config.dataKeys), wechat, log,
  });
  // WeCom's API is another host with the same answers and errcode table (wechat/wecom.ts).
  const wecom = new WeComClient({ apiUrl: config.wechat.wecomApiUrl, timeoutMs: config.wechat.timeoutMs, log, observe: observer('WeCom') });
  const upstreams = new Upstreams({
    wechat, platformTokens, officialAccountTokens, connectUrl: config.wechat.connectUrl, loginJsUrl: config.wechat.loginJsUrl,
    wecom, wecomLoginUrl: config.wechat.wecomLoginUrl, wecomLoginJsUrl: config.wechat.wecomLoginJsUrl, storage: stores.protocol, log,
  });
  return { wechat, wecom, platformTokens, officialAccountTokens, upstreams };
}

export interface BrokerOptions {
  readonly log?: Logger;
  /** Storage can never work as configured (say, a standalone MongoDB): stop with this line. */
  readonly fatal?: (message: string) => void;
}

/** What every rebuild of the app shares: the stores (connected), metrics, WeChat and its tokens, the logout queue. */
async function openShared(config: RunningConfig, log: Logger, options: BrokerOptions, demo: ClientMetadata | undefined, isClosing: () => boolean): Promise<Shared> {
  const metrics = new BrokerMetrics(BROKER_VERSION);
  // OpenTelemetry's packages load only when traces are sent, as the storage drivers do.
  const tracing = config.tracing && new (await import('./ops/tracing.ts')).Tracing(config.tracing, log);
  const stores = await openStores(config.storage, {
    log,
    observe: (store, seconds, ok, operation) => {
      metrics.storageOperation(store, seconds, ok, operation);
      tracing?.storageOperation(store, seconds, ok, operation);
    },
    fatal: options.fatal ?? ((message) => log.fatal(message)),
  });
  if (!await stores.ready(config.storage.timeoutMs * 2)) log.warn('storage is not reachable yet: /readyz answers 503 until it is');
  // Every push to apps' servers (logout and security event tokens) is on this queue.
  const notices = new LogoutNotices(log, (outcome) => metrics.logoutNotice(outcome), undefined, tracing);
  return {
    log, stores, metrics, ...await weChat(config, stores, metrics, log, tracing), demo, silent: new SilentLogins(config.cookieKeys), notices, isClosing, tracing,
  };
}

export async function createBroker(loaded: Config, options: BrokerOptions = {}): Promise<Broker> {
  const log = options.log ?? createLogger(loaded.logLevel, undefined, loaded.logFormat);
  const { config: startConfig, simulator, demo } = await applyDevMode(loaded);
  let config = startConfig;
  let closing = false;
  const shared = await openShared(config, log, options, demo, () => closing);
  const { stores, metrics } = shared;
  let built = await buildApp(config, shared);
  let handle = built.app.callback();
  const retention = retentionJob(config, shared, () => built.personalData);
  retention?.start();

  return {
    get config() { return config; },
    handle: (req, res) => handle(req, res),
    log,
    simulator,
    demoUrl: demo ? `${config.issuer}/demo` : undefined,
    stores,
    metrics,
    diagnose: () => diagnoseWith(config, shared),
    async reload() {
      const next = await reloadFiles(config);
      const running = { ...next, clients: next.clients ?? config.clients };
      const rebuilt = await buildApp(running, shared);
      [config, built, handle] = [running, rebuilt, rebuilt.app.callback()];
      return next;
    },
    beginShutdown: () => { closing = true; },
    async close() {
      closing = true;
      retention?.stop();
      // Logins' history entries still being written go out before storage closes.
      await built.personalData.settled();
      await Promise.all([stores.close(), simulator?.close(), shared.tracing?.shutdown()]);
    },
  };
}
