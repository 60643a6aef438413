// Who may call the admin API: a client holding an access token it obtained for itself with
// the client_credentials grant (no other kind of admin secret exists), with the scope the
// action needs both in the token and in the client's registered `scope` (so a client
// registered without `scope` gets nothing here, whatever it asked for). A token of a
// person's login is refused; one bound to the client's key (DPoP) needs its proof. Errors
// follow RFC 6750 3 and RFC 9449 7.1 (oidc/access-tokens.ts): 401 (invalid_token,
// invalid_dpop_proof, or no error code without a token), 403 insufficient_scope, each with
// its WWW-Authenticate header.

import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { checkSender, missingOrInvalid, presentedToken, refuseToken, type TokenRefusal } from '../oidc/access-tokens.ts';

export const ACCOUNTS_READ = 'accounts:read';
export const ACCOUNTS_WRITE = 'accounts:write';
export const DIAGNOSTICS_READ = 'diagnostics:read';
export const ADMIN_SCOPES = [ACCOUNTS_READ, ACCOUNTS_WRITE, DIAGNOSTICS_READ] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** The calling client, or the RFC 6750 refusal (with the client when the token named one, for the audit). */
export type Caller = { readonly client: string } | (TokenRefusal & { readonly refusedClient?: string });

export async function caller(ctx: Context, provider: Provider, needed: AdminScope): Promise<Caller> {
  const presented = presentedToken(ctx);
  const token = presented ? await provider.ClientCredentials.find(presented.value) : undefined;
  if (!presented || !token?.clientId || token.isExpired) return missingOrInvalid(ctx);
  const client = await provider.Client.find(token.clientId);
  if (!client) return { status: 401, error: 'invalid_token', dpop: presented.dpop };
  const sender = await checkSender(ctx, provider, presented, token);
  if (sender) return { ...sender, refusedClient: client.clientId };
  const granted = new Set(String(token.scope ?? '').split(' '));
  const registered = new Set(String(client.scope ?? '').split(' '));
  if (!granted.has(needed) || !registered.has(needed)) return { status: 403, error: 'insufficient_scope', scope: needed, refusedClient: client.clientId, dpop: presented.dpop };
  return { client: client.clientId };
}

/** Answers a refusal as RFC 6750 3 and RFC 9449 7.1 say. */
export function refuse(ctx: Context, refusal: TokenRefusal): void {
  refuseToken(ctx, 'admin', refusal);
}
