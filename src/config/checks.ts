// Checks across variables, run in this order after each variable has parsed on its own
// (as oidc-provider's configuration.js runs its checkX() steps after the defaults).

import { ConfigError } from './errors.ts';
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

/** Production needs WeChat itself: the simulator never runs there. */
const checkProductionHasApp: Check = (settings) => {
  if (settings.NODE_ENV === 'production' && !isSet(settings, 'WECHAT_MP_APPID') && !isSet(settings, 'WECHAT_OPEN_APPID')) {
    throw new ConfigError('WECHAT_MP_APPID/WECHAT_OPEN_APPID', 'NODE_ENV=production needs at least one WeChat app (the simulator never runs in production)');
  }
};

export const CHECKS: readonly Check[] = [checkIssuerIsOrigin, checkAppPairs, checkProductionRequired, checkProductionHasApp];
