// Inside WeChat, a login session belongs to one WeChat account. A family shares a phone,
// or a person switches WeChat accounts, and the WeChat browser may keep the broker's
// cookie across the switch (some devices do): so inside the WeChat browser an existing
// session is reused only after a silent snsapi_base round trip shows that WeChat presents
// an openid of the session's account. The check asks oidc-provider for a login
// interaction; the interaction goes through WeChat as any login does; when WeChat names
// another person, oidc-provider ends the old session (as a logout would) before logging
// the new one in. When WeChat cannot answer, the login fails closed
// (temporarily_unavailable), never falling back to the old session.

import type { LoginCheck } from '../oidc/login-check.ts';
import { browserKind } from '../wechat/user-agent.ts';

export const SAME_WECHAT_ACCOUNT = 'wechat_account_unconfirmed';

/**
 * The check, for clients that can have it: `canConfirm(client)` says whether the client
 * has an Official Account among its apps. WeChat can confirm a person silently only there;
 * a client without one keeps single sign-on inside WeChat (it could only send the person to
 * a QR page they cannot scan on the phone they hold).
 */
export function sameWeChatAccount(canConfirm: (client: object | undefined) => boolean): LoginCheck {
  return {
    reason: SAME_WECHAT_ACCOUNT,
    description: 'inside WeChat, WeChat must confirm who is logged in before a session is reused',
    // A session exists, the request comes from the WeChat browser, the client has an
    // Official Account, and no login was submitted in this interaction yet (the
    // confirmation itself ends in one).
    needed: (ctx) => Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.result?.login && browserKind(ctx.get('user-agent')) === 'wechat'
      && canConfirm(ctx.oidc.client ?? undefined),
  };
}
