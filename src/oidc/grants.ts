// A grant is written only when it is new or gains a scope or a claim. A login reads and
// widens the same grant up to three times (its authorization request, the consent, the
// return to /auth); writing one that gained nothing stores the same record again, for no
// longer: oidc-provider saves a grant for what is left of its lifetime (BaseModel's
// remainingTTL), so a write never extends it.

import type { Grant } from 'oidc-provider';

/** Adds `scopes` (space-separated) and `claims` to `grant`, writes it if it is new or gained any, and gives its id. */
export async function widenGrant(grant: Grant, scopes: string, claims: readonly string[]): Promise<string> {
  const before = grant.jti ? JSON.stringify(grant.openid) : undefined;
  if (scopes) grant.addOIDCScope(scopes);
  if (claims.length) grant.addOIDCClaims([...claims]);
  return before === undefined || JSON.stringify(grant.openid) !== before ? grant.save() : grant.jti;
}
