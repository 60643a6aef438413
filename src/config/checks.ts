// Checks across variables, run in this order after each variable has parsed on its own
// (as oidc-provider's configuration.js runs its checkX() steps after the defaults).

import { ConfigError } from './errors.ts';
import { secretBits } from './strength.ts';
import { VARIABLES, type Settings, type VariableName } from './variables.ts';

type Check = (settings: Settings) => void;

const isSet = (settings: Settings, name: VariableName): boolean => settings[name] !== undefined;

/** WeChat checks the callback's domain, and the callback is ISSUER/interaction/…: no path. */
const checkIssuerIsOrigin: Check = (settings) => {
  if (settings.ISSUER !== undefined && new URL(settings.ISSUER).pathname !== '/') {
    throw new ConfigError('ISSUER', 'must be an origin without a path (WeChat checks the callback domain)');
  }
};

/** An app needs both its appid and its secret. */
const checkAppPairs: Check = (settings) => {
  for (const prefix of ['WECHAT_MP', 'WECHAT_OPEN'] as const) {
    const [appid, secret] = [`${prefix}_APPID`, `${prefix}_SECRET`] as const;
    if (isSet(settings, appid) && !isSet(settings, secret)) throw new ConfigError(secret, `is required when ${appid} is set`);
    if (isSet(settings, secret) && !isSet(settings, appid)) throw new ConfigError(appid, `is required when ${secret} is set`);
  }
};

/** Production has no dev defaults to fall back on: every variable marked required is set. */
const checkProductionRequired: Check = (settings) => {
  if (settings.NODE_ENV !== 'production') return;
  const missing = (Object.keys(VARIABLES) as VariableName[])
    .filter((name) => VARIABLES[name].production === 'required' && !isSet(settings, name));
  if (missing.length) throw new ConfigError(missing.join(', '), 'required when NODE_ENV=production');
};

/** The apps come from WECHAT_APPS_FILE or from the single-app variables, not both. */
const checkOneFormOfApps: Check = (settings) => {
  if (isSet(settings, 'WECHAT_APPS_FILE') && (isSet(settings, 'WECHAT_MP_APPID') || isSet(settings, 'WECHAT_OPEN_APPID'))) {
    throw new ConfigError('WECHAT_APPS_FILE', 'set either WECHAT_APPS_FILE or WECHAT_MP_*/WECHAT_OPEN_*, not both');
  }
};

/** Production needs WeChat itself: the simulator never runs there. */
const checkProductionHasApp: Check = (settings) => {
  if (settings.NODE_ENV === 'production' && !isSet(settings, 'WECHAT_MP_APPID') && !isSet(settings, 'WECHAT_OPEN_APPID') && !isSet(settings, 'WECHAT_APPS_FILE')) {
    throw new ConfigError('WECHAT_MP_APPID/WECHAT_OPEN_APPID', 'NODE_ENV=production needs at least one WeChat app (the simulator never runs in production)');
  }
};

/** Production sends secrets and cookies only over TLS, unless INSECURE_LAB says this is a lab. */
const checkProductionHttps: Check = (settings) => {
  if (settings.NODE_ENV !== 'production' || settings.INSECURE_LAB) return;
  const plain = (['ISSUER', 'WECHAT_API_URL', 'WECHAT_CONNECT_URL', 'WECHAT_MP_URL', 'WECHAT_LOGIN_JS_URL', 'WECOM_API_URL', 'WECOM_LOGIN_URL'] as const)
    .find((name) => name === 'ISSUER' ? !settings.ISSUER?.startsWith('https:') : !settings[name].startsWith('https:'))
    ?? (settings.WECOM_LOGIN_JS_URL?.startsWith('http:') ? 'WECOM_LOGIN_JS_URL' : undefined);
  if (plain === 'ISSUER') throw new ConfigError('ISSUER', 'must be https in production (cookies, codes and tokens travel on it); INSECURE_LAB=true allows http in a lab');
  if (plain) throw new ConfigError(plain, 'must be https in production (the app secret and codes travel on it); INSECURE_LAB=true allows http in a lab');
};


/** Production's cookie and data keys must be secrets, not placeholders ("kkkk…"). */
const checkProductionCookieKeys: Check = (settings) => {
  if (settings.NODE_ENV !== 'production') return;
  for (const name of ['COOKIE_KEYS', 'DATA_KEYS'] as const) {
    if (settings[name]?.some((key) => secretBits(key) < 128 || new Set(key).size < 8)) {
      throw new ConfigError(name, 'a key is too predictable: use random ones (openssl rand -hex 32)');
    }
  }
};

/** Production keeps state where every instance and a restart find it. */
const checkProductionStorage: Check = (settings) => {
  if (settings.NODE_ENV === 'production' && !isSet(settings, 'REDIS_URL') && !isSet(settings, 'MONGODB_URI')) {
    throw new ConfigError('REDIS_URL/MONGODB_URI', 'production needs Redis or MongoDB: in memory, sessions and accounts are lost at every restart');
  }
};

/** /metrics on its own port still tells anyone who reaches it about the logins: not on every interface without a token. */
const checkProductionMetrics: Check = (settings) => {
  const loopback = settings.HOST === 'localhost' || settings.HOST === '127.0.0.1' || settings.HOST === '::1';
  if (settings.NODE_ENV === 'production' && isSet(settings, 'METRICS_PORT') && !isSet(settings, 'METRICS_TOKEN') && !loopback) {
    throw new ConfigError('METRICS_TOKEN', 'is required with METRICS_PORT when HOST is not a loopback address (metrics would be open on every interface)');
  }
};

export const CHECKS: readonly Check[] = [
  checkIssuerIsOrigin, checkAppPairs, checkOneFormOfApps, checkProductionRequired, checkProductionHasApp,
  checkProductionHttps, checkProductionCookieKeys, checkProductionStorage, checkProductionMetrics,
];
