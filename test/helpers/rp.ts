// A relying party written with openid-client (certified RP code), as a real app would.

import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { testClients } from './broker.ts';
import { landedAt } from './browser.ts';
import type { RpServer } from './rp-server.ts';

export interface Rp {
  readonly config: oidc.Configuration;
  /** Starts a login: the URL to open, and what the RP keeps to check the answer. */
  start(params?: Record<string, string>): Promise<{ url: string; check: Check }>;
  /** Waits for the browser to come back to the RP and returns where it landed. */
  landed(page: Page): Promise<URL>;
  /** Finishes a login from the URL the browser landed on. */
  finish(landed: URL, check: Check): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

export interface Check {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

/**
 * `secret`: for a client outside the test clients (undefined: the test client's own);
 * `metadata`: what else the RP knows it registered (a signed userinfo's algorithm, say).
 */
export async function createRp(issuer: string, server: RpServer, clientId = 'first-party', secret?: string, metadata: Partial<oidc.ClientMetadata> = {}): Promise<Rp> {
  const client = testClients(server.origin).find((candidate) => candidate.client_id === clientId);
  secret ??= (client as { client_secret?: string } | undefined)?.client_secret;
  const config = await oidc.discovery(new URL(issuer), clientId, { ...metadata, ...(secret ? { client_secret: secret } : {}) },
    secret ? undefined : oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return {
    config,
    async start(params = {}) {
      const check = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: server.callback,
        scope: 'openid profile wechat',
        code_challenge: await oidc.calculatePKCECodeChallenge(check.verifier),
        code_challenge_method: 'S256',
        state: check.state,
        nonce: check.nonce,
        ...params,
      });
      return { url: url.href, check };
    },
    landed: (page) => landedAt(page, server.origin),
    finish(landed, check) {
      return oidc.authorizationCodeGrant(config, landed, {
        pkceCodeVerifier: check.verifier, expectedState: check.state, expectedNonce: check.nonce,
      });
    },
  };
}
