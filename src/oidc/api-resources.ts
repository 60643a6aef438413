// The company's own APIs, which take access tokens the broker issues for them: RFC 8707
// resource indicators and RFC 9068 JWT access tokens. An API is a client of CLIENTS_FILE
// marked `resource_server: true` (it may already introspect tokens) that names itself with
// `resource` (its resource indicator: an absolute URI without a fragment, RFC 8707 2) and
// its scopes with `resource_scopes` (what each lets an app do, as the consent page says it).
// A client may get tokens for the APIs it lists in `resources`, no other. An app asks for a
// token for the API with `resource` (at /auth, or at the token endpoint, RFC 8707 2.1, 2.2);
// the token is a JWT (`typ` at+jwt) signed by the broker's keys, with `aud` the API and only
// that API's scopes, which the API checks with the JWKS and no call to the broker (RFC 9068
// 4). Without `resource`, nothing changes: an opaque token for userinfo.

import { errors, type Configuration, type Provider } from 'oidc-provider';
import type { ClientMetadata } from '../config/clients-file.ts';
import { ConfigError } from '../config/errors.ts';
import { DEFAULT_ALG } from '../config/keys.ts';
import { toTraditional } from '../pages/traditional.ts';
import { clientDisplay, DISPLAY_LANGUAGES } from './client-display.ts';

/** Private client metadata: the API's resource indicator. */
export const RESOURCE = 'resource';
/** Private client metadata: the API's scopes, each with what it lets an app do (a text, or one per language). */
export const RESOURCE_SCOPES = 'resource_scopes';
/** Private client metadata: the APIs (resource indicators) a client may get tokens for. */
export const CLIENT_RESOURCES = 'resources';

/**
 * An API's token lives ten minutes: the API checks it alone, so nothing can revoke it (a
 * logout, an erasure, a revoked grant end it only at its `exp`); a refresh token gets the
 * next one. (Keycloak's default is five.)
 */
const API_TOKEN_S = 10 * 60;

/** RFC 6749 3.3's scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/** What a scope lets an app do: one text, or one per language (`zh-CN`, `zh-TW`, `en`). */
type ScopeText = string | Readonly<Record<string, string>>;

export interface ApiResource {
  /** The resource indicator (RFC 8707 2), the tokens' `aud`. */
  readonly indicator: string;
  /** The API's client, whose name the consent page shows. */
  readonly clientId: string;
  readonly scopes: ReadonlyMap<string, ScopeText>;
}

/** The configured APIs, by resource indicator. */
export type ApiResources = ReadonlyMap<string, ApiResource>;

function isIndicator(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return !value.includes('#') && (protocol === 'https:' || protocol === 'http:');
}

function isScopeText(value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== '';
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
    && Object.entries(value).every(([lang, text]) => (DISPLAY_LANGUAGES as readonly string[]).includes(lang) && typeof text === 'string' && text.trim() !== '');
}

/** What is wrong with one of the two metadata values, or undefined (oidc-provider's client validation). */
export function apiMetadataProblem(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (key === RESOURCE && !isIndicator(value)) return `${RESOURCE} must be an absolute http(s) URI without a fragment (RFC 8707 2)`;
  if (key === CLIENT_RESOURCES && !(Array.isArray(value) && value.every(isIndicator))) return `${CLIENT_RESOURCES} must list APIs' resource indicators`;
  if (key !== RESOURCE_SCOPES) return undefined;
  const entries = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
  if (entries.length === 0) return `${RESOURCE_SCOPES} must be an object of scopes, each with what it lets an app do`;
  const bad = entries.find(([scope, text]) => !SCOPE_TOKEN.test(scope) || !isScopeText(text));
  return bad ? `${RESOURCE_SCOPES}: "${bad[0]}" must be a scope (RFC 6749 3.3) with a text, or texts by language (${DISPLAY_LANGUAGES.join(', ')})` : undefined;
}

function apiOf(client: ClientMetadata, reserved: ReadonlySet<string>): ApiResource | undefined {
  const { client_id: id, [RESOURCE]: indicator, [RESOURCE_SCOPES]: scopes, resource_server: resourceServer } = client;
  if (indicator === undefined && scopes === undefined) return undefined;
  if (resourceServer !== true || typeof indicator !== 'string' || typeof scopes !== 'object' || scopes === null) {
    throw new ConfigError('CLIENTS_FILE', `client ${id}: an API needs resource_server: true, ${RESOURCE} and ${RESOURCE_SCOPES} together`);
  }
  const taken = Object.keys(scopes).find((scope) => reserved.has(scope));
  if (taken) throw new ConfigError('CLIENTS_FILE', `client ${id}: the scope ${taken} is the broker's own; give the API's scopes names of their own`);
  return { indicator, clientId: id, scopes: new Map(Object.entries(scopes as Record<string, ScopeText>)) };
}

/** The APIs among `clients`; each indicator once, and no scope of the broker's own (`reserved`) or of another API. */
export function apiResources(clients: readonly ClientMetadata[], reserved: ReadonlySet<string>): ApiResources {
  const apis = new Map<string, ApiResource>();
  const scopes = new Set(reserved);
  for (const api of clients.flatMap((client) => apiOf(client, reserved) ?? [])) {
    if (apis.has(api.indicator)) throw new ConfigError('CLIENTS_FILE', `client ${api.clientId}: ${api.indicator} is already another API's ${RESOURCE}`);
    const shared = [...api.scopes.keys()].find((scope) => scopes.has(scope));
    if (shared) throw new ConfigError('CLIENTS_FILE', `client ${api.clientId}: the scope ${shared} is already another API's`);
    for (const scope of api.scopes.keys()) scopes.add(scope);
    apis.set(api.indicator, api);
  }
  for (const client of clients) {
    const listed = client[CLIENT_RESOURCES];
    const unknown = Array.isArray(listed) ? listed.find((indicator) => !apis.has(indicator)) : undefined;
    if (unknown !== undefined) throw new ConfigError('CLIENTS_FILE', `client ${client.client_id}: ${String(unknown)} in ${CLIENT_RESOURCES} is no API's ${RESOURCE}`);
  }
  return apis;
}

/** What `scope` lets an app do, in `lang`: its text in that language, else (zh-TW) the zh-CN one converted, else the first given. */
export function scopeText(api: ApiResource, scope: string, lang: string): string {
  const text = api.scopes.get(scope);
  if (text === undefined || typeof text === 'string') return text ?? scope;
  if (text[lang]) return text[lang];
  if (lang === 'zh-TW' && text['zh-CN']) return toTraditional(text['zh-CN']);
  return Object.values(text)[0] ?? scope;
}

/** An API as a page shows it: its name and what each scope lets the app do. */
export interface ApiDescribed {
  readonly name: string;
  readonly scopes: readonly string[];
}

/** `scopesByApi` (scopes by resource indicator) in `lang`, for the consent page and the person's own: unknown APIs and empty lists left out. */
export function describeApis(provider: Provider, apis: ApiResources, scopesByApi: Iterable<readonly [string, Iterable<string>]>, lang: string): Promise<ApiDescribed[]> {
  return Promise.all([...scopesByApi].flatMap(([indicator, scopes]) => {
    const api = apis.get(indicator);
    const texts = api ? [...scopes].map((scope) => scopeText(api, scope, lang)) : [];
    return api && texts.length ? [provider.Client.find(api.clientId).then((client) => ({ name: client ? clientDisplay(client, lang).name : api.clientId, scopes: texts }))] : [];
  }));
}

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;
type ResourceServerInfo = Awaited<ReturnType<NonNullable<ResourceIndicators['getResourceServerInfo']>>>;

/** What oidc-provider needs of API `indicator` for a token `client` may have; invalid_target for an unknown API or one the client does not list. */
export function apiServerInfo(apis: ApiResources, indicator: string, client: object): ResourceServerInfo {
  const api = apis.get(indicator);
  if (!api) throw new errors.InvalidTarget(`${indicator.slice(0, 200)} is not an API of this broker`);
  const listed = (client as Record<string, unknown>)[CLIENT_RESOURCES];
  if (!Array.isArray(listed) || !listed.includes(indicator)) throw new errors.InvalidTarget(`the client may not get tokens for ${indicator}`);
  return { scope: [...api.scopes.keys()].join(' '), audience: indicator, accessTokenFormat: 'jwt', accessTokenTTL: API_TOKEN_S, jwt: { sign: { alg: DEFAULT_ALG } } };
}

/**
 * oidc-provider's resource indicators over the configured APIs: an unknown `resource`, or
 * one the client does not list, is `invalid_target` (RFC 8707 2); a code or refresh token
 * granted for one API gives that API's token when the token request names none (2.2 lets
 * the server choose); the token is a JWT for the API alone (RFC 9068), signed as ID tokens
 * are by default.
 */
export function resourceIndicatorsFeature(apis: ApiResources): ResourceIndicators {
  return {
    enabled: true,
    useGrantedResource: async () => true,
    getResourceServerInfo: async (_ctx, indicator, client) => apiServerInfo(apis, indicator, client),
  };
}
