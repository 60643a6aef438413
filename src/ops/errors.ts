// The last line of defence: whatever escapes a route becomes a plain page without a stack
// trace, and a log line for the operator; so do the routers' bare 404 and 405. A caller that
// asks for JSON over HTML (an operator's tool on the admin API) gets the error as JSON.

import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { errorPage, type ErrorData, type ErrorPageKind } from '../pages/error-pages.ts';
import { StorageUnavailableError } from '../storage/errors.ts';
import { loggedPath } from './request-log.ts';

/** The OAuth error codes (RFC 6749 4.1.2.1) for the kinds that have one. */
const OAUTH_ERROR: Partial<Record<ErrorPageKind, string>> = { storage: 'temporarily_unavailable', internal: 'server_error' };

/** The error, as a page or (RFC 9110 12.5.1: what the request accepts) as JSON. */
function answer(ctx: Context, data: ErrorData): void {
  if (ctx.accepts('html', 'json') !== 'json') return errorPage(ctx, data);
  ctx.status = data.status;
  ctx.set('cache-control', 'no-store');
  ctx.body = { error: data.oauthError ?? OAUTH_ERROR[data.kind] ?? data.kind, ...(data.detail ? { error_description: data.detail } : {}) };
}

export function errorPages(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) answer(ctx, { kind: 'not_found', status: 404 });
      // The routers' 405 keeps its Allow header; the answer replaces Koa's bare "Method Not Allowed".
      if (ctx.status === 405 && ctx.body === undefined) answer(ctx, { kind: 'method_not_allowed', status: 405 });
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        // The reason is the driver's or the store's own words (refused, timed out, NOPERM): which of them tells the operator what to fix.
        log.warn({ store: error.store, operation: error.operation, reason: error.message, path: loggedPath(ctx.path) }, 'storage unavailable');
        if (!ctx.headerSent) answer(ctx, { kind: 'storage', status: 503 });
        return;
      }
      const { status, expose } = error as { status?: number; expose?: boolean };
      const clientError = typeof status === 'number' && status >= 400 && status < 500 && expose;
      if (!clientError) log.error({ err: error, path: loggedPath(ctx.path) }, 'request failed');
      else if (status === 413) log.warn({ path: loggedPath(ctx.path), ip: ctx.ip }, 'request body too large: refused');
      if (ctx.headerSent) return;
      answer(ctx, clientError ? { kind: 'request', status, oauthError: 'invalid_request', detail: (error as Error).message } : { kind: 'internal', status: 500 });
    }
  };
}

/** How a connection's end reads when the client closed it (a tab closed, a network gone). */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * What Koa reports outside the middleware (its 'error' event), which it would otherwise print
 * as a bare stack trace among the JSON lines: mostly a client that closed the connection while
 * its answer was being made or sent (debug: the request line says the rest), else a failure
 * of the broker's (error).
 */
export function afterAnswerErrors(log: Logger): (error: Error & { code?: string }, ctx?: Context) => void {
  return (error, ctx) => {
    if (error.code !== undefined && CLIENT_GONE.has(error.code)) log.debug({ path: ctx && loggedPath(ctx.path), reason: error.code }, 'client closed the connection');
    else log.error({ err: error, path: ctx && loggedPath(ctx.path) }, 'request failed after its answer began');
  };
}
