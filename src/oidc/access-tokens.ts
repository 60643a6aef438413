// Access tokens at the broker's own resources (the admin API, a person's phone number):
// the token of the Authorization header (RFC 6750 2.1, the only way the broker takes one),
// as a Bearer token, or under the DPoP scheme with a proof of the key it is bound to
// (RFC 9449 7.1), as oidc-provider takes them at userinfo. Each refusal has its status and
// WWW-Authenticate challenge: a request without a token gets no error code (RFC 6750 3.1:
// SHOULD NOT) and both schemes' challenges (RFC 9449 7.2); an unknown, expired or revoked
// token, or one under the wrong scheme, `invalid_token` (401); a token without the scope
// the resource needs `insufficient_scope` (403); a proof that does not hold
// `invalid_dpop_proof` (401, RFC 9449 7.1).

import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { DPOP_ALGS, DpopProofError, PROOF_WINDOW_S, verifyProof } from './dpop.ts';

const AUTHORIZATION = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]{16,512}=*)$/i;

export type TokenRefusal = {
  readonly status: 400 | 401 | 403;
  /** Absent when the request carried no token at all. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof';
  readonly description?: string;
  readonly scope?: string;
  /** The challenge's scheme is DPoP: the token is bound to a key, or came under that scheme (RFC 9449 7.1). */
  readonly dpop?: boolean;
};

/** The access token of the request's Authorization header, and whether it came under the DPoP scheme. */
export interface PresentedToken {
  readonly value: string;
  readonly dpop: boolean;
}

/** The request's token, when its Authorization header is a well-formed Bearer or DPoP one (schemes are case-insensitive, RFC 9110 11.1). */
export function presentedToken(ctx: Context): PresentedToken | undefined {
  const [, scheme, value] = AUTHORIZATION.exec(ctx.get('authorization')) ?? [];
  return scheme && value ? { value, dpop: scheme.toLowerCase() === 'dpop' } : undefined;
}

/** The refusal for a request that carried a token or a header but no usable one. */
export function missingOrInvalid(ctx: Context): TokenRefusal {
  if (ctx.get('authorization') === '') return { status: 401 };
  return { status: 401, error: 'invalid_token', dpop: presentedToken(ctx)?.dpop };
}

/** What the sender check reads of a token (oidc-provider's AccessToken or ClientCredentials). */
interface BoundToken {
  readonly clientId?: string;
  /** The thumbprint of the key the token is bound to (RFC 9449 6). */
  readonly jkt?: string;
}

const proofRefusal = (description: string): TokenRefusal => ({ status: 401, error: 'invalid_dpop_proof', description, dpop: true });

/** RFC 9449 7.1: the request's proof, for this request and this token, by the key the token is bound to, and used once. */
async function proven(ctx: Context, provider: Provider, presented: PresentedToken, token: BoundToken): Promise<TokenRefusal | undefined> {
  try {
    const { thumbprint, jti } = await verifyProof(ctx.get('dpop'), { method: ctx.method, url: `${provider.issuer}${ctx.path}`, accessToken: presented.value });
    if (thumbprint !== token.jkt) return { status: 401, error: 'invalid_token', description: 'the token is bound to another key', dpop: true };
    // The replay record oidc-provider keeps for its own endpoints, for the proof's window.
    const fresh = await provider.ReplayDetection.unique(token.clientId ?? '', jti, Math.floor(Date.now() / 1000) + PROOF_WINDOW_S);
    return fresh ? undefined : proofRefusal('the proof was used before (jti)');
  } catch (error) {
    if (error instanceof DpopProofError) return proofRefusal(error.message);
    throw error;
  }
}

/**
 * RFC 9449 7.1 and 7.2: a token bound to a key only under the DPoP scheme with a proof,
 * never as a Bearer token (7.2: MUST reject); the DPoP scheme, or a proof, only for a bound token.
 */
export async function checkSender(ctx: Context, provider: Provider, presented: PresentedToken, token: BoundToken): Promise<TokenRefusal | undefined> {
  if (token.jkt && !presented.dpop) return { status: 401, error: 'invalid_token', description: 'the token is bound to a key: send it under the DPoP scheme, with a proof', dpop: true };
  if (!token.jkt && presented.dpop) return { status: 401, error: 'invalid_token', description: 'the token is not bound to a key: send it as a Bearer token', dpop: true };
  if (!token.jkt && ctx.get('dpop') !== '') return { status: 400, error: 'invalid_request', description: 'a DPoP proof comes with the DPoP scheme' };
  return token.jkt ? proven(ctx, provider, presented, token) : undefined;
}

/** The challenge of one scheme (DPoP's with the algorithms it takes). */
function challenge(scheme: 'Bearer' | 'DPoP', realm: string, refusal: TokenRefusal): string {
  const params = [`realm="${realm}"`, ...(refusal.error ? [`error="${refusal.error}"`] : []), ...(refusal.scope ? [`scope="${refusal.scope}"`] : [])];
  return `${scheme} ${[...params, ...(scheme === 'DPoP' ? [`algs="${DPOP_ALGS.join(' ')}"`] : [])].join(', ')}`;
}

/** Answers a refusal as RFC 6750 3 and RFC 9449 7.1 say, in `realm`. */
export function refuseToken(ctx: Context, realm: string, refusal: TokenRefusal): void {
  ctx.status = refusal.status;
  const schemes = refusal.error === undefined ? (['Bearer', 'DPoP'] as const) : [refusal.dpop ? 'DPoP' as const : 'Bearer' as const];
  ctx.set('www-authenticate', schemes.map((scheme) => challenge(scheme, realm, refusal)));
  ctx.body = refusal.error ? { error: refusal.error, ...(refusal.description ? { error_description: refusal.description } : {}) } : {};
}

/** The person and client an access token of a login stands for, with the scopes it carries. */
export interface PersonToken {
  readonly accountId: string;
  readonly clientId: string;
  readonly client: Readonly<Record<string, unknown>>;
  readonly scopes: ReadonlySet<string>;
}

/**
 * The person behind the request's access token, which must be a live token of a login (not
 * a client's own), whose client and grant still exist (a revoked grant ends its tokens),
 * sent as its binding asks, and which carries `scope`.
 */
export async function personToken(ctx: Context, provider: Provider, scope: string): Promise<PersonToken | TokenRefusal> {
  const presented = presentedToken(ctx);
  const token = presented ? await provider.AccessToken.find(presented.value) : undefined;
  if (!presented || !token?.accountId || !token.clientId || token.isExpired) return missingOrInvalid(ctx);
  const [client, grant] = await Promise.all([provider.Client.find(token.clientId), token.grantId ? provider.Grant.find(token.grantId) : undefined]);
  if (!client || !grant || grant.clientId !== token.clientId || grant.accountId !== token.accountId) return { status: 401, error: 'invalid_token', dpop: presented.dpop };
  const sender = await checkSender(ctx, provider, presented, token);
  if (sender) return sender;
  const scopes = new Set(String(token.scope ?? '').split(' ').filter(Boolean));
  if (!scopes.has(scope)) return { status: 403, error: 'insufficient_scope', scope, dpop: presented.dpop };
  return { accountId: token.accountId, clientId: client.clientId, client: client.metadata(), scopes };
}
