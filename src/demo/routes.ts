// The demo relying party (dev mode without CLIENTS_FILE): a plain OIDC client written with
// openid-client, exactly as a relying party would write it, logging in through the broker.
//
//   GET /demo           start page, or the claims of the logged-in person
//   GET /demo/login     starts the authorization code flow (PKCE, state, nonce)
//   GET /demo/callback  redirect_uri
//   GET /demo/logout    RP-initiated logout

import Router from '@koa/router';
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ClientMetadata } from '../config/config.ts';
import { html, langOf, renderPage } from '../pages/html.ts';

export const DEMO_CLIENT_ID = 'demo';
const SCOPE = 'openid profile wechat';
const COOKIE = 'demo_sid';

interface DemoSession {
  codeVerifier?: string;
  state?: string;
  nonce?: string;
  idToken?: string;
  idTokenClaims?: Record<string, unknown>;
  userinfo?: Record<string, unknown>;
  error?: string;
}

export function demoClient(issuer: string): ClientMetadata {
  return {
    client_id: DEMO_CLIENT_ID,
    client_secret: randomBytes(32).toString('base64url'),
    client_name: 'Demo app',
    redirect_uris: [`${issuer}/demo/callback`],
    post_logout_redirect_uris: [`${issuer}/demo`],
    first_party: true,
  };
}

export function demoRoutes(issuer: string, client: ClientMetadata): Router {
  const sessions = new Map<string, DemoSession>();
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc.discovery(new URL(issuer), client.client_id, String(client.client_secret), undefined,
      issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => { discovered = undefined; throw error; });
    return discovered;
  };
  const session = (ctx: Context): DemoSession => {
    let id = ctx.cookies.get(COOKIE);
    if (!id || !sessions.has(id)) {
      id = randomBytes(24).toString('base64url');
      sessions.set(id, {});
      ctx.cookies.set(COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/demo' });
    }
    return sessions.get(id)!;
  };

  const router = new Router();
  router.get('/demo', (ctx) => {
    const s = session(ctx);
    const zh = langOf(ctx) === 'zh-CN';
    renderPage(ctx, {
      title: zh ? '演示应用' : 'Demo app',
      body: () => html`<section><h1>${zh ? '演示应用' : 'Demo app'}</h1>
${s.error ? html`<p id="error">${s.error}</p>` : ''}
${s.idTokenClaims ? html`<h2>ID token</h2><pre id="id-token-claims">${JSON.stringify(s.idTokenClaims, null, 2)}</pre>
<h2>UserInfo</h2><pre id="userinfo">${JSON.stringify(s.userinfo, null, 2)}</pre>
<a class="button" id="logout" href="/demo/logout">${zh ? '退出登录' : 'Log out'}</a>`
    : html`<a class="button primary" id="login" href="/demo/login">${zh ? '使用微信登录' : 'Log in with WeChat'}</a>`}
</section>`,
    });
  });

  router.get('/demo/login', async (ctx) => {
    const s = session(ctx);
    const config = await configuration();
    s.codeVerifier = oidc.randomPKCECodeVerifier();
    s.state = oidc.randomState();
    s.nonce = oidc.randomNonce();
    s.error = undefined;
    ctx.redirect(oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${issuer}/demo/callback`,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(s.codeVerifier),
      code_challenge_method: 'S256',
      state: s.state,
      nonce: s.nonce,
    }).href);
  });

  router.get('/demo/callback', async (ctx) => {
    const s = session(ctx);
    const config = await configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.href, issuer), {
        pkceCodeVerifier: s.codeVerifier, expectedState: s.state, expectedNonce: s.nonce,
      });
      const claims = tokens.claims()!;
      s.idToken = tokens.id_token;
      s.idTokenClaims = { ...claims };
      s.userinfo = { ...await oidc.fetchUserInfo(config, tokens.access_token, claims.sub) };
    } catch (error) {
      s.error = error instanceof oidc.AuthorizationResponseError
        ? `${error.error}: ${error.error_description ?? ''}` : (error as Error).message;
    }
    ctx.redirect('/demo');
  });

  router.get('/demo/logout', async (ctx) => {
    const s = session(ctx);
    const config = await configuration();
    const idToken = s.idToken;
    for (const key of Object.keys(s) as Array<keyof DemoSession>) delete s[key];
    ctx.redirect(oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: `${issuer}/demo`,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href);
  });
  return router;
}
