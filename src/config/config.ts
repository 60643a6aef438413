// Environment → one validated Config. The only module that reads process.env.
// Three steps: parse each variable by its row in variables.ts (defaults included), run
// the cross-variable checks of checks.ts, then derive the Config (defaults that depend on
// other variables, the files the variables name, and the warnings for the banner).

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfiguredApp, ConfiguredWeComApp, PlatformApp } from '../wechat/apps.ts';
import type { QrMode } from '../wechat/authorize.ts';
import type { AppId, AppKind } from '../wechat/types.ts';
import type { Brand } from '../pages/brand.ts';
import { appsFile } from './apps-file.ts';
import { brand } from './brand.ts';
import { CHECKS } from './checks.ts';
import { clientsFile, type ClientMetadata } from './clients-file.ts';
import { ConfigError } from './errors.ts';
import { generateSigningKeys, loadJwksFile, type SigningKeys } from './keys.ts';
import type { RedisTarget } from './redis-url.ts';
import { VARIABLES, type LOG_LEVELS, type OperatorRole, type Settings, type VariableName } from './variables.ts';
import { BROKER_VERSION } from './version.ts';

export type { ClientMetadata } from './clients-file.ts';
export type { RedisTarget } from './redis-url.ts';
export { parseRedisUrl } from './redis-url.ts';

export type Mode = 'production' | 'development';
export type LogLevel = (typeof LOG_LEVELS)[number];
/** JSON lines (production, a pipe, a container), or lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';
export type { OperatorRole };

/** In CONSOLE_OPERATORS' map, anyone who logs in (no `sub` is `*`): only the built-in simulator's people (dev-mode.ts). */
export const ANY_OPERATOR = '*';

export interface WeChatSettings {
  readonly connectUrl: string;
  /** mp.weixin.qq.com: where an Official Account's owner authorizes a third-party platform. */
  readonly mpUrl: string;
  readonly apiUrl: string;
  readonly loginJsUrl: string;
  readonly qrMode: QrMode;
  readonly timeoutMs: number;
  /** qyapi.weixin.qq.com: WeCom's APIs. */
  readonly wecomApiUrl: string;
  /** login.work.weixin.qq.com: WeCom's SSO page. In-client authorization is on connectUrl, as WeCom's is. */
  readonly wecomLoginUrl: string;
  /** WeCom's JS SDK, whose login panel a desktop gets inside the broker's page; unset: WeCom's SSO page. */
  readonly wecomLoginJsUrl: string | undefined;
}

export interface StorageSettings {
  readonly redis: RedisTarget | undefined;
  /** Prefix of every Redis key, so several brokers (or other apps) can share a Redis. */
  readonly redisPrefix: string;
  readonly mongodbUri: string | undefined;
  /** How long one storage operation may take before the request fails. */
  readonly timeoutMs: number;
}

export interface Config {
  readonly mode: Mode;
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). */
  readonly trustProxy: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Upstream WeChat apps, in order of preference within a kind. */
  readonly apps: readonly ConfiguredApp[];
  /** Third-party platforms the company operates (WECHAT_APPS_FILE, kind `component`). */
  readonly platforms: readonly PlatformApp[];
  /** WeCom self-built apps (WECHAT_APPS_FILE, kind `wecom`). */
  readonly wecomApps: readonly ConfiguredWeComApp[];
  readonly wechat: WeChatSettings;
  /** Undefined in dev mode without CLIENTS_FILE: the dev-mode step registers the demo client. */
  readonly clients: readonly ClientMetadata[] | undefined;
  readonly keys: SigningKeys;
  readonly storage: StorageSettings;
  /** /metrics: a bearer token, a separate port, or (dev mode only) open on the main port. */
  readonly metrics: { readonly token: string | undefined; readonly port: number | undefined; readonly enabled: boolean };
  /** Where traces go (OTLP over HTTP), when they are sent, and the version they name. */
  readonly tracing: { readonly endpoint: string; readonly serviceName: string; readonly serviceVersion: string; readonly sampleRatio: number } | undefined;
  /** Who may use the operator console, by account `sub` (empty: the console is off). */
  readonly consoleOperators: ReadonlyMap<string, OperatorRole>;
  /** Accounts with no login for this many days are erased (undefined: kept until erased on request). */
  readonly retentionDays: number | undefined;
  /** Requests a minute per client IP and per client_id at the costly endpoints; 0 is off. */
  readonly rateLimits: { readonly perIp: number; readonly perClient: number };
  /** Follow-to-login QR codes the broker may create at WeChat in a minute, across instances; 0 is no limit. */
  readonly followQrPerMinute: number;
  /** How long a device's login code lives (RFC 8628), in seconds. */
  readonly deviceCodeTtlS: number;
  /** A login session ends unused for `idleS`, and `maxS` after its login (undefined: no maximum). */
  readonly sessions: { readonly idleS: number; readonly maxS: number | undefined };
  /** SIGTERM: how long to keep serving while not ready, then how long in-flight requests get. */
  readonly shutdown: { readonly delayMs: number; readonly timeoutMs: number };
  /** The first signs (and keys the login states); all verify. */
  readonly cookieKeys: readonly [string, ...string[]];
  /** What pairwise subject identifiers are made from (OIDC Core 8.1); set whenever a client is pairwise. */
  readonly pairwiseSecret: string | undefined;
  /** What encrypts the secrets the broker keeps (authorizer refresh tokens); the first encrypts. */
  readonly dataKeys: readonly [string, ...string[]];
  /** Dev mode without WeChat credentials: the built-in simulator plays WeChat (dev-mode step). */
  readonly simulator: { readonly port: number } | undefined;
  /** The company behind the pages. */
  readonly brand: Brand;
  /** Things the operator should know, printed in the startup banner. */
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A variable's raw value: as set, or for a secret, the content of the file `<NAME>_FILE`
 * names (Docker's and Kubernetes' secrets are files: the value stays out of the process's
 * environment, `docker inspect` and crash reports). Never both.
 */
function rawValue(name: string, secret: boolean, env: Env): string | undefined {
  const path = secret ? env[`${name}_FILE`]?.trim() || undefined : undefined;
  const given = env[name]?.trim() || undefined;
  if (path === undefined) return given;
  if (given !== undefined) throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}_FILE`, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (content.trim() === '') throw new ConfigError(`${name}_FILE`, `${path} is empty`);
  return content.trim();
}

/** Step 1: every variable through its schema; the first failure names its variable. */
export function parseVariables(env: Env): Settings {
  const settings: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(VARIABLES)) {
    const raw = rawValue(name, 'secret' in row && row.secret === true, env);
    const parsed = row.schema.safeParse(raw ?? ('default' in row ? row.default : undefined));
    if (!parsed.success) throw new ConfigError(name, parsed.error.issues[0]?.message ?? 'invalid');
    settings[name] = parsed.data;
  }
  return settings as Settings;
}

function app(settings: Settings, kind: AppKind, prefix: 'WECHAT_MP' | 'WECHAT_OPEN'): ConfiguredApp[] {
  const appid = settings[`${prefix}_APPID`];
  const secret = settings[`${prefix}_SECRET`];
  if (appid === undefined || secret === undefined) return [];
  const name = settings[`${prefix}_NAME`];
  return [{ id: kind, kind, appid: appid as AppId, secret, configuredBy: `${prefix}_APPID/${prefix}_SECRET`, ...(name ? { name } : {}) }];
}

function storage(settings: Settings): StorageSettings {
  return {
    redis: settings.REDIS_URL,
    redisPrefix: settings.REDIS_PREFIX,
    mongodbUri: settings.MONGODB_URI,
    timeoutMs: settings.STORAGE_TIMEOUT_MS,
  };
}

function metrics(settings: Settings): Config['metrics'] {
  const { METRICS_TOKEN: token, METRICS_PORT: port } = settings;
  return { token, port, enabled: settings.NODE_ENV !== 'production' || token !== undefined || port !== undefined };
}

/** Where traces go, when OTEL_EXPORTER_OTLP_ENDPOINT says; they name the broker's version. */
function tracing(settings: Settings): Config['tracing'] {
  const endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
  return endpoint === undefined ? undefined : { endpoint, serviceName: settings.OTEL_SERVICE_NAME, serviceVersion: BROKER_VERSION, sampleRatio: settings.TRACES_SAMPLE_RATIO };
}

/** sheet_consent_for naming a client CLIENTS_FILE does not have: harmless (that client keeps the consent page), but a typo. */
function unknownSheetClients(config: Omit<Config, 'warnings'>): string[] {
  if (!config.clients) return [];
  const known = new Set(config.clients.map((client) => client.client_id));
  return config.apps.flatMap((app) => (app.sheetConsentFor ?? []).filter((id) => !known.has(id))
    .map((id) => `app ${app.id}: sheet_consent_for names ${id}, which is not in CLIENTS_FILE; that client keeps the consent page`));
}

/** What the operator should hear about at start: every dev default in force, every feature off. */
function warnings(settings: Settings, config: Omit<Config, 'warnings'>): string[] {
  const production = config.mode === 'production';
  const unset = (name: VariableName) => settings[name] === undefined;
  return [
    production && settings.INSECURE_LAB && 'INSECURE_LAB=true: http is allowed for ISSUER and WeChat URLs; never use this setting for real people',
    config.simulator && 'no WeChat credentials: the built-in WeChat simulator plays WeChat (dev mode only)',
    unset('COOKIE_KEYS') && 'COOKIE_KEYS not set: random cookie keys, sessions end when the broker restarts',
    unset('JWKS_FILE') && 'JWKS_FILE not set: fresh signing keys, tokens stop verifying when the broker restarts',
    unset('CLIENTS_FILE') && 'CLIENTS_FILE not set: only the demo client is registered',
    !config.metrics.enabled && '/metrics is off: set METRICS_TOKEN or METRICS_PORT to expose it',
    ...unknownSheetClients(config),
    !config.storage.redis && !config.storage.mongodbUri && (production
      ? 'neither REDIS_URL nor MONGODB_URI: storage is in memory, one instance only, everything is lost on restart'
      : 'storage is in memory: logins, sessions and accounts are lost when the broker stops'),
  ].filter((warning): warning is string => typeof warning === 'string');
}

/** Step 3: the Config, with the defaults that depend on other variables and the files read. */
async function derive(settings: Settings, env: Env): Promise<Config> {
  const production = settings.NODE_ENV === 'production';
  const port = settings.PORT;
  const issuer = settings.ISSUER ?? `http://localhost:${port}`;
  const { apps, platforms, wecomApps } = settings.WECHAT_APPS_FILE === undefined
    ? { apps: [...app(settings, 'mp', 'WECHAT_MP'), ...app(settings, 'open', 'WECHAT_OPEN')], platforms: [], wecomApps: [] }
    : appsFile('WECHAT_APPS_FILE', settings.WECHAT_APPS_FILE, env);
  const config: Omit<Config, 'warnings'> = {
    mode: settings.NODE_ENV,
    port,
    host: settings.HOST ?? (production ? '0.0.0.0' : 'localhost'),
    issuer,
    trustProxy: settings.TRUST_PROXY ?? issuer.startsWith('https:'),
    logLevel: settings.LOG_LEVEL,
    logFormat: logFormat(settings.LOG_FORMAT, production),
    apps,
    platforms,
    wecomApps,
    wechat: wechatSettings(settings),
    clients: settings.CLIENTS_FILE === undefined ? undefined : clientsFile('CLIENTS_FILE', settings.CLIENTS_FILE, { production, pairwiseSecret: settings.PAIRWISE_SECRET }),
    pairwiseSecret: settings.PAIRWISE_SECRET,
    keys: settings.JWKS_FILE === undefined ? await generateSigningKeys() : loadJwksFile('JWKS_FILE', settings.JWKS_FILE),
    storage: storage(settings),
    metrics: metrics(settings),
    tracing: tracing(settings),
    rateLimits: rateLimits(settings, production),
    followQrPerMinute: settings.FOLLOW_QR_PER_MINUTE,
    deviceCodeTtlS: settings.DEVICE_CODE_TTL_S,
    sessions: { idleS: settings.SESSION_IDLE_HOURS * 3600, maxS: settings.SESSION_MAX_HOURS === 0 ? undefined : settings.SESSION_MAX_HOURS * 3600 },
    retentionDays: settings.ACCOUNT_RETENTION_DAYS,
    consoleOperators: settings.CONSOLE_OPERATORS ?? new Map(),
    shutdown: { delayMs: settings.SHUTDOWN_DELAY_MS, timeoutMs: settings.SHUTDOWN_TIMEOUT_MS },
    cookieKeys: (settings.COOKIE_KEYS ?? [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')]) as [string, ...string[]],
    dataKeys: dataKeys(settings, platforms.length > 0),
    simulator: apps.length === 0 && wecomApps.length === 0 ? { port: settings.WECHAT_SIMULATOR_PORT ?? (port === 0 ? 0 : port + 1) } : undefined,
    brand: brand(settings),
  };
  checkPorts(config, settings.WECHAT_SIMULATOR_PORT === undefined);
  return { ...config, warnings: warnings(settings, config) };
}

/** The broker's own servers each need a port of their own: the second to listen would find it taken. */
function checkPorts(config: Omit<Config, 'warnings'>, simulatorPortDerived: boolean): void {
  const ports: Array<{ variable: string; said: string; port: number | undefined }> = [
    { variable: 'PORT', said: 'PORT', port: config.port },
    { variable: 'WECHAT_SIMULATOR_PORT', said: simulatorPortDerived ? 'the simulator (PORT + 1 while WECHAT_SIMULATOR_PORT is unset)' : 'WECHAT_SIMULATOR_PORT', port: config.simulator?.port },
    { variable: 'METRICS_PORT', said: 'METRICS_PORT', port: config.metrics.port },
  ];
  const taken = new Map<number, string>();
  for (const { variable, said, port } of ports) {
    if (port === undefined || port === 0) continue; // 0: any free port
    const holder = taken.get(port);
    if (holder) throw new ConfigError(variable, `${port} is already used by ${holder}: give each server its own port`);
    taken.set(port, said);
  }
}

/** Where WeChat and WeCom are (the simulator in tests), and how the broker talks to them. */
function wechatSettings(settings: Settings): WeChatSettings {
  return {
    connectUrl: settings.WECHAT_CONNECT_URL,
    mpUrl: settings.WECHAT_MP_URL,
    apiUrl: settings.WECHAT_API_URL,
    loginJsUrl: settings.WECHAT_LOGIN_JS_URL,
    qrMode: settings.WECHAT_QR_MODE,
    timeoutMs: settings.WECHAT_TIMEOUT_MS,
    wecomApiUrl: settings.WECOM_API_URL,
    wecomLoginUrl: settings.WECOM_LOGIN_URL,
    wecomLoginJsUrl: settings.WECOM_LOGIN_JS_URL,
  };
}

/** DATA_KEYS; in production with a third-party platform they must be set (a random key would lose the tokens at every restart). */
function dataKeys(settings: Settings, platforms: boolean): Config['dataKeys'] {
  if (settings.DATA_KEYS) return settings.DATA_KEYS as [string, ...string[]];
  if (settings.NODE_ENV === 'production' && platforms) {
    throw new ConfigError('DATA_KEYS', 'required in production when a third-party platform is configured: it encrypts the authorizer refresh tokens the broker keeps');
  }
  return [randomBytes(32).toString('base64url')];
}

/** LOG_FORMAT: `auto` is pretty lines in dev mode at a terminal, JSON otherwise (a pipe, a container, production). */
function logFormat(format: Settings['LOG_FORMAT'], production: boolean): LogFormat {
  if (format !== 'auto') return format;
  return !production && process.stdout.isTTY ? 'pretty' : 'json';
}

/** Requests a minute per client IP and per client_id: on in production, off in dev mode unless set. */
function rateLimits(settings: Settings, production: boolean): Config['rateLimits'] {
  return { perIp: settings.RATE_LIMIT_PER_IP ?? (production ? 300 : 0), perClient: settings.RATE_LIMIT_PER_CLIENT ?? (production ? 3000 : 0) };
}

export async function loadConfig(env: Env = process.env): Promise<Config> {
  const settings = parseVariables(env);
  for (const check of CHECKS) check(settings);
  return derive(settings, env);
}

/**
 * The configuration with CLIENTS_FILE and JWKS_FILE read again (SIGHUP). Everything else
 * (ports, storage, WeChat apps) needs a restart.
 */
export async function reloadFiles(config: Config, env: Env = process.env): Promise<Config> {
  const { CLIENTS_FILE: clientsPath, JWKS_FILE: jwksPath } = parseVariables(env);
  return {
    ...config,
    clients: clientsPath ? clientsFile('CLIENTS_FILE', clientsPath, { production: config.mode === 'production', pairwiseSecret: config.pairwiseSecret }) : config.clients,
    keys: jwksPath ? loadJwksFile('JWKS_FILE', jwksPath) : config.keys,
  };
}
