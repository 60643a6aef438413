// "Log out of this app only" (RP-Initiated Logout 1.0 without `logout=yes`): oidc-provider
// ends the app's part of the session and keeps the login for the other apps. Left at that,
// the app's next login request finds the session and signs the same person straight back
// in without a scan, which on a shared PC hands the next person the last one's account.
// So the browser remembers which apps it logged out of alone (a signed cookie), and such an
// app's next authorization request needs a login, as `prompt=login` would (OIDC Core
// 3.1.2.1), until the person logs in again here (any login forgets the list).

import type { KoaContextWithOIDC } from 'oidc-provider';
import type { LoginCheck } from './login-check.ts';

const COOKIE = 'app_logouts';

/** Apps remembered at most (the newest); a browser rarely logs out of more, and the cookie stays small. */
const REMEMBERED = 20;

/** When this browser logged out of each app alone: client_id → epoch seconds. */
type AppLogouts = Record<string, number>;

const OPTIONS = { signed: true, httpOnly: true, sameSite: 'lax', path: '/' } as const;

function read(ctx: KoaContextWithOIDC): AppLogouts {
  try {
    const parsed: unknown = JSON.parse(ctx.cookies.get(COOKIE, { signed: true }) ?? '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => Number.isSafeInteger(entry[1])));
  } catch {
    return {};
  }
}

/**
 * Records a logout of `clientId` alone, for as long as a login session lives (after that
 * every app needs a login anyway).
 */
export function rememberAppLogout(ctx: KoaContextWithOIDC, clientId: string, sessionS: number): void {
  const now = Math.floor(Date.now() / 1000);
  const kept = Object.entries({ ...read(ctx), [clientId]: now })
    .filter(([, at]) => at > now - sessionS)
    .sort(([, a], [, b]) => b - a)
    .slice(0, REMEMBERED);
  ctx.cookies.set(COOKIE, JSON.stringify(Object.fromEntries(kept)), { ...OPTIONS, maxAge: sessionS * 1000 });
}

/** After a login (or a logout of every app) nothing is left to remember. */
export function forgetAppLogouts(ctx: KoaContextWithOIDC): void {
  if (ctx.cookies.get(COOKIE)) ctx.cookies.set(COOKIE, null, OPTIONS);
}

/** The login prompt's check: this browser logged out of this app alone, and nobody has logged in since. */
export const loggedOutOfApp: LoginCheck = {
  reason: 'logged_out_of_app',
  description: 'the person logged out of this app alone in this browser and has not logged in since',
  // As for prompt=login: the person must authenticate again (OIDC Core 3.1.2.6).
  error: 'login_required',
  needed: (ctx) => {
    const { session, client, result } = ctx.oidc;
    return Boolean(session?.accountId && client && !result?.login && read(ctx)[client.clientId] !== undefined);
  },
};
