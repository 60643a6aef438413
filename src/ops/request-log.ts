// One log line per request, with a request id (X-Request-Id, echoed back). The path is
// logged without its query string: queries carry codes and states.

import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestLog(log: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      log.info({
        req: { id, method: ctx.method, path: ctx.path },
        res: { status: ctx.status },
        ms: Math.round(performance.now() - started),
      }, 'request');
    }
  };
}
