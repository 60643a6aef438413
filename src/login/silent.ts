// prompt=none inside the WeChat browser. oidc-provider answers prompt=none with
// login_required as soon as there is no session, but inside WeChat a silent snsapi_base
// authorization can log the person in without showing anything (and the WeChat webview
// often loses the broker's session cookie). So such requests go through the interaction
// with a marker instead of `prompt=none`; the interaction shows nothing and ends with
// login_required / consent_required whenever something would have to be shown
// (OIDC Core 3.1.2.1, "none").
//
// Only the broker can set the marker: its value is an HMAC under the cookie keys, which
// no relying party or link knows, so a marker that arrives by any channel (any path or
// method, a request object, a pushed authorization request) is not the broker's and
// counts for nothing. Every cookie key is tried, so a key rotation loses no interaction.

import { createHmac } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Interaction } from '../oidc/interactions.ts';
import { browserKind } from '../wechat/user-agent.ts';

/** The authorization parameter that marks a silent login inside WeChat. */
export const SILENT_PARAM = 'wechat_silent';

const marker = (key: string): string => createHmac('sha256', key).update('wechat-silent-login').digest('base64url');

export class SilentLogins {
  readonly #markers: ReadonlySet<string>;
  readonly #current: string;

  /** `cookieKeys`: the first marks, all recognize. */
  constructor(cookieKeys: readonly [string, ...string[]] | readonly string[]) {
    const markers = cookieKeys.map(marker);
    this.#current = markers[0] ?? '';
    this.#markers = new Set(markers);
  }

  isSilent(interaction: Interaction): boolean {
    const value = interaction.params[SILENT_PARAM];
    return typeof value === 'string' && this.#markers.has(value);
  }

  /**
   * Turns `GET /auth?prompt=none` from the WeChat browser into a marked interaction, when an
   * Official Account can log people in silently (`webAuthorization`). Any marker a request
   * brings in its query string is dropped first, on every path.
   */
  middleware(webAuthorization: boolean): Middleware {
    return async (ctx, next) => {
      if (ctx.querystring.includes(SILENT_PARAM)) {
        const query = new URLSearchParams(ctx.querystring);
        query.delete(SILENT_PARAM);
        ctx.querystring = query.toString();
      }
      if (webAuthorization && ctx.path === '/auth' && ctx.method === 'GET' && ctx.query.prompt === 'none' && browserKind(ctx.get('user-agent')) === 'wechat') {
        const query = new URLSearchParams(ctx.querystring);
        query.delete('prompt');
        query.set(SILENT_PARAM, this.#current);
        ctx.querystring = query.toString();
      }
      await next();
    };
  }
}
