// A reason for oidc-provider's login prompt, as data (its interaction policy's checks):
// the broker's own (oidc/app-logout.ts) and the login layer's (login/same-wechat-account.ts).

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
