// Who is logged in at this browser: oidc-provider's own session (its signed session
// cookie), read outside its routes for the broker's pages about the person.

import type { Context } from 'koa';
import type Provider from 'oidc-provider';

export interface SignedIn {
  readonly accountId: string;
  /** The session's stable uid (not its id, which is the cookie's secret value). */
  readonly uid: string;
  /** When the person logged in to this session (ms). */
  readonly loginAt: number | undefined;
}

/** The person logged in here, or undefined (no session cookie, an expired session, one nobody logged in to). */
export async function signedIn(provider: Provider, ctx: Context): Promise<SignedIn | undefined> {
  const session = await provider.Session.get(ctx as never) as { accountId?: string; uid: string; loginTs?: number };
  return session.accountId ? { accountId: session.accountId, uid: session.uid, loginAt: session.loginTs === undefined ? undefined : session.loginTs * 1000 } : undefined;
}
