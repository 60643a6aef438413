// The broker's public URLs come from ISSUER alone. Discovery, redirects and the Secure flag
// of cookies are all derived by oidc-provider and Koa from the request's origin, so this
// middleware, first in line, sets that origin to ISSUER's whatever Host or X-Forwarded-*
// the request carried: a header can no more move an endpoint to another host than turn
// cookies insecure. A TLS-terminating proxy may still tell the client's address
// (X-Forwarded-For, when TRUST_PROXY). Malformed host headers are refused with 400.

import type { Middleware } from 'koa';

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const PROTO = /^https?$/i;

/** Whether every comma-separated value of a header is well formed (an absent header is; `usual` is, without a look). */
function wellFormed(value: string | string[] | undefined, shape: RegExp, usual?: string): boolean {
  if (value === undefined || value === usual) return true;
  const values = (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(','));
  return values.every((item) => shape.test(item.trim()));
}

export function publicOrigin(issuer: string, trustProxy: boolean): Middleware {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return async (ctx, next) => {
    const headers = ctx.req.headers;
    if (!wellFormed(headers.host ?? '', HOST, host) || !wellFormed(headers['x-forwarded-host'], HOST) || !wellFormed(headers['x-forwarded-proto'], PROTO)) {
      ctx.status = 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'Bad request: malformed Host or X-Forwarded-* header\n';
      return;
    }
    // The app trusts X-Forwarded-Proto and -Host (proxy = true), which are set here and only here.
    headers.host = host;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = scheme;
    delete headers.forwarded;
    if (!trustProxy) delete headers['x-forwarded-for'];
    await next();
  };
}
