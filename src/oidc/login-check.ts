// A reason for oidc-provider's login prompt, as data (its interaction policy's checks):
// the broker's own (oidc/app-logout.ts, and the session's account gone, below) and the login
// layer's (login/same-wechat-account.ts).

import type { KoaContextWithOIDC } from 'oidc-provider';

/** A reason to ask for a login although a session exists. */
export interface LoginCheck {
  readonly reason: string;
  readonly description: string;
  /** The error a `prompt=none` request gets when the check asks for a login (interaction_required unless set). */
  readonly error?: string;
  /** True when this request must go through a login interaction. */
  readonly needed: (ctx: KoaContextWithOIDC) => boolean;
}

/**
 * The session names an account that findAccount no longer finds (erased, or suspended, in
 * the moment before its sessions ended): a login again, which finds out what that person is
 * now (a refusal, or a new account). oidc-provider would otherwise go on with a session
 * whose account it cannot load; a `prompt=none` request gets login_required (OIDC Core 3.1.2.6).
 */
export const accountGone: LoginCheck = {
  reason: 'account_gone',
  description: 'the session\'s account no longer signs in',
  error: 'login_required',
  needed: (ctx) => Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.account,
};
