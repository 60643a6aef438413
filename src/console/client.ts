// The operator console signs operators in through a client of the broker's own
// (oidc/own-clients.ts), registered only when CONSOLE_OPERATORS names someone. Its sign-in
// asks for a login at most OPERATOR_LOGIN_MAX_S old (OIDC Core 3.1.2.1 `max_age`: older,
// the person logs in again), so a browser's two-week single sign-on is not a console pass.

import type { ClientMetadata } from '../config/config.ts';
import { OWN_CLIENT_IDS, ownClientMetadata, ownSignInUrl, type OwnClient } from '../oidc/own-clients.ts';

export const CONSOLE_CLIENT = OWN_CLIENT_IDS.console;

/** How old an operator's login may be for the console: a working day. */
export const OPERATOR_LOGIN_MAX_S = 12 * 3600;

const consoleClient = (issuer: string): OwnClient => ({
  id: CONSOLE_CLIENT, redirectUri: `${issuer}/console`, names: { 'zh-CN': '运营控制台', 'zh-TW': '營運控制台', en: 'Operator console' },
});

/** `everyApp`: as the person's page's (account-page/client.ts), so a WeCom member can sign in. */
export function consoleClientMetadata(issuer: string, everyApp?: readonly string[]): ClientMetadata {
  return ownClientMetadata(consoleClient(issuer), everyApp ? { wechat_apps: [...everyApp] } : {});
}

export function consoleSignInUrl(issuer: string, state: string): string {
  return ownSignInUrl(issuer, consoleClient(issuer), state, { max_age: String(OPERATOR_LOGIN_MAX_S) });
}
