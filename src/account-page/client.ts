// The person's page signs people in as any relying party would: through an authorization
// request, by a client of the broker's own. It asks for nothing but a session
// (response_type=none: OAuth 2.0 Multiple Response Type Encoding Practices, section 4), so
// no code or token is ever issued to it.

import type { ClientMetadata } from '../config/config.ts';

export const ACCOUNT_PAGE_CLIENT = '_account';

/**
 * `wecomApps`: the ids of every app when the broker has WeCom apps too, so that a WeCom
 * member can sign in to their page (a client names WeCom apps to offer them); otherwise
 * the page offers every WeChat app, as any client that names none.
 */
export function accountPageClient(issuer: string, everyApp?: readonly string[]): ClientMetadata {
  return {
    ...(everyApp ? { wechat_apps: [...everyApp] } : {}),
    client_id: ACCOUNT_PAGE_CLIENT,
    client_name: 'Your account', 'client_name#zh-CN': '我的账户', 'client_name#zh-TW': '我的帳戶', 'client_name#en': 'Your account',
    redirect_uris: [`${issuer}/account`],
    response_types: ['none'],
    grant_types: [],
    token_endpoint_auth_method: 'none',
    first_party: true,
  };
}

/** The authorization request that signs the person in and comes back to /account. */
export function accountSignInUrl(issuer: string, state: string, forceLogin: boolean): string {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: ACCOUNT_PAGE_CLIENT, response_type: 'none', scope: 'openid', redirect_uri: `${issuer}/account`, state,
    ...(forceLogin ? { prompt: 'login' } : {}),
  }).toString();
  return url.href;
}
