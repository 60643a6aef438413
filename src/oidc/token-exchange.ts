// OAuth 2.0 Token Exchange (RFC 8693) at the token endpoint, for subject tokens that
// another layer vouches for (which ones, and who they stand for, come in as an input:
// this layer knows nothing of where they come from). The answer is a standard token
// response: an access token (the only requested_token_type issued), an ID token when
// `openid` is granted, a refresh token when `offline_access` is and the client may refresh.
//
// A client gets only what the person agreed to, as in the browser flow: a first-party
// client what it asks for; any other client, beyond `openid`, only the scopes the person
// granted it before (on the consent page of a browser login for that client). The rest is
// left out, and the response's `scope` says what was issued (RFC 8693 2.2.1, RFC 6749 5.1);
// there is no page on this path to ask. `audience` and `resource` may only name what the
// broker issues for: the issuer itself (or the client), or one of the company's APIs the
// client lists (api-resources.ts: the access token is then a JWT for that API, with its
// scopes the person granted, RFC 8707 and 9068); anything else is `invalid_target` (RFC
// 8693 2.2.2).
//
// A DPoP proof (RFC 9449) binds the tokens as at oidc-provider's own grants, with its helpers
// for custom grants: the access token to the proof's key (5), a public client's refresh
// token too (5: MUST), a client registered with `dpop_bound_access_tokens` gets none without.

import { errors, type FindAccount, type KoaContextWithOIDC, type Provider, type TokenEndpointGrantContext } from 'oidc-provider';
import { applyRefreshTokenBindings, checkDpopReplay, checkDpopRequired, validateDpop, type DPoPValidationResult } from 'oidc-provider/lib/helpers/grants.js';
import type { AdapterPayload, ProtocolStorage } from '../storage/adapter.ts';
import { updateGrant } from './grants.ts';
import { apiServerInfo, type ApiResources } from './api-resources.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 3: the token type of an OAuth access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Who a subject token stands for, and how they authenticated. */
export interface ExchangedSubject {
  readonly accountId: string;
  readonly amr: readonly string[];
  readonly acr?: string;
}

/** The layer that understands subject tokens. */
export interface SubjectTokens {
  /** The subject_token_type values it accepts. */
  readonly types: readonly string[];
  /**
   * The subject of a token for `client` (its metadata). Throws an oidc-provider error for
   * the client: `invalid_request` for a token that is invalid or unacceptable (RFC 8693
   * 2.2.2 MUST), `unauthorized_client`, `temporarily_unavailable`, `server_error`.
   */
  resolve(token: string, type: string, client: Readonly<Record<string, unknown>>): Promise<ExchangedSubject>;
}

const PARAMETERS = ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'audience', 'resource', 'actor_token', 'actor_token_type'];

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

/** What this grant uses of oidc-provider's Session. */
interface HeadlessSession {
  readonly uid: string;
  loginAccount(details: { accountId: string; acr: string | undefined; amr: string[]; loginTs: number }): void;
  grantIdFor(clientId: string, grantId?: string): string | undefined;
  authorizationFor(clientId: string): Record<string, unknown>;
  save(ttlS: number): Promise<unknown>;
}

/** oidc-provider's Session takes its payload and Session#save the TTL (its types leave both out). */
const sessionModel = (provider: Provider) => provider.Session as unknown as new (payload: object) => HeadlessSession;

/** What the grant needs from the provider's configuration. */
export interface TokenExchangeSetup {
  readonly subjects: SubjectTokens;
  /** Every scope the provider supports. */
  readonly scopes: ReadonlySet<string>;
  readonly findAccount: FindAccount;
  /** How long the login's session record lives (the provider's Session TTL). */
  readonly sessionTtlS: number;
  /** Where the grants are (the person's earlier consents). */
  readonly storage: ProtocolStorage;
  /** Whether the client skips consent (first party). */
  readonly firstParty: (client: Client) => boolean;
  /** What `audience` may name besides the issuer and the client: nothing else is issued for. */
  readonly issuer: string;
  /** The company's APIs, which `resource` may name. */
  readonly apis: ApiResources;
}

/** The API an exchange asks a token for (`resource`), and its scopes. */
interface TargetApi {
  readonly indicator: string;
  readonly info: ReturnType<typeof apiServerInfo>;
  readonly scopes: ReadonlySet<string>;
}

/**
 * The scopes this client may have for the person without a consent page: all it asks for
 * when first-party; otherwise `openid` and what the person granted this client before (of
 * the API's, what they granted it of that API).
 */
async function consentedScopes(client: Client, accountId: string, asked: readonly string[], setup: TokenExchangeSetup & { api?: TargetApi | undefined }): Promise<string[]> {
  if (setup.firstParty(client)) return [...asked];
  const grants = (await setup.storage.adapter('Grant').findByAccount(accountId)).filter((grant) => grant.payload.clientId === client.clientId);
  const granted = new Set(grants.flatMap((grant) => [
    ...String((grant.payload.openid as { scope?: unknown } | undefined)?.scope ?? '').split(' '),
    ...(setup.api ? String((grant.payload.resources as Record<string, unknown> | undefined)?.[setup.api.indicator] ?? '').split(' ') : []),
  ]));
  return asked.filter((scope) => scope === 'openid' || granted.has(scope));
}

/** RFC 8693 2.1 and 2.2.2: `audience` and `resource` may only name what the broker issues for: itself, or one API the client lists. */
function targetOf(ctx: KoaContextWithOIDC, client: Client, setup: TokenExchangeSetup): TargetApi | undefined {
  const { audience, resource } = ctx.oidc.params as Record<string, unknown>;
  const values = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);
  const audiences = new Set([setup.issuer, client.clientId]);
  const wrongAudience = values(audience).find((value) => !audiences.has(value));
  if (wrongAudience !== undefined) throw new errors.InvalidTarget(`the broker issues tokens for itself only, not for audience ${wrongAudience.slice(0, 100)}`);
  const own = new Set([setup.issuer, `${setup.issuer}/`, `${setup.issuer}/me`]);
  const apis = values(resource).filter((value) => !own.has(value));
  if (apis.length > 1) throw new errors.InvalidTarget('a token is for one API at a time');
  if (apis[0] === undefined) return undefined;
  const info = apiServerInfo(setup.apis, apis[0], client.metadata());
  return { indicator: apis[0], info, scopes: new Set(info.scope.split(' ')) };
}

/** The scopes asked (or the client's registered ones, else `openid`), each one the provider knows and the client may have, or one of the API's. */
function grantedScopes(ctx: KoaContextWithOIDC, client: Client, supported: ReadonlySet<string>, api: TargetApi | undefined): string[] {
  const asked = String(ctx.oidc.params?.scope ?? client.scope ?? 'openid').split(' ').filter(Boolean);
  const allowed = client.scope ? new Set(client.scope.split(' ')) : undefined;
  const refused = asked.find((scope) => !api?.scopes.has(scope) && (!supported.has(scope) || (allowed && !allowed.has(scope))));
  if (refused) throw new errors.InvalidScope('requested scope is not allowed', refused);
  // Before the subject token is spent: a token for an API without any of its scopes is for nothing.
  if (api && !asked.some((scope) => api.scopes.has(scope))) throw new errors.InvalidScope(`ask for the scopes of ${api.indicator} you need`, [...api.scopes].join(' '));
  return [...new Set(asked)];
}

/** The request's parameters, as RFC 8693 2.1 defines them. */
function subjectOf(ctx: KoaContextWithOIDC, types: readonly string[]): { token: string; type: string } {
  const { subject_token: token, subject_token_type: type, requested_token_type: requested, actor_token: actor } = ctx.oidc.params as Record<string, unknown>;
  if (typeof token !== 'string' || token === '' || typeof type !== 'string' || type === '') {
    throw new errors.InvalidRequest('subject_token and subject_token_type are required');
  }
  if (!types.includes(type)) throw new errors.InvalidRequest(`unsupported subject_token_type (supported: ${types.join(', ')})`);
  if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  if (actor !== undefined) throw new errors.InvalidRequest('delegation (actor_token) is not supported');
  return { token, type };
}

/**
 * Marks, in a session's authorization for a client, that the session is the one token
 * exchanges keep for the person and that client (no browser holds it).
 */
const EXCHANGED = 'exchanged';

/** Whether the session `payload` is the one token exchanges keep for the person and `clientId`. */
export function exchangedFor(payload: AdapterPayload, clientId: string): boolean {
  const authorizations = payload.authorizations as Record<string, Record<string, unknown> | undefined> | undefined;
  return authorizations?.[clientId]?.[EXCHANGED] === true;
}

/**
 * The session (and its grant, while it stands) that this client's earlier exchanges for the
 * person recorded: the latest such session, if any is left. Two first launches at the same
 * moment (two phones, or two instances) can each have found none and recorded one: the
 * others go here, so the person's page lists one (their tokens stay valid: they outlive
 * their session, `expiresWithSession: false`).
 */
async function earlierExchange(ctx: KoaContextWithOIDC, client: Client, accountId: string, storage: ProtocolStorage) {
  const { provider } = ctx.oidc;
  const sessions = storage.adapter('Session');
  const [latest, ...others] = (await sessions.findByAccount(accountId))
    .filter((record) => exchangedFor(record.payload, client.clientId))
    .sort((a, b) => Number(b.payload.loginTs ?? 0) - Number(a.payload.loginTs ?? 0));
  if (!latest) return undefined;
  await Promise.all(others.map((record) => sessions.destroy(record.id)));
  // The record as read (stores keep no expired one), as Session.find would make it, without reading it again.
  const session = new (sessionModel(provider))(latest.payload);
  const grant = await provider.Grant.find(session.grantIdFor(client.clientId) ?? '');
  return { session, grant: grant?.accountId === accountId && grant.clientId === client.clientId ? grant : undefined };
}

/**
 * The login as oidc-provider records every login: a session (with no browser cookie: it
 * exists so that the tokens' claims know how the person logged in, like the web logins',
 * and so that the person sees it on their page) and the client's grant within it. A
 * client's exchanges for one person share one session and grant, as a browser's logins
 * share theirs, each exchange renewing them: a mini program exchanges `wx.login()`'s code
 * at every launch, and one record each per launch would pile up in storage and on the
 * person's page. Tokens issued by earlier exchanges stay valid.
 */
async function recordLogin(ctx: KoaContextWithOIDC, client: Client, subject: ExchangedSubject, granted: { scope: string; apis: Record<string, string[]> }, setup: TokenExchangeSetup) {
  const { provider } = ctx.oidc;
  const { accountId } = subject;
  const earlier = await earlierExchange(ctx, client, accountId, setup.storage);
  const grantId = await updateGrant(earlier?.grant ?? new provider.Grant({ accountId, clientId: client.clientId }), granted.scope, [], granted.apis);
  const authTime = Math.floor(Date.now() / 1000);
  const session = earlier?.session ?? new (sessionModel(provider))({});
  session.loginAccount({ accountId, acr: subject.acr, amr: [...subject.amr], loginTs: authTime });
  session.grantIdFor(client.clientId, grantId);
  session.authorizationFor(client.clientId)[EXCHANGED] = true;
  await session.save(setup.sessionTtlS);
  return { grantId, authTime, sessionUid: session.uid };
}

/** The request's DPoP proof, checked (RFC 9449 4.3) and recorded against replay; a client registered with `dpop_bound_access_tokens` must send one. */
async function proofOf(ctx: TokenEndpointGrantContext, client: Client): Promise<DPoPValidationResult | undefined> {
  const { provider } = ctx.oidc;
  const dPoP = await validateDpop(provider, ctx);
  checkDpopRequired(provider, ctx, dPoP);
  await checkDpopReplay(provider, ctx, dPoP, client.clientId);
  return dPoP;
}

/** What the access and refresh tokens of an exchange share. */
interface TokenBase { readonly accountId: string; readonly client: Client; readonly grantId: string; readonly sessionUid: string; readonly expiresWithSession: boolean }

/** oidc-provider's ResourceServer model (on every provider; its typings leave it out). */
type ResourceServerModel = new (indicator: string, info: TargetApi['info']) => object;

/** The access token: for the API named (a JWT, with the API's scopes alone), else for userinfo (the rest). */
function accessToken(provider: Provider, base: TokenBase, scopes: { oidc: string[]; api: string[] }, api: TargetApi | undefined) {
  const at = new provider.AccessToken({ ...base, scope: (api ? scopes.api : scopes.oidc).join(' '), gty: 'token_exchange' });
  if (api) at.resourceServer = new (provider as unknown as { ResourceServer: ResourceServerModel }).ResourceServer(api.indicator, api.info) as never;
  return at;
}

async function issue(ctx: TokenEndpointGrantContext, client: Client, login: { subject: ExchangedSubject; scopes: string[]; dPoP: DPoPValidationResult | undefined; api: TargetApi | undefined }, setup: TokenExchangeSetup) {
  const { provider } = ctx.oidc;
  const { subject, scopes, api } = login;
  const split = { api: scopes.filter((scope) => api?.scopes.has(scope)), oidc: scopes.filter((scope) => !api?.scopes.has(scope)) };
  if (api && split.api.length === 0) throw new errors.InvalidScope(`none of ${api.indicator}'s scopes asked for was granted to this client (a login in a browser asks the person)`, [...api.scopes].join(' '));
  const oidcScope = split.oidc.join(' ');
  const { grantId, authTime, sessionUid } = await recordLogin(ctx, client, subject, { scope: oidcScope, apis: api ? { [api.indicator]: split.api } : {} }, setup);
  const base: TokenBase = { accountId: subject.accountId, client, grantId, sessionUid, expiresWithSession: false };
  const at = accessToken(provider, base, split, api);
  if (login.dPoP) at.setThumbprint('jkt', login.dPoP.thumbprint);
  const common = { ...base, acr: subject.acr, amr: [...subject.amr], authTime, scope: scopes.join(' '), resource: api?.indicator };
  const rt = scopes.includes('offline_access') && client.grantTypeAllowed('refresh_token') ? new provider.RefreshToken({ ...common, gty: 'token_exchange', rotations: 0 }) : undefined;
  if (rt) await applyRefreshTokenBindings(provider, ctx, at, rt);
  return { at, accessToken: await at.save(), refresh: await rt?.save(), idToken: scopes.includes('openid') ? await idToken(ctx, subject, oidcScope, authTime, setup.findAccount) : undefined };
}

/** The ID token, as oidc-provider issues one (claims of `openid` only: the rest come from userinfo). */
async function idToken(ctx: KoaContextWithOIDC, subject: ExchangedSubject, scope: string, authTime: number, findAccount: FindAccount): Promise<string> {
  const account = await findAccount(ctx, subject.accountId);
  if (!account) throw new errors.InvalidGrant('the account is gone');
  const token = new ctx.oidc.provider.IdToken(await account.claims('id_token', scope, {}, []), { ctx });
  // conformIdTokenClaims (oidc-provider's default): scope claims are for userinfo, not the ID token.
  (token as unknown as { scope: string }).scope = 'openid';
  // How this authentication happened (OIDC Core 2): always present, as in the broker's other ID tokens.
  token.set('auth_time', authTime);
  token.set('amr', [...subject.amr]);
  if (subject.acr) token.set('acr', subject.acr);
  return token.issue({ use: 'idtoken' }) as Promise<string>;
}

/** Registers the grant (it then appears in discovery's grant_types_supported). */
export function registerTokenExchange(provider: Provider, setup: TokenExchangeSetup): void {
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx: TokenEndpointGrantContext) => {
    const client = ctx.oidc.client!;
    const { token, type } = subjectOf(ctx, setup.subjects.types);
    const api = targetOf(ctx, client, setup);
    const asked = grantedScopes(ctx, client, setup.scopes, api);
    // Before the subject token is spent: a bad proof costs the client no wx.login() code.
    const dPoP = await proofOf(ctx, client);
    const subject = await setup.subjects.resolve(token, type, client.metadata());
    const scopes = await consentedScopes(client, subject.accountId, asked, { ...setup, api });
    const { at, accessToken: value, refresh, idToken: id } = await issue(ctx, client, { subject, scopes, dPoP, api }, setup);
    ctx.body = {
      access_token: value,
      // RFC 8693 2.2.1: required.
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType,
      expires_in: at.expiration,
      // What the client may do with the token issued (RFC 8693 2.2.1, RFC 6749 5.1): an API's scopes alone for an API's.
      scope: api ? at.scope : scopes.join(' '),
      ...(id ? { id_token: id } : {}),
      ...(refresh ? { refresh_token: refresh } : {}),
    };
  }, PARAMETERS);
}
