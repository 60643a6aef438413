// A person's grant to one app, and how long it and the tokens under it live. oidc-provider
// refuses every token whose grant is gone ("grant not found": invalid_grant, invalid_token),
// whatever the token's own `exp` says, and it saves a grant for what is left of its lifetime
// (BaseModel's remainingTTL): left alone, a grant dies 30 days after its first save, and
// the refresh tokens of later logins with it, days before their 14. So:
// - a login renews the grant when less than a refresh token's lifetime is left of it: what a
//   login issues always lives its full term. A grant kept up to date is written only when it
//   changes (new, a scope or claim gained, renewed), not on every login, which reads it up to
//   three times (its authorization request, the consent, the return to /auth);
// - no token is issued for longer than its grant has left (a rotated refresh token, the
//   access token beside it), so every `exp` and `expires_in` a client sees is true: refresh
//   tokens keep working until 14 days unused, or until the grant ends, 14 to 30 days after
//   the person's last login to that app, whichever comes first.

import type { Grant, KoaContextWithOIDC } from 'oidc-provider';

const DAY_S = 24 * 60 * 60;

/** A refresh token lives two weeks (a rotation issues a new one), never past its grant. */
export const REFRESH_TOKEN_S = 14 * DAY_S;

/** A grant lives 30 days from its first save or its latest renewal. */
export const GRANT_S = 30 * DAY_S;

/** Renews a saved grant that has less left than a refresh token's lifetime: whether it did. */
function renewIfDue(grant: Grant): boolean {
  if (!grant.jti || grant.remainingTTL >= REFRESH_TOKEN_S) return false;
  grant.exp = Math.floor(Date.now() / 1000) + GRANT_S;
  return true;
}

/**
 * Adds `scopes` (space-separated), `claims` and the APIs' scopes (by resource indicator,
 * api-resources.ts) to `grant` and renews it when due; writes it if it is new or any of that
 * changed it, and gives its id.
 */
export async function updateGrant(grant: Grant, scopes = '', claims: readonly string[] = [], apiScopes: Readonly<Record<string, readonly string[]>> = {}): Promise<string> {
  const what = () => JSON.stringify([grant.openid, grant.resources]);
  const before = grant.jti ? what() : undefined;
  if (scopes) grant.addOIDCScope(scopes);
  if (claims.length) grant.addOIDCClaims([...claims]);
  for (const [indicator, granted] of Object.entries(apiScopes)) grant.addResourceScope(indicator, granted.join(' '));
  const renewed = renewIfDue(grant);
  return before === undefined || renewed || what() !== before ? grant.save() : grant.jti;
}

/** oidc-provider's `ttl` for a token under a grant: `lifetime`, or what is left of the grant the request loaded, if less. */
export function withinGrant(lifetime: number): (ctx: KoaContextWithOIDC | undefined) => number {
  return (ctx) => {
    const left = ctx?.oidc?.entities.Grant?.remainingTTL;
    return left === undefined || left >= lifetime ? lifetime : Math.max(1, left);
  };
}
