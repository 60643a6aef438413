// RP-Initiated Logout 1.0 for a browser that has no session here: there is nothing to end
// and nothing to protect with a confirmation, so the request is answered without storing
// anything (oidc-provider would keep a session record for its confirmation form). The
// checks are oidc-provider's own: the id_token_hint must validate for its audience, the
// post_logout_redirect_uri must be registered for that client; whatever fails them, or
// any request with a session cookie, goes to oidc-provider as usual.

import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { decodeJwt } from 'jose';
import { askedLanguages, langOf } from '../pages/html.ts';
import { loggedOutPage } from '../pages/logout-pages.ts';
import { clientDisplay } from './client-display.ts';
import { sessionCookieName } from './provider.ts';

type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** A parameter given once as a string; undefined when absent; null when repeated or not text. */
function single(ctx: Context, name: string): string | undefined | null {
  const value = ctx.query[name];
  return value === undefined || typeof value === 'string' ? value : null;
}

/** The client the request names and proves, or null when it names one it does not prove. */
async function clientOf(provider: Provider, hint: string | undefined, clientId: string | undefined): Promise<Client | undefined | null> {
  if (hint === undefined) return clientId === undefined ? undefined : (await provider.Client.find(clientId)) ?? null;
  const { aud } = decodeJwt(hint);
  if (typeof aud !== 'string' || (clientId !== undefined && clientId !== aud)) return null;
  const client = await provider.Client.find(aud);
  if (!client) return null;
  await provider.IdToken.validate(hint, client);
  return client;
}

export function anonymousLogout(provider: Provider): Middleware {
  const sessionCookie = sessionCookieName(provider.issuer);
  return async (ctx, next) => {
    if (ctx.path !== '/session/end' || ctx.method !== 'GET' || ctx.cookies.get(sessionCookie)) return next();
    const [hint, clientId, uri, state] = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'].map((name) => single(ctx, name));
    if ([hint, clientId, uri, state].includes(null)) return next();
    const client = await clientOf(provider, hint ?? undefined, clientId ?? undefined).catch(() => null);
    if (client === null || (uri && client && !client.postLogoutRedirectUriAllowed(uri))) return next();
    // As oidc-provider does, a post_logout_redirect_uri without a client to check it against is ignored.
    if (!uri || !client) {
      askedLanguages(ctx, single(ctx, 'ui_locales'));
      return loggedOutPage(ctx, client && clientDisplay(client, langOf(ctx)));
    }
    const target = new URL(uri);
    if (state) target.searchParams.set('state', state);
    ctx.status = 303;
    ctx.redirect(target.href);
  };
}
