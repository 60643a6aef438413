// Headers every response gets. Pages the broker renders set their own, narrower
// Content-Security-Policy (pages/html.ts); this one covers what oidc-provider renders
// itself (the form_post and logout auto-submit pages add their inline script's hash to
// its script-src) and every other answer: no framing anywhere (clickjacking), no MIME
// sniffing, no referrer, HSTS when ISSUER is https, and caching rules for discovery (and
// its RFC 8414 name) and JWKS, which relying parties fetch often and which change only with a key rotation.

import type { Middleware } from 'koa';

const DEFAULT_CSP = "default-src 'none'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'";
const HSTS = 'max-age=31536000';
const CACHED = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks']);
const CACHE_FOR_S = 300;

export function securityHeaders(https: boolean): Middleware {
  return async (ctx, next) => {
    ctx.set('content-security-policy', DEFAULT_CSP);
    ctx.set('x-frame-options', 'DENY');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    if (https) ctx.set('strict-transport-security', HSTS);
    await next();
    // A 304 carries the Cache-Control its 200 would have (RFC 9110 15.4.5).
    if (CACHED.has(ctx.path) && (ctx.status === 200 || ctx.status === 304)) ctx.set('cache-control', `public, max-age=${CACHE_FOR_S}`);
  };
}
