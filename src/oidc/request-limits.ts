// What a request may ask the broker to keep is bounded: the authorization and logout
// endpoints store their parameters (state, nonce, claims…) for as long as the login or
// the logout confirmation lives, so a parameter or a request over these sizes is refused
// with invalid_request (RFC 6749 4.1.2.1) before anything is stored.

import type { Middleware } from 'koa';
import { errorPage } from '../pages/error-pages.ts';

const LIMITED = /^\/(auth|request|session\/end)(\/|$)/;
/** Longer than any state, nonce or claims request a relying party needs. */
export const MAX_PARAMETER = 2048;
export const MAX_REQUEST = 8192;

function tooLarge(querystring: string, contentLength: number): boolean {
  if (querystring.length > MAX_REQUEST || contentLength > MAX_REQUEST) return true;
  for (const [key, value] of new URLSearchParams(querystring)) if (key.length + value.length > MAX_PARAMETER) return true;
  return false;
}

export function requestLimits(): Middleware {
  return async (ctx, next) => {
    if (!LIMITED.test(ctx.path) || !tooLarge(ctx.querystring, Number(ctx.get('content-length') || 0))) return next();
    const description = `request too large: at most ${MAX_PARAMETER} characters a parameter, ${MAX_REQUEST} in all`;
    if (ctx.path.startsWith('/request')) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: description };
      return undefined;
    }
    return errorPage(ctx, { kind: 'request', status: 400, oauthError: 'invalid_request', detail: description });
  };
}
