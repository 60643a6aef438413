// A relying party written with openid-client (certified RP code), as a real app would.

import * as oidc from 'openid-client';
import { RP_CALLBACK, TEST_CLIENTS } from './broker.ts';

export interface Rp {
  readonly config: oidc.Configuration;
  /** Starts a login: the URL to open, and what the RP keeps to check the answer. */
  start(params?: Record<string, string>): Promise<{ url: string; check: Check }>;
  /** Finishes a login from the URL the browser landed on. */
  finish(landed: URL, check: Check): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

export interface Check {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

export async function createRp(issuer: string, clientId = 'first-party'): Promise<Rp> {
  const client = TEST_CLIENTS.find((candidate) => candidate.client_id === clientId)!;
  const secret = (client as { client_secret?: string }).client_secret;
  const config = await oidc.discovery(new URL(issuer), clientId, secret,
    secret ? undefined : oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return {
    config,
    async start(params = {}) {
      const check = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: RP_CALLBACK,
        scope: 'openid profile wechat',
        code_challenge: await oidc.calculatePKCECodeChallenge(check.verifier),
        code_challenge_method: 'S256',
        state: check.state,
        nonce: check.nonce,
        ...params,
      });
      return { url: url.href, check };
    },
    finish(landed, check) {
      return oidc.authorizationCodeGrant(config, landed, {
        pkceCodeVerifier: check.verifier, expectedState: check.state, expectedNonce: check.nonce,
      });
    },
  };
}
