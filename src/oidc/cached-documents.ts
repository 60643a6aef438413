// Discovery and the JWKS, served as bytes kept from oidc-provider's own answer: relying
// parties fetch them often (some on every login), and both stay the same for the life of
// the app: a reload (new keys or clients) builds a new app, and with it an empty cache.
// The first request of each goes through oidc-provider; every later one is answered here,
// before the rest of the chain, with what oidc-provider adds to these two open endpoints
// (its CORS: any origin may read them, shared/cors.js). Caching rules and security headers
// come from the middleware in front (http/security-headers.ts), as for every answer.

import type { Middleware } from 'koa';

/** oidc-provider's discovery document (OIDC Discovery 4) and JWKS (its `jwks` route). */
const DOCUMENTS = new Set(['/.well-known/openid-configuration', '/jwks']);

interface Kept {
  readonly type: string;
  readonly body: Buffer;
}

export function cachedDocuments(): Middleware {
  const kept = new Map<string, Kept>();
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !DOCUMENTS.has(ctx.path)) return next();
    const document = kept.get(ctx.path);
    if (document) {
      ctx.vary('Origin');
      ctx.set('access-control-allow-origin', ctx.get('origin') || '*');
      ctx.type = document.type;
      ctx.body = document.body;
      return;
    }
    await next();
    // Only oidc-provider's own document (a JSON object), never an error page or a HEAD's empty answer.
    if (ctx.method === 'GET' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null && !Buffer.isBuffer(ctx.body)) {
      const body = Buffer.from(JSON.stringify(ctx.body));
      kept.set(ctx.path, { type: ctx.response.get('content-type'), body });
      ctx.body = body;
    }
  };
}
