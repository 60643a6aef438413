// The broker's own pages (the person's page, the operator console) sign people in as any
// relying party would: through an authorization request by a client of the broker's own.
// Each asks for nothing but a session (response_type=none: OAuth 2.0 Multiple Response
// Type Encoding Practices, section 4), so no code or token is ever issued to one.

import type { ClientMetadata } from '../config/config.ts';

/** The broker's own clients' ids: no relying party, so the person's page lists none of them as an app. */
export const OWN_CLIENT_IDS = { accountPage: '_account', console: '_console' } as const;

export const isOwnClient = (clientId: string): boolean => Object.values(OWN_CLIENT_IDS).includes(clientId as never);

/** One of the broker's own clients: its id, the page it returns to, its name in each language. */
export interface OwnClient {
  readonly id: string;
  readonly redirectUri: string;
  readonly names: { readonly 'zh-CN': string; readonly 'zh-TW': string; readonly en: string };
}

/** The client's registration; `extra`: what else its caller registers (the ways in it offers). */
export function ownClientMetadata(client: OwnClient, extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    ...extra,
    client_id: client.id,
    client_name: client.names.en, 'client_name#zh-CN': client.names['zh-CN'], 'client_name#zh-TW': client.names['zh-TW'], 'client_name#en': client.names.en,
    redirect_uris: [client.redirectUri],
    response_types: ['none'],
    grant_types: [],
    token_endpoint_auth_method: 'none',
    first_party: true,
  };
}

/** The authorization request that signs the person in and comes back to the client's page; `extra`: prompt, max_age. */
export function ownSignInUrl(issuer: string, client: OwnClient, state: string, extra: Record<string, string> = {}): string {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: client.id, response_type: 'none', scope: 'openid', redirect_uri: client.redirectUri, state, ...extra,
  }).toString();
  return url.href;
}
