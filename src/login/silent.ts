// prompt=none inside the WeChat browser. oidc-provider answers prompt=none with
// login_required as soon as there is no session, but inside WeChat a silent snsapi_base
// authorization can log the person in without showing anything (and the WeChat webview
// often loses the broker's session cookie). So such requests go through the interaction
// with a marker instead of `prompt=none`; the interaction shows nothing and ends with
// login_required / consent_required whenever something would have to be shown
// (OIDC Core 3.1.2.1, "none").
// The marker is the broker's: any value a relying party sends is dropped.

import type { Middleware } from 'koa';
import type { Interaction } from '../oidc/interactions.ts';
import { browserKind } from '../wechat/user-agent.ts';

/** The authorization parameter that marks a silent login inside WeChat. */
export const SILENT_PARAM = 'wechat_silent';

export const isSilent = (interaction: Interaction): boolean => interaction.params[SILENT_PARAM] === '1';

/** `webAuthorization`: an Official Account is configured, so a silent login is possible. */
export function silentPromptInWeChat(webAuthorization: boolean): Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/auth' && ctx.method === 'GET' && ctx.querystring) {
      const query = new URLSearchParams(ctx.querystring);
      query.delete(SILENT_PARAM);
      if (webAuthorization && query.get('prompt') === 'none' && browserKind(ctx.get('user-agent')) === 'wechat') {
        query.delete('prompt');
        query.set(SILENT_PARAM, '1');
      }
      ctx.querystring = query.toString();
    }
    await next();
  };
}
