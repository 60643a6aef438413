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
import { html, langOf, renderPage, type Html } from '../pages/html.ts';
import { isMessageKey, t, type Lang, type MessageKey } from '../pages/i18n.ts';

export const DEMO_CLIENT_ID = 'demo';
const SCOPE = 'openid profile wechat wecom';
const COOKIE = 'demo_sid';

interface DemoSession {
  codeVerifier?: string;
  state?: string;
  nonce?: string;
  idToken?: string;
  idTokenClaims?: Record<string, unknown>;
  userinfo?: Record<string, unknown>;
  /** What went wrong: an OAuth error code (or the demo's own), and the technical description. */
  error?: { code: string; description: string };
}

/** The claims a person would want to read, in order, with how to show each. */
const READABLE: ReadonlyArray<[MessageKey, string, (value: unknown) => string]> = [
  ['demo_sub', 'sub', String],
  ['demo_nickname', 'nickname', String],
  ['demo_unionid', 'wechat_unionid', String],
  ['demo_openid', 'wechat_openid', String],
  ['demo_amr', 'amr', (value) => (Array.isArray(value) ? value.join(', ') : String(value))],
  ['demo_acr', 'acr', String],
  ['demo_auth_time', 'auth_time', (value) => new Date(Number(value) * 1000).toISOString().replace('T', ' ').slice(0, 19)],
];

function claimsTable(lang: Lang, claims: Record<string, unknown>): Html {
  const rows = READABLE.filter(([, name]) => claims[name] !== undefined)
    .map(([label, name, show]) => html`<tr><th scope="row">${t(lang, label)}</th><td>${show(claims[name])}</td></tr>`);
  const picture = typeof claims.picture === 'string' ? claims.picture : undefined;
  return html`${picture ? html`<img class="avatar" src="${picture}" alt="${t(lang, 'demo_picture')}" width="64" height="64">` : ''}<table>${rows}</table>`;
}

function errorText(lang: Lang, error: NonNullable<DemoSession['error']>): Html {
  const key = error.code === 'no_login' ? 'demo_no_login' : `oauth_${error.code}`;
  return html`<p id="error" role="alert">${isMessageKey(key) ? t(lang, key) : t(lang, 'error_request')}</p><p class="muted">${error.code}: ${error.description}</p>`;
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

/** Dev mode's device (RFC 8628), for examples/device-login.mjs: a public client with the device_code grant. */
export function demoDeviceClient(): ClientMetadata {
  return {
    client_id: 'demo-device',
    client_name: '演示设备', 'client_name#en': 'Demo device',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
    response_types: [],
    redirect_uris: [],
    scope: 'openid profile',
    first_party: true,
  };
}

/** The demo RP: its sessions (in memory, by cookie) and its discovered configuration. */
class DemoRp {
  readonly #issuer: string;
  readonly #client: ClientMetadata;
  readonly #sessions = new Map<string, DemoSession>();
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(issuer: string, client: ClientMetadata) {
    this.#issuer = issuer;
    this.#client = client;
  }

  configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= oidc.discovery(new URL(this.#issuer), this.#client.client_id, String(this.#client.client_secret), undefined,
      this.#issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => { this.#discovered = undefined; throw error; });
    return this.#discovered;
  }

  session(ctx: Context): DemoSession {
    const id = ctx.cookies.get(COOKIE);
    const existing = id === undefined ? undefined : this.#sessions.get(id);
    if (existing) return existing;
    const fresh: DemoSession = {};
    const newId = randomBytes(24).toString('base64url');
    this.#sessions.set(newId, fresh);
    ctx.cookies.set(COOKIE, newId, { httpOnly: true, sameSite: 'lax', path: '/demo' });
    return fresh;
  }

  /** GET /demo: the start page, or who logged in: readable first, then the raw claims. */
  home(ctx: Context): void {
    const s = this.session(ctx);
    const lang = langOf(ctx);
    const claims = s.idTokenClaims && { ...s.idTokenClaims, ...s.userinfo };
    renderPage(ctx, {
      title: t(lang, 'demo_title'),
      imageSources: typeof claims?.picture === 'string' ? [new URL(claims.picture).origin] : [],
      body: () => html`<section><h1>${t(lang, 'demo_title')}</h1>
${s.error ? errorText(lang, s.error) : ''}
${claims ? html`<h2>${t(lang, 'demo_who')}</h2>${claimsTable(lang, claims)}
<h2>ID token</h2><pre id="id-token-claims">${JSON.stringify(s.idTokenClaims, null, 2)}</pre>
<h2>UserInfo</h2><pre id="userinfo">${JSON.stringify(s.userinfo, null, 2)}</pre>
<a class="button" id="logout" href="/demo/logout">${t(lang, 'demo_logout')}</a>`
    : html`<p>${t(lang, 'demo_intro')}</p><a class="button primary" id="login" href="/demo/login">${t(lang, 'demo_login')}</a>`}
</section>`,
    });
  }

  /** GET /demo/login: the authorization code flow with PKCE, state and nonce. */
  async login(ctx: Context): Promise<void> {
    const s = this.session(ctx);
    const config = await this.configuration();
    s.codeVerifier = oidc.randomPKCECodeVerifier();
    s.state = oidc.randomState();
    s.nonce = oidc.randomNonce();
    s.error = undefined;
    ctx.redirect(oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${this.#issuer}/demo/callback`,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(s.codeVerifier),
      code_challenge_method: 'S256',
      state: s.state,
      nonce: s.nonce,
    }).href);
  }

  /**
   * GET /demo/callback: the code for tokens, then the userinfo. A callback this browser
   * did not start a login for is refused (login CSRF); state, PKCE verifier and nonce are
   * single use.
   */
  async callback(ctx: Context): Promise<void> {
    const s = this.session(ctx);
    const { codeVerifier, state, nonce } = s;
    [s.codeVerifier, s.state, s.nonce] = [undefined, undefined, undefined];
    if (!codeVerifier || !state || !nonce) {
      s.error = { code: 'no_login', description: 'no login was started in this browser: the answer is ignored' };
      return ctx.redirect('/demo');
    }
    const config = await this.configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.href, this.#issuer), {
        pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce,
      });
      const claims = tokens.claims()!;
      s.idToken = tokens.id_token;
      s.idTokenClaims = { ...claims };
      s.userinfo = { ...await oidc.fetchUserInfo(config, tokens.access_token, claims.sub) };
    } catch (error) {
      s.error = error instanceof oidc.AuthorizationResponseError
        ? { code: error.error, description: error.error_description ?? '' }
        : { code: 'invalid_response', description: (error as Error).message };
    }
    ctx.redirect('/demo');
  }

  /** GET /demo/logout: forgets the session here, then RP-initiated logout at the broker. */
  async logout(ctx: Context): Promise<void> {
    const s = this.session(ctx);
    const config = await this.configuration();
    const idToken = s.idToken;
    for (const key of Object.keys(s) as Array<keyof DemoSession>) delete s[key];
    ctx.redirect(oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: `${this.#issuer}/demo`,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href);
  }
}

export function demoRoutes(issuer: string, client: ClientMetadata): Router {
  const demo = new DemoRp(issuer, client);
  const router = new Router();
  router.get('/demo', (ctx) => demo.home(ctx));
  router.get('/demo/login', (ctx) => demo.login(ctx));
  router.get('/demo/callback', (ctx) => demo.callback(ctx));
  router.get('/demo/logout', (ctx) => demo.logout(ctx));
  return router;
}
