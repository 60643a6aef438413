// Every environment variable the broker reads, as data: its parser (a zod schema over the
// raw string), its default, what production asks of it, and one line of documentation.
// README.md's configuration table and .env.example list exactly these (a test checks).
// Defaults that depend on other variables are said here and computed in config.ts.

import { z } from 'zod';
import { isWeChatId } from '../wechat/types.ts';
import { ConfigError } from './errors.ts';
import { parseRedisUrl, type RedisTarget } from './redis-url.ts';
import { secretBits } from './strength.ts';

/** What production asks of a variable (README's "production" column). */
export type InProduction = 'required' | 'one app required' | 'recommended' | 'optional' | 'unused';

export interface Variable<T> {
  /** Parses the raw value (trimmed; undefined when unset or empty, and no default). */
  readonly schema: z.ZodType<T, string | undefined>;
  /** Used when the variable is unset. */
  readonly default?: string;
  /** A default that depends on other variables, as the README says it. */
  readonly derived?: string;
  readonly production: InProduction;
  readonly doc: string;
  /** A secret: it may come from a file instead, named by `<NAME>_FILE` (a Docker or Kubernetes secret mounted there). */
  readonly secret?: true;
}

const variable = <T>(definition: Variable<T>): Variable<T> => definition;

const optional = <T>(schema: z.ZodType<T, string>) => schema.optional();

const text = z.string();

function wholeNumber(min: number, max: number) {
  const message = (raw: unknown) => `expected a whole number from ${min} to ${max}, got "${String(raw)}"`;
  return z.string().refine((raw) => /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, { error: (issue) => message(issue.input) })
    .transform(Number);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().refine((raw): raw is T[number] => values.includes(raw), { error: (issue) => `expected one of ${values.join(', ')}, got "${String(issue.input)}"` })
    .transform((raw) => raw as T[number]);
}

/** An http(s) origin or base URL without query or fragment, without its trailing slash. */
const httpUrl = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: "${raw}"` });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
  return url.href.replace(/\/$/, '');
});

const appid = z.string().refine(isWeChatId, { error: 'is not a WeChat appid (letters, digits, _ and -)' });
const appSecret = z.string().regex(/^[A-Za-z0-9]{16,64}$/, { error: 'is not a WeChat AppSecret (16 to 64 letters and digits)' });
/** A name people see on the pages (an app's, the company's). */
const displayName = z.string().max(60, { error: 'must have at most 60 characters' });

const redisUrl = z.string().transform((raw, ctx): RedisTarget => {
  try {
    return parseRedisUrl('REDIS_URL', raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.problem });
    return z.NEVER;
  }
});

const mongodbUri = z.string().regex(/^mongodb(\+srv)?:\/\/[^/]+/, { error: 'expected mongodb:// or mongodb+srv://' });

const cookieKeys = z.string().transform((raw) => raw.split(',').map((key) => key.trim()).filter(Boolean))
  .refine((keys) => keys.length > 0 && keys.every((key) => key.length >= 32), { error: 'each comma-separated secret must have at least 32 characters' });

/** What an operator may do in the console: `read` looks and exports; `write` also changes. */
export type OperatorRole = 'read' | 'write';

/** CONSOLE_OPERATORS: `<sub>:read|write`, comma-separated; a `sub` as accounts have them (letters, digits, `-` and `_`). */
const operators = z.string().transform((raw, ctx) => {
  const entries = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  const roles = new Map<string, OperatorRole>();
  for (const entry of entries) {
    const match = /^([A-Za-z0-9_-]{1,128}):(read|write)$/.exec(entry);
    if (!match) ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 140)}" is not <sub>:read or <sub>:write` });
    else if (roles.has(match[1]!)) ctx.addIssue({ code: 'custom', message: `${match[1]} is named twice` });
    else roles.set(match[1]!, match[2] as OperatorRole);
  }
  if (roles.size === 0) ctx.addIssue({ code: 'custom', message: 'names no operator' });
  return roles as ReadonlyMap<string, OperatorRole>;
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const VARIABLES = {
  NODE_ENV: variable({
    schema: optional(text).transform((raw) => (raw === 'production' ? 'production' as const : 'development' as const)),
    production: 'required',
    doc: '`production` refuses unsafe or missing settings and never runs the simulator; anything else is dev mode',
  }),
  PORT: variable({ schema: wholeNumber(0, 65535), default: '3000', production: 'optional', doc: 'listen port' }),
  HOST: variable({ schema: optional(text), derived: '`localhost` (dev), `0.0.0.0` (production)', production: 'optional', doc: 'listen address' }),
  ISSUER: variable({
    schema: optional(httpUrl), derived: '`http://localhost:$PORT`', production: 'recommended',
    doc: 'the public origin (no path): the OIDC issuer and the host WeChat sends people back to',
  }),
  TRUST_PROXY: variable({
    schema: optional(oneOf(['true', 'false'])).transform((raw) => (raw === undefined ? undefined : raw === 'true')),
    derived: '`true` when `ISSUER` is https', production: 'optional', doc: 'trust `X-Forwarded-*` from a TLS-terminating proxy',
  }),
  DATA_KEYS: variable({
    secret: true,
    schema: optional(cookieKeys), derived: '(dev: random each start)', production: 'recommended',
    doc: 'secrets that encrypt what the broker must keep (a third-party platform\'s authorizer refresh tokens, AES-256-GCM), comma-separated, 32+ characters each; the first encrypts, all decrypt; required in production when a platform is configured',
  }),
  COOKIE_KEYS: variable({ secret: true, schema: optional(cookieKeys), derived: '(dev: random each start)', production: 'required', doc: 'cookie signing secrets, comma-separated, 32+ characters each; the first signs' }),
  PAIRWISE_SECRET: variable({
    secret: true,
    schema: optional(z.string().refine((raw) => raw.length >= 32 && secretBits(raw) >= 128, { error: 'must have at least 32 characters and about 128 bits (openssl rand -hex 32)' })),
    production: 'optional',
    doc: 'the secret pairwise `sub`s are made from (OIDC Core 8.1: clients with `subject_type: "pairwise"`), 32+ characters; required when a client has one; never change it, or every pairwise `sub` changes',
  }),
  JWKS_FILE: variable({ schema: optional(text), derived: '(dev: fresh keys each start)', production: 'required', doc: 'private JWK set of signing keys (`npm run keys -- new`)' }),
  CLIENTS_FILE: variable({ schema: optional(text), derived: '(dev: the demo client and `demo-device`)', production: 'required', doc: 'JSON array of OIDC client metadata; re-read on SIGHUP' }),
  WECHAT_MP_APPID: variable({ schema: optional(appid), production: 'one app required', doc: 'Official Account (公众号) appid, for web authorization inside WeChat (one app required)' }),
  WECHAT_MP_SECRET: variable({ secret: true, schema: optional(appSecret), production: 'one app required', doc: 'its AppSecret' }),
  WECHAT_OPEN_APPID: variable({ schema: optional(appid), production: 'one app required', doc: 'website application (网站应用) appid, for QR login (one app required)' }),
  WECHAT_OPEN_SECRET: variable({ secret: true, schema: optional(appSecret), production: 'one app required', doc: 'its AppSecret' }),
  WECHAT_MP_NAME: variable({ schema: optional(displayName), production: 'optional', doc: 'what pages call the Official Account (default: "WeChat Official Account" in the page\'s language)' }),
  WECHAT_OPEN_NAME: variable({ schema: optional(displayName), production: 'optional', doc: 'what pages call the website app (default: "QR login on the website" in the page\'s language)' }),
  WECHAT_APPS_FILE: variable({
    schema: optional(text), production: 'one app required',
    doc: 'JSON array of WeChat apps (id, kind, appid, secret_env or secret_file, name) and WeCom apps (kind `wecom`: corpid, agentid), for several apps; instead of WECHAT_MP_*/WECHAT_OPEN_*',
  }),
  WECHAT_QR_MODE: variable({ schema: oneOf(['embedded', 'redirect']), default: 'embedded', production: 'optional', doc: '`embedded` (wxLogin.js in the broker page) or `redirect` (WeChat\'s qrconnect page)' }),
  WECHAT_CONNECT_URL: variable({ schema: httpUrl, default: 'https://open.weixin.qq.com', production: 'optional', doc: 'base of WeChat\'s authorize pages' }),
  WECHAT_MP_URL: variable({ schema: httpUrl, default: 'https://mp.weixin.qq.com', production: 'optional', doc: 'base of the Official Accounts Platform\'s pages (a third-party platform\'s authorization page)' }),
  WECHAT_API_URL: variable({ schema: httpUrl, default: 'https://api.weixin.qq.com', production: 'optional', doc: 'base of WeChat\'s APIs' }),
  WECHAT_LOGIN_JS_URL: variable({ schema: httpUrl, default: 'https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js', production: 'optional', doc: 'WeChat\'s wxLogin.js' }),
  WECOM_API_URL: variable({ schema: httpUrl, default: 'https://qyapi.weixin.qq.com', production: 'optional', doc: 'base of WeCom\'s APIs' }),
  WECOM_LOGIN_JS_URL: variable({
    schema: optional(httpUrl), production: 'optional',
    doc: 'WeCom\'s JS SDK (`https://wwcdn.weixin.qq.com/node/open/js/wecom-jssdk-<version>.js`): when set, a desktop gets WeCom\'s login panel in the broker\'s page, else WeCom\'s SSO page',
  }),
  WECOM_LOGIN_URL: variable({ schema: httpUrl, default: 'https://login.work.weixin.qq.com', production: 'optional', doc: 'base of WeCom\'s login pages (its SSO page for a desktop browser)' }),
  WECHAT_TIMEOUT_MS: variable({ schema: wholeNumber(100, 60_000), default: '5000', production: 'optional', doc: 'timeout of each WeChat API call' }),
  WECHAT_SIMULATOR_PORT: variable({ schema: optional(wholeNumber(0, 65535)), derived: '`PORT + 1`', production: 'unused', doc: 'the simulator\'s port in dev mode without WeChat credentials (`0`: any free port)' }),
  REDIS_URL: variable({ secret: true, schema: optional(redisUrl), production: 'recommended', doc: 'Redis (server, Sentinel or Cluster) for protocol state, and accounts without MongoDB' }),
  REDIS_PREFIX: variable({ schema: text, default: 'wechat-broker:', production: 'optional', doc: 'prefix of every Redis key' }),
  MONGODB_URI: variable({ secret: true, schema: optional(mongodbUri), production: 'recommended', doc: 'MongoDB (replica set) for accounts, and protocol state without Redis' }),
  STORAGE_TIMEOUT_MS: variable({ schema: wholeNumber(50, 60_000), default: '2000', production: 'optional', doc: 'how long one storage operation may take' }),
  LOG_LEVEL: variable({ schema: oneOf(LOG_LEVELS), default: 'info', production: 'optional', doc: 'log level; logs are JSON lines on stdout' }),
  LOG_FORMAT: variable({
    schema: oneOf(['auto', 'json', 'pretty']), default: 'auto', production: 'optional',
    doc: '`json` lines, or `pretty` lines for a person at a terminal (time, level, the request as "GET /path 200 4 ms"); `auto`: pretty in dev mode when stdout is a terminal, else JSON',
  }),
  METRICS_TOKEN: variable({ secret: true, schema: optional(z.string().min(16, { error: 'must have at least 16 characters' })), production: 'recommended', doc: 'bearer token required on /metrics' }),
  METRICS_PORT: variable({ schema: optional(wholeNumber(1, 65535)), production: 'recommended', doc: 'serve /metrics on this port only' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable({
    // The collector's address is logged (a failed export) and shown by the doctor: no credentials in it.
    schema: optional(httpUrl.refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), { error: 'must not carry credentials (user:password@): the address is logged; run a collector beside the broker that holds them' })),
    production: 'optional',
    doc: 'send traces (OpenTelemetry, OTLP over HTTP, JSON) to this collector: `<endpoint>/v1/traces`, as OpenTelemetry\'s own variable says; unset: no traces',
  }),
  OTEL_SERVICE_NAME: variable({ schema: text, default: 'wechat-oidc-broker', production: 'optional', doc: 'the traces\' `service.name`' }),
  TRACES_SAMPLE_RATIO: variable({
    schema: z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/, { error: 'expected a share from 0 to 1, as 0.1' }).transform(Number), default: '1', production: 'optional',
    doc: 'the share of requests traced, when traces are sent (a request whose caller sent a sampled `traceparent` is traced whatever this says)',
  }),
  CONSOLE_OPERATORS: variable({
    schema: optional(operators), production: 'optional',
    doc: 'who may use the operator console (`/console`): comma-separated account `sub`s, each with `:read` (look people up, export) or `:write` (also sign out, unlink, suspend, erase); unset: no console (with the built-in simulator: anyone who logs in, as its people are nobody real)',
  }),
  ACCOUNT_RETENTION_DAYS: variable({
    schema: optional(wholeNumber(1, 36_500)), production: 'optional',
    doc: 'erase accounts with no login for this many days, not while a suspension of the account holds (a job on one instance at a time, hourly)',
  }),
  SHUTDOWN_DELAY_MS: variable({ schema: wholeNumber(0, 120_000), default: '0', production: 'optional', doc: 'after SIGTERM, how long to keep serving while not ready' }),
  RATE_LIMIT_PER_IP: variable({
    schema: optional(wholeNumber(0, 1_000_000)), derived: '`300` in production, `0` (off) in dev mode', production: 'optional',
    doc: 'requests a minute one client IP may make to /auth, /request, the login pages and WeChat\'s callbacks; at /token, /token/introspection and /token/revocation (a server\'s calls for all its users) and for WeChat\'s pushes, requests refused (a wrong secret, code or token; a bad signature) (`0`: no limit)',
  }),
  FOLLOW_QR_PER_MINUTE: variable({
    schema: wholeNumber(0, 10_000), default: '60', production: 'optional',
    doc: 'follow-to-login QR codes the broker may create at WeChat in a minute, across instances (`qrcode/create` draws on the account\'s API quota, shared with everything the company runs; a reload shows the same code); past it, a page asks the person to try again shortly (`0`: no limit)',
  }),
  DEVICE_CODE_TTL_S: variable({
    schema: wholeNumber(5, 1800), default: '600', production: 'optional',
    doc: 'how long a device\'s login code (RFC 8628: the code a TV or a command line shows) lives, in seconds',
  }),
  SESSION_IDLE_HOURS: variable({
    schema: wholeNumber(1, 8760), default: '336', production: 'optional',
    doc: 'a person\'s login session at the broker (single sign-on in one browser) ends when no app has logged in through it for this many hours; the tokens an app got without `offline_access` end with it',
  }),
  SESSION_MAX_HOURS: variable({
    schema: wholeNumber(0, 87_600), default: '720', production: 'optional',
    doc: 'and ends this many hours after its login however much it is used: the next app logs the person in again (`0`: no maximum)',
  }),
  RATE_LIMIT_PER_CLIENT: variable({
    schema: optional(wholeNumber(0, 1_000_000)), derived: '`3000` in production, `0` (off) in dev mode', production: 'optional',
    doc: 'requests a minute for one client_id at those endpoints (`0`: no limit)',
  }),
  BRAND_NAME: variable({ schema: optional(displayName), production: 'recommended', doc: 'the company or product name shown on every page' }),
  BRAND_NAME_EN: variable({ schema: optional(displayName), production: 'optional', doc: 'the name on English pages (default: BRAND_NAME)' }),
  BRAND_NAME_ZH_TW: variable({ schema: optional(displayName), production: 'optional', doc: 'the name on Traditional Chinese pages (default: BRAND_NAME in Traditional characters)' }),
  BRAND_LOGO_FILE: variable({ schema: optional(text), production: 'optional', doc: 'a PNG, JPEG, WebP or SVG logo (at most 256 KiB), served by the broker itself' }),
  BRAND_COLOR: variable({
    schema: optional(z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'expected a colour as #rrggbb' }).transform((raw) => raw.toLowerCase())),
    derived: '`#067d3f` (a dark WeChat green)', production: 'optional',
    doc: 'the primary colour; button text is white or near-black, whichever keeps WCAG AA contrast (4.5:1), and a colour where neither does is refused',
  }),
  BRAND_BUTTON_TEXT: variable({
    schema: oneOf(['auto', 'white', 'black']), default: 'auto', production: 'optional',
    doc: '`white` or `black` text on `BRAND_COLOR` buttons; refused (with the contrast and the nearest shade that would do) when under 4.5:1; `auto` as above',
  }),
  BRAND_PRIVACY_URL: variable({ schema: optional(httpUrl), production: 'recommended', doc: 'the privacy policy, linked in every page\'s footer' }),
  BRAND_TERMS_URL: variable({ schema: optional(httpUrl), production: 'optional', doc: 'the terms of service, linked in every page\'s footer' }),
  ICP_LICENSE: variable({ schema: optional(z.string().max(60, { error: 'must have at most 60 characters' })), production: 'recommended', doc: 'ICP 备案号 (e.g. 京ICP备12345678号-1), in every page\'s footer, linked to beian.miit.gov.cn' }),
  PSB_LICENSE: variable({
    schema: optional(z.string().max(60).regex(/\d{10,}/, { error: 'expected the 公安备案号 with its record number (e.g. 京公网安备11010502030000号)' })),
    production: 'optional', doc: '公安备案号, in every page\'s footer, linked to its record at beian.mps.gov.cn',
  }),
  INSECURE_LAB: variable({
    schema: oneOf(['true', 'false']).transform((raw) => raw === 'true'), default: 'false', production: 'optional',
    doc: '`true` lets production run with an http `ISSUER` and http WeChat URLs (a lab or test rig only; the banner warns)',
  }),
  SHUTDOWN_TIMEOUT_MS: variable({ schema: wholeNumber(0, 600_000), default: '10000', production: 'optional', doc: 'then how long requests in flight get to finish' }),
};

export type VariableName = keyof typeof VARIABLES;

/** Every variable, parsed. */
export type Settings = { readonly [K in VariableName]: z.output<(typeof VARIABLES)[K]['schema']> };
