// RFC 6750 for the broker's own resources (the admin API, a person's phone number): the
// access token from the Authorization header (2.1, the only way the broker takes one), and
// each refusal with its status and WWW-Authenticate header (3): a request without a token
// gets no error code (3.1: SHOULD NOT), an unknown, expired or revoked token
// `invalid_token` (401), a token without the scope the resource needs
// `insufficient_scope` (403).

import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]{16,512}=*)$/;

export type BearerRefusal = {
  readonly status: 401 | 403;
  /** Absent when the request carried no token at all. */
  readonly error?: 'invalid_token' | 'insufficient_scope';
  readonly scope?: string;
};

/** The token of the request's Authorization header, when it is a well-formed Bearer one. */
export function bearerToken(ctx: Context): string | undefined {
  return BEARER.exec(ctx.get('authorization'))?.[1];
}

/** The refusal for a request that carried a token or a header but no usable one. */
export function missingOrInvalid(ctx: Context): BearerRefusal {
  return ctx.get('authorization') === '' ? { status: 401 } : { status: 401, error: 'invalid_token' };
}

/** Answers a refusal as RFC 6750 3 says, in `realm`. */
export function refuseBearer(ctx: Context, realm: string, refusal: BearerRefusal): void {
  ctx.status = refusal.status;
  const params = [`realm="${realm}"`, ...(refusal.error ? [`error="${refusal.error}"`] : []), ...(refusal.scope ? [`scope="${refusal.scope}"`] : [])];
  ctx.set('www-authenticate', `Bearer ${params.join(', ')}`);
  ctx.body = refusal.error ? { error: refusal.error } : {};
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
 * a client's own), whose client and grant still exist (a revoked grant ends its tokens), and
 * which carries `scope`.
 */
export async function personToken(ctx: Context, provider: Provider, scope: string): Promise<PersonToken | BearerRefusal> {
  const value = bearerToken(ctx);
  const token = value ? await provider.AccessToken.find(value) : undefined;
  if (!token?.accountId || !token.clientId || token.isExpired) return missingOrInvalid(ctx);
  const [client, grant] = await Promise.all([provider.Client.find(token.clientId), token.grantId ? provider.Grant.find(token.grantId) : undefined]);
  if (!client || !grant || grant.clientId !== token.clientId || grant.accountId !== token.accountId) return { status: 401, error: 'invalid_token' };
  const scopes = new Set(String(token.scope ?? '').split(' ').filter(Boolean));
  if (!scopes.has(scope)) return { status: 403, error: 'insufficient_scope', scope };
  return { accountId: token.accountId, clientId: client.clientId, client: client.metadata(), scopes };
}
