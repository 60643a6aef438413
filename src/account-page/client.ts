// The person's page signs people in through a client of the broker's own (oidc/own-clients.ts).

import type { ClientMetadata } from '../config/config.ts';
import { OWN_CLIENT_IDS, ownClientMetadata, ownSignInUrl, type OwnClient } from '../oidc/own-clients.ts';

export const ACCOUNT_PAGE_CLIENT = OWN_CLIENT_IDS.accountPage;

const accountPage = (issuer: string): OwnClient => ({
  id: ACCOUNT_PAGE_CLIENT, redirectUri: `${issuer}/account`, names: { 'zh-CN': '我的账户', 'zh-TW': '我的帳戶', en: 'Your account' },
});

/**
 * `everyApp`: the ids of every app when the broker has WeCom apps too, so that a WeCom
 * member can sign in to their page (a client names WeCom apps to offer them); otherwise
 * the page offers every WeChat app, as any client that names none.
 */
export function accountPageClient(issuer: string, everyApp?: readonly string[]): ClientMetadata {
  return ownClientMetadata(accountPage(issuer), everyApp ? { wechat_apps: [...everyApp] } : {});
}

/** The authorization request that signs the person in and comes back to /account. */
export function accountSignInUrl(issuer: string, state: string, forceLogin: boolean): string {
  return ownSignInUrl(issuer, accountPage(issuer), state, forceLogin ? { prompt: 'login' } : {});
}
