// Discovery and the JWKS, served as bytes kept from oidc-provider's own answer: relying
// parties fetch them often (some on every login), and both stay the same for the life of
// the app: a reload (new keys or clients) builds a new app, and with it an empty cache.
// The first request of each goes through oidc-provider; every later one is answered here,
// before the rest of the chain, with what oidc-provider adds to these two open endpoints
// (its CORS: any origin may read them, shared/cors.js). Caching rules and security headers
// come from the middleware in front (http/security-headers.ts), as for every answer. Each
// carries a strong ETag of its bytes, so that a client or a cache revalidating one it holds
// gets 304 without the body (RFC 9110 8.8.3, 13.1.2); a reload that changes a document
// changes its tag.

import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';

/** oidc-provider's discovery document (OIDC Discovery 4) and JWKS (its `jwks` route). */
const DOCUMENTS = new Set(['/.well-known/openid-configuration', '/jwks']);

/**
 * RFC 8414 3: an OAuth client (not OpenID Connect) looks the same metadata up at
 * oauth-authorization-server, which oidc-provider answers with the same document: one kept
 * copy for both, the same bytes and tag.
 */
const ALIASES: ReadonlyMap<string, string> = new Map([['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']]);

interface Kept {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

/**
 * RFC 9110 13.1.2: If-None-Match is false, and a GET or HEAD is answered 304, when it is "*"
 * or lists the tag, compared weakly (W/ ignored). Evaluated here rather than by Koa's
 * `ctx.fresh`, which ignores the header beside `Cache-Control: no-cache`, and fetch() sends
 * that with every conditional request: the RFC's MUST holds whatever else the request says.
 */
function unmodified(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** The document as kept, answered as 304 when the request's If-None-Match holds its tag. */
function answer(ctx: Context, document: Kept): void {
  ctx.type = document.type;
  ctx.body = document.body;
  ctx.etag = document.etag;
  if (unmodified(ctx.get('if-none-match'), document.etag)) ctx.status = 304;
}

export function cachedDocuments(): Middleware {
  const kept = new Map<string, Kept>();
  return async (ctx, next) => {
    const path = ALIASES.get(ctx.path) ?? ctx.path;
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !DOCUMENTS.has(path)) return next();
    const document = kept.get(path);
    if (document) {
      ctx.vary('Origin');
      ctx.set('access-control-allow-origin', ctx.get('origin') || '*');
      return answer(ctx, document);
    }
    const asked = ctx.path;
    ctx.path = path;
    await next();
    ctx.path = asked;
    // Only oidc-provider's own document (a JSON object), never an error page or a HEAD's empty answer.
    if (ctx.method === 'GET' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null && !Buffer.isBuffer(ctx.body)) {
      const body = Buffer.from(JSON.stringify(ctx.body));
      const document = { type: ctx.response.get('content-type'), body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      kept.set(path, document);
      answer(ctx, document);
    }
  };
}
