// The last line of defence: whatever escapes a route becomes a plain page (or JSON for
// API callers) without a stack trace, and a log line for the operator.

import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { errorPage } from '../pages/error-pages.ts';
import { StorageUnavailableError } from '../storage/errors.ts';

export function errorPages(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) errorPage(ctx, { kind: 'not_found', status: 404 });
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        log.warn({ store: error.store, path: ctx.path }, 'storage unavailable');
        if (!ctx.headerSent) errorPage(ctx, { kind: 'storage', status: 503 });
        return;
      }
      const { status, expose } = error as { status?: number; expose?: boolean };
      const clientError = typeof status === 'number' && status >= 400 && status < 500 && expose;
      if (!clientError) log.error({ err: error, path: ctx.path }, 'request failed');
      else if (status === 413) log.warn({ path: ctx.path, ip: ctx.ip }, 'request body too large: refused');
      if (ctx.headerSent) return;
      errorPage(ctx, clientError ? { kind: 'request', status, oauthError: 'invalid_request', detail: (error as Error).message } : { kind: 'internal', status: 500 });
    }
  };
}
