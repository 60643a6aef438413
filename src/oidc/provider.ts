// oidc-provider's configuration, all in one place. The provider is the certified part:
// nothing here changes its protocol behaviour beyond choosing among its options. Who
// people are, which claims and scopes exist, and which extra parameters the login adds
// come in as inputs (AccountSource), so this layer knows nothing of any upstream.

import Provider, { errors, interactionPolicy, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { ClientMetadata } from '../config/clients-file.ts';
import { ConfigError } from '../config/errors.ts';
import { DEFAULT_ALG, signingAlgs, type SigningKeys } from '../config/keys.ts';
import { errorPage } from '../pages/error-pages.ts';
import { loggedOutPage, logoutPage } from '../pages/logout-pages.ts';
import { CookieSigner } from '../http/cookie-signer.ts';
import { deviceFlowFeature, DEVICE_NAME_PARAM, devicePrompt, enforceInterval, keptPastExpiry, sayInterval } from './device-flow.ts';
import type { Counters } from '../storage/counters.ts';
import type { Logger } from '../log.ts';
import type { ProtocolStorage } from '../storage/adapter.ts';
import { StorageUnavailableError } from '../storage/errors.ts';
import { askedLanguages, langOf } from '../pages/html.ts';
import { LANGS } from '../pages/i18n.ts';
import { clientDisplay, displayWithRestart, LOCALIZED_METADATA, localizedProblem } from './client-display.ts';
import { ConsumeOnceAdapter } from './consume-once.ts';
import { subjectTypes } from './pairwise.ts';
import { SELECT_ACCOUNT } from './interactions.ts';
import { forgetAppLogouts, loggedOutOfApp, rememberAppLogout } from './app-logout.ts';
import { accountGone, type LoginCheck } from './login-check.ts';
import type { LogoutNotices } from './logout-notices.ts';
import { GRANT_S, REFRESH_TOKEN_S, updateGrant, withinGrant } from './grants.ts';
import { SECURITY_EVENTS_URI } from './security-events.ts';
import { apiMetadataProblem, CLIENT_RESOURCES, RESOURCE, RESOURCE_SCOPES, resourceIndicatorsFeature, type ApiResources } from './api-resources.ts';
import { heldToMaximum, pastItsMaximum, sessionTtlS, type SessionLifetimes } from './session-lifetime.ts';
import { registerTokenExchange, type SubjectTokens } from './token-exchange.ts';
import { DPOP_ALGS } from './dpop.ts';
import { hostOnlyName } from '../http/cookie-names.ts';

/** Private client metadata: `first_party: true` skips the consent page. */
export const FIRST_PARTY = 'first_party';
/** Private client metadata: `resource_server: true` may introspect tokens issued to other clients. */
export const RESOURCE_SERVER = 'resource_server';


/** Client metadata the login layer defines (private to this broker), and how to check it. */
export interface ExtraClientMetadata {
  readonly properties: readonly string[];
  /** What is wrong with a value, or undefined. */
  readonly problem: (key: string, value: unknown) => string | undefined;
}

/** What the provider learns from the layer that knows who people are. */
export interface AccountSource {
  readonly findAccount: FindAccount;
  readonly scopes: readonly string[];
  /** Claims by scope (OIDC Core 5.4). */
  readonly claims: Readonly<Record<string, readonly string[]>>;
  readonly acrValues: readonly string[];
  /** Authorization parameters the login layer uses, beyond the standard ones. */
  readonly extraParams: readonly string[];
  /** Added to the login prompt's checks (policy as data, after oidc-provider's own). */
  readonly loginChecks: readonly LoginCheck[];
  readonly clientMetadata: ExtraClientMetadata;
}

/** oidc-provider's interaction policy with the login layer's checks added to its login prompt, and the device's confirmation last. */
function policy(checks: readonly LoginCheck[]): interactionPolicy.DefaultPolicy {
  const prompts = interactionPolicy.base();
  // OIDC Core 3.1.2.1 `prompt=select_account`, first: the person logs in afresh upstream
  // (scanning with whichever WeChat they choose), and that login resolves it (interactions.ts).
  prompts.add(new interactionPolicy.Prompt({ name: SELECT_ACCOUNT, requestable: true }), 0);
  prompts.add(devicePrompt());
  const login = prompts.get('login');
  for (const { reason, description, error, needed } of [loggedOutOfApp, accountGone, ...checks]) {
    login?.checks.add(error ? new interactionPolicy.Check(reason, description, error, (ctx) => needed(ctx)) : new interactionPolicy.Check(reason, description, (ctx) => needed(ctx)));
  }
  return prompts;
}

export interface ProviderSetup {
  readonly issuer: string;
  readonly clients: readonly ClientMetadata[];
  readonly keys: SigningKeys;
  readonly cookieKeys: readonly string[];
  /** What pairwise subjects are made from; without it, every client's subject is public. */
  readonly pairwiseSecret?: string | undefined;
  readonly storage: ProtocolStorage;
  readonly accounts: AccountSource;
  /** Subject tokens to accept with the token-exchange grant (RFC 8693); no such grant without. */
  readonly subjectTokens?: SubjectTokens | undefined;
  /** Scopes of the broker's own APIs, for clients with the client_credentials grant (and those scopes in their `scope`). */
  readonly apiScopes?: readonly string[];
  /** The company's APIs among the clients, which get JWT access tokens (api-resources.ts). */
  readonly apis: ApiResources;
  /** Back-Channel Logout deliveries, queued and retried; the provider's own go through it too. */
  readonly notices?: LogoutNotices;
  /** How long a person's login session lives (SESSION_IDLE_HOURS, SESSION_MAX_HOURS). */
  readonly sessions: SessionLifetimes;
  /** The device flow's counters (codes shown, polls; shared across instances) and where it tells the operator of a limit reached. */
  readonly device: { readonly counters: Counters; readonly log: Logger; /** A device code's life (RFC 8628 3.2 expires_in); oidc-provider's 10 minutes by default. */ readonly ttlS?: number };
}

/** Which client a logout came from, for the logged-out page's way back. */
const LOGOUT_CLIENT_COOKIE = 'logout_client';
/** The language of a logout's confirmation, for the logged-out page that follows it. */
const LOGOUT_LANG_COOKIE = 'logout_lang';
const LOGOUT_COOKIE = { httpOnly: true, sameSite: 'lax', maxAge: 10 * 60_000, path: '/session/end' } as const;

/**
 * RP-Initiated Logout 1.0's two pages. The confirmation speaks the `ui_locales` the relying
 * party asked for (2, unless the person chose a language); the logged-out page after it no
 * longer knows the client or its request, so the confirmation leaves both in short cookies.
 */
const LOGOUT_PAGES: Pick<NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>, 'logoutSource' | 'postLogoutSuccessSource'> = {
  async logoutSource(ctx, form) {
    askedLanguages(ctx, ctx.oidc.params?.ui_locales);
    const lang = langOf(ctx);
    if (ctx.oidc.client) ctx.cookies.set(LOGOUT_CLIENT_COOKIE, ctx.oidc.client.clientId, LOGOUT_COOKIE);
    ctx.cookies.set(LOGOUT_LANG_COOKIE, lang, LOGOUT_COOKIE);
    logoutPage(ctx, { app: ctx.oidc.client && clientDisplay(ctx.oidc.client, lang), form });
  },
  async postLogoutSuccessSource(ctx) {
    askedLanguages(ctx, ctx.cookies.get(LOGOUT_LANG_COOKIE));
    const clientId = ctx.cookies.get(LOGOUT_CLIENT_COOKIE);
    const client = ctx.oidc.client ?? (clientId ? await ctx.oidc.provider.Client.find(clientId) : undefined);
    loggedOutPage(ctx, client && clientDisplay(client, langOf(ctx)));
  },
};

/** A device's login code lives 10 minutes unless configured (DEVICE_CODE_TTL_S). */
const DEVICE_CODE_S = 10 * 60;

const TTL = {
  // Neither outlives its grant (oidc/grants.ts); an API's token lives as long as its declaration says (api-resources.ts).
  AccessToken: (ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number } }) => withinGrant(token.resourceServer?.accessTokenTTL ?? 60 * 60)(ctx),
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  RefreshToken: withinGrant(REFRESH_TOKEN_S),
  Interaction: 30 * 60,
  // Renewed by a login when it has less left than a refresh token lives (oidc/grants.ts).
  Grant: GRANT_S,
  // An operator's tool on the admin API: it asks again after 10 minutes.
  ClientCredentials: 10 * 60,
};

/** The person's grant to the client, renewed when due; for first-party clients, with what they ask for (no consent page). */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!oidc.session?.accountId) return existing;
  if (!client[FIRST_PARTY]) {
    if (existing) await updateGrant(existing);
    return existing;
  }
  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.session.accountId });
  await updateGrant(grant, [...oidc.requestParamOIDCScopes].join(' '), [...oidc.requestParamClaims], requestedApiScopes(ctx));
  return grant;
}

/** The scopes asked for of each API the request names (what oidc-provider's rs_scopes_missing check looks for). */
function requestedApiScopes(ctx: KoaContextWithOIDC): Record<string, string[]> {
  const asked = ctx.oidc.requestParamScopes;
  return Object.fromEntries(Object.entries(ctx.oidc.resourceServers ?? {})
    .map(([indicator, server]) => [indicator, [...asked].filter((scope) => server.scopes.has(scope))] as const)
    .filter(([, scopes]) => scopes.length > 0));
}

const renderError: Configuration['renderError'] = async (ctx, out, error) => {
  askedLanguages(ctx, ctx.oidc?.params?.ui_locales);
  if (error instanceof StorageUnavailableError) return errorPage(ctx, { kind: 'storage', status: 503 });
  const expired = error instanceof errors.SessionNotFound || error.name === 'SessionNotFound';
  const status = ctx.status >= 400 ? ctx.status : 400;
  const client = ctx.oidc?.client;
  if (expired) return errorPage(ctx, { kind: 'interaction', status, ...(client ? { app: displayWithRestart(client, langOf(ctx), ctx.oidc.provider.issuer) } : {}) });
  const app = client ? clientDisplay(client, langOf(ctx)) : undefined;
  errorPage(ctx, { kind: 'request', status, oauthError: String(out.error ?? ''), detail: String(out.error_description ?? ''), ...(app ? { app } : {}) });
};

type Validator = NonNullable<Configuration['extraClientMetadata']>['validator'];

/** An absolute http(s) URL without a fragment, as oidc-provider takes a backchannel_logout_uri. */
function isWebUri(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hash === '';
}

function validateExtra(accounts: AccountSource): Validator {
  return (_ctx, key, value) => {
    if ((key === FIRST_PARTY || key === RESOURCE_SERVER) && value !== undefined && typeof value !== 'boolean') {
      throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
    }
    if (key === SECURITY_EVENTS_URI && value !== undefined && !isWebUri(value)) throw new errors.InvalidClientMetadata(`${key} must be an http(s) URL`);
    const problem = localizedProblem(key, value) ?? apiMetadataProblem(key, value) ?? accounts.clientMetadata.problem(key, value);
    if (problem) throw new errors.InvalidClientMetadata(problem);
  };
}

/**
 * RFC 7662 2.1 leaves to the server which callers may introspect a token: here the client
 * it was issued to, and the resource servers the operator marked (`resource_server: true`);
 * any other caller learns only `active: false`.
 */
type IntrospectionPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;
const introspectionAllowed: IntrospectionPolicy = async (_ctx, client, token) =>
  token.clientId === client.clientId || client[RESOURCE_SERVER] === true;

/**
 * RFC 7009 2.1: a client may revoke only the tokens issued to it. Another client's token is
 * refused with invalid_request when the caller is a confidential client (it authenticated, it
 * can be told), and answered 200 with nothing revoked when it is a public one, which proves
 * nothing about who it is (an error would tell a prober the token is valid, 2.2).
 */
type RevocationPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['revocation']>['allowedPolicy']>;
const revocationAllowed: RevocationPolicy = async (_ctx, client, token) => {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
};

/**
 * Which web origins may call the broker's endpoints from a browser (CORS, asked per client):
 * the origins of the client's own redirect URIs, at userinfo (an access token is used where
 * the app runs) and, for public clients (single-page apps, with no server of their own), at
 * the token, introspection and revocation endpoints too; never the opaque origin "null"
 * (sandboxed frames, file: pages). A confidential client calls from its server, where CORS
 * plays no part.
 */
const corsAllowed: NonNullable<Configuration['clientBasedCORS']> = (ctx, origin, client) =>
  origin !== 'null' && (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none')
  && (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin);

/**
 * The claims by scope, with `acr` and `amr` (OIDC Core 2) in every ID token: how the person
 * logged in and through which upstream, whether or not the client asked (oidc-provider
 * otherwise includes them only on request, and `amr` not at all).
 */
function idTokenProtocolClaims(claims: Record<string, string[]>): Record<string, string[]> {
  return { ...claims, openid: [...new Set([...(claims.openid ?? ['sub']), 'acr', 'amr'])] };
}

/** The headers of oidc-provider's outgoing request, with the trace of the delivery attempt it runs in (a logout token's). */
function carryTrace(notices: LogoutNotices | undefined, headers: HeadersInit | undefined): Headers {
  const all = new Headers(headers);
  return notices ? notices.carryTrace(all) : all;
}

function configuration(setup: ProviderSetup): Configuration {
  // Authorization requests by POST come cross-site, so the session cookie must be
  // SameSite=None, which browsers keep only when Secure: POST needs an https issuer.
  const https = setup.issuer.startsWith('https:');
  return {
    adapter: (model: string) => {
      const adapter = new ConsumeOnceAdapter(setup.storage.adapter(model));
      if (model === 'Session') return heldToMaximum(adapter, setup.sessions);
      return model === 'DeviceCode' ? keptPastExpiry(adapter) : adapter;
    },
    clients: setup.clients.map((client) => ({ ...client })),
    jwks: { keys: setup.keys.keys as never },
    cookies: {
      keys: [...setup.cookieKeys],
      // The session cookie is host-only under https (http/cookie-names.ts); the interaction
      // cookies are each for their own interaction's path, which no other host can guess.
      names: { session: sessionCookieName(setup.issuer) },
      long: { httpOnly: true, sameSite: https ? 'none' : 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    enableHttpPostMethods: https,
    findAccount: setup.accounts.findAccount,
    ...subjectTypes(setup.pairwiseSecret),
    // The APIs' scopes are listed too, so that a client's `scope` metadata limits them.
    scopes: [...setup.accounts.scopes, ...setup.apiScopes ?? []],
    claims: idTokenProtocolClaims(Object.fromEntries(Object.entries(setup.accounts.claims).map(([scope, claims]) => [scope, [...claims]]))),
    acrValues: [...setup.accounts.acrValues],
    // `none` only for the broker's own page about the person, which needs a session and
    // nothing else (account-page/client.ts); relying parties get `code`.
    responseTypes: ['code', 'none'],
    extraParams: [...setup.accounts.extraParams, DEVICE_NAME_PARAM],
    extraClientMetadata: {
      properties: [FIRST_PARTY, RESOURCE_SERVER, RESOURCE, RESOURCE_SCOPES, CLIENT_RESOURCES, SECURITY_EVENTS_URI, ...LOCALIZED_METADATA, ...setup.accounts.clientMetadata.properties],
      validator: validateExtra(setup.accounts),
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // OIDC Dynamic Client Registration 1.0 §2: the default is RS256.
      id_token_signed_response_alg: DEFAULT_ALG,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // OIDC Discovery 3: the languages `ui_locales` can ask the pages for.
    discovery: { ui_locales_supported: [...LANGS] },
    // Exactly what the keys can sign: discovery offers nothing the broker could not do.
    // DPoP proofs: the algorithms the broker's own resources check too (dpop.ts).
    // Signed userinfo and introspection answers likewise: with the broker's keys, never a client secret.
    enabledJWA: {
      idTokenSigningAlgValues: signingAlgs(setup.keys), userinfoSigningAlgValues: signingAlgs(setup.keys),
      introspectionSigningAlgValues: signingAlgs(setup.keys), dPoPSigningAlgValues: DPOP_ALGS,
    },
    features: {
      devInteractions: { enabled: false },
      // The broker's own APIs (admin/) take tokens a client obtains for itself.
      clientCredentials: { enabled: true },
      claimsParameter: { enabled: true },
      // RFC 9101 (JAR): an authorization request as a signed request object (`request`), by
      // value or pushed (PAR); a client that registers `require_signed_request_object` must.
      requestObjects: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      // RFC 9701: a resource server that registers `introspection_signed_response_alg` and
      // asks with `Accept: application/token-introspection+jwt` gets the answer as a JWT the
      // broker signed (evidence it can keep, or pass on, that the broker vouched for the token).
      // On only when a client registers it: oidc-provider then negotiates the Accept header of
      // every introspection, about a tenth of its CPU (the bench, the broker against itself).
      jwtIntrospection: { enabled: setup.clients.some((client) => client.introspection_signed_response_alg !== undefined) },
      // OIDC Core 5.3.2: a client that registers `userinfo_signed_response_alg` gets userinfo
      // as a signed JWT (iss and aud, OIDC Registration 2), as mod_auth_openidc can ask.
      jwtUserinfo: { enabled: true },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: true },
      // OIDC Back-Channel Logout 1.0: clients that register a backchannel_logout_uri are
      // told when a session ends (a logout, an erasure, a revoked grant).
      backchannelLogout: { enabled: true },
      // RFC 8707 and RFC 9068: JWT access tokens for the company's APIs (api-resources.ts).
      resourceIndicators: resourceIndicatorsFeature(setup.apis),
      // RFC 9449: a client that sends a DPoP proof gets tokens bound to its key, at every
      // grant (token exchange's too) and at the broker's own resources (access-tokens.ts).
      // No nonces (8: optional): a proof is good for oidc-provider's window, and once.
      dPoP: { enabled: true },
      // RFC 8628 for TVs, kiosks and command lines (device-flow.ts).
      deviceFlow: deviceFlowFeature(setup.device.counters, setup.device.log),
      rpInitiatedLogout: { enabled: true, ...LOGOUT_PAGES },
    },
    pkce: {
      // Public clients must use PKCE (S256, the only method); confidential clients may.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    loadExistingGrant,
    renderError,
    clientBasedCORS: corsAllowed,
    // oidc-provider refuses outgoing requests to private and loopback addresses, a guard
    // against dynamically registered clients. Here every client is the operator's own
    // (CLIENTS_FILE; no dynamic registration), and their backchannel_logout_uri is often
    // on the company's private network: the operator's choice is trusted. Its 2.5 s
    // timeout stays. A logout token's delivery carries its attempt's trace (deliveries.ts).
    fetch: (url, options) => fetch(url, { ...options, headers: carryTrace(setup.notices, options?.headers), dispatcher: undefined } as RequestInit),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: policy([pastItsMaximum(setup.sessions), ...setup.accounts.loginChecks]) },
    ttl: { ...TTL, DeviceCode: setup.device.ttlS ?? DEVICE_CODE_S, Session: (_ctx, session) => sessionTtlS(setup.sessions, session) },
    // Refresh tokens rotate on every use: a replayed one is refused and revokes the grant.
    rotateRefreshToken: true,
  };
}

/** The name of oidc-provider's session cookie under `issuer`. */
export function sessionCookieName(issuer: string): string {
  return hostOnlyName('_session', issuer.startsWith('https:'));
}

export async function createProvider(setup: ProviderSetup): Promise<Provider> {
  const provider = new Provider(setup.issuer, configuration(setup));
  // X-Forwarded-Proto and -Host are trusted because the broker sets them itself from
  // ISSUER (http/public-origin.ts), whatever the request said.
  provider.proxy = true;
  // The client's address is the one the proxy in front added last, not one the client wrote.
  provider.maxIpsCount = 1;
  // The same signatures as keygrip's (cookies.keys above), checked without its costly compare.
  provider.keys = new CookieSigner(setup.cookieKeys) as unknown as Provider['keys'];
  setup.notices?.takeOver(provider);
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.params?.logout) forgetAppLogouts(ctx);
    else if (ctx.oidc.client) rememberAppLogout(ctx, ctx.oidc.client.clientId, setup.sessions.idleS);
  });
  provider.on('device_authorization.success', (_ctx: KoaContextWithOIDC, body: Record<string, unknown>) => sayInterval(body));
  enforceInterval(provider, setup.device.counters, setup.device.log);
  provider.on('interaction.ended', (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.result?.login) forgetAppLogouts(ctx);
  });
  // Before the clients are checked: a client may list the grant in its grant_types.
  if (setup.subjectTokens) {
    registerTokenExchange(provider, {
      subjects: setup.subjectTokens, scopes: new Set(['openid', 'offline_access', ...setup.accounts.scopes]), findAccount: setup.accounts.findAccount,
      sessionTtlS: setup.sessions.idleS, storage: setup.storage, firstParty: (client) => client[FIRST_PARTY] === true, issuer: setup.issuer, apis: setup.apis,
    });
  }
  await validateClients(provider, setup.clients);
  return provider;
}

/** Lets oidc-provider check every client now, so a bad CLIENTS_FILE stops the start. */
async function validateClients(provider: Provider, clients: readonly ClientMetadata[]): Promise<void> {
  for (const client of clients) {
    try {
      await (provider.Client as unknown as { validate(metadata: unknown): Promise<unknown> }).validate(client);
    } catch (error) {
      const detail = (error as { error_description?: string }).error_description ?? (error as Error).message;
      throw new ConfigError('CLIENTS_FILE', `client ${client.client_id}: ${detail}`);
    }
  }
}
