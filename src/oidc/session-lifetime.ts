// How long a person's login session at the broker lives (SESSION_IDLE_HOURS,
// SESSION_MAX_HOURS): as a security team sets it in Keycloak ("SSO Session Idle" and
// "SSO Session Max"). oidc-provider saves a session, with a new expiry, whenever an app
// logs the person in through it (its authorization endpoint), so that save renews the idle
// time; the maximum counts from the login itself (`loginTs`, which a new login restarts)
// and no renewal goes past it. Tokens issued without `offline_access` end with the session
// (oidc-provider's `expiresWithSession`); a refresh token for `offline_access` lives by its
// grant (grants.ts). A session that reached its maximum asks for a login even if its record
// is still there (one saved before the maximum was set or lowered): `pastItsMaximum`.

import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { LoginCheck } from './login-check.ts';

/** A login session's limits, in seconds (maxS undefined: no maximum). */
export interface SessionLifetimes {
  readonly idleS: number;
  readonly maxS: number | undefined;
}

/** A session nobody logged in to (an anonymous logout's confirmation) lives this long. */
const ANONYMOUS_SESSION_S = 10 * 60;

/** What oidc-provider knows of the session it is saving. */
interface SavedSession {
  readonly accountId?: string | undefined;
  readonly loginTs?: number | undefined;
}

/** The time to live of the session being saved: the idle time, or what is left of its maximum if less. */
export function sessionTtlS(lifetimes: SessionLifetimes, session: SavedSession, nowS = Math.floor(Date.now() / 1000)): number {
  if (!session.accountId) return ANONYMOUS_SESSION_S;
  const left = lifetimes.maxS === undefined || session.loginTs === undefined ? Infinity : session.loginTs + lifetimes.maxS - nowS;
  // A session is never found past its expiry, so `left` is positive; at least a second, as oidc-provider requires.
  return Math.max(1, Math.min(lifetimes.idleS, left));
}

/**
 * Sessions stored never past their maximum. oidc-provider sets a saved session's `exp` from
 * its own clock, read after the TTL above (an awaited storage call can come between), so a
 * save that straddles a second went one second past `loginTs + maxS`: the stored expiry is
 * held to it here, where it is written.
 */
export function heldToMaximum(adapter: Adapter, lifetimes: SessionLifetimes): Adapter {
  const { maxS } = lifetimes;
  if (maxS === undefined) return adapter;
  const upsert = (id: string, payload: AdapterPayload, expiresIn: number) => {
    const { loginTs, exp } = payload as { loginTs?: unknown; exp?: unknown };
    const end = typeof loginTs === 'number' ? loginTs + maxS : Infinity;
    if (typeof exp !== 'number' || exp <= end) return adapter.upsert(id, payload, expiresIn);
    return adapter.upsert(id, { ...payload, exp: end }, Math.max(1, expiresIn - (exp - end)));
  };
  return {
    upsert, find: (id) => adapter.find(id), findByUid: (uid) => adapter.findByUid(uid), findByUserCode: (userCode) => adapter.findByUserCode(userCode),
    consume: (id) => adapter.consume(id), destroy: (id) => adapter.destroy(id), revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
  };
}

/** A login prompt for a session older than its maximum, as for `max_age` (OIDC Core 3.1.2.1): the person authenticates again. */
export function pastItsMaximum(lifetimes: SessionLifetimes): LoginCheck {
  return {
    reason: 'session_past_maximum',
    description: 'the login session reached SESSION_MAX_HOURS',
    error: 'login_required',
    needed: (ctx) => {
      const { session, result } = ctx.oidc;
      if (lifetimes.maxS === undefined || !session?.accountId || result?.login || session.loginTs === undefined) return false;
      return session.loginTs + lifetimes.maxS <= Math.floor(Date.now() / 1000);
    },
  };
}
