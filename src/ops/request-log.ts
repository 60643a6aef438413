// One log line per request, with a request id (X-Request-Id, echoed back). The path is
// logged without its query string (queries carry codes and states), and without the code
// of a hand-off or follow-to-login link (/h/<code>, /f/<link>: whoever has one can answer
// for the person it was shown to), here and in every other line that names a path. The line holds nothing else, so it skips the logger's
// redaction: a tenth of a light request's CPU (the bench's profile), for nothing to redact.
// The same moment counts the request in the metrics, by endpoint and status. Every other
// line logged while the request runs carries its id as `reqId` (log.ts), and the trace of a
// caller that sent a W3C `traceparent` as `traceId` (the request line as `req.traceId`).

import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { traceIdOf } from '../http/trace-context.ts';
import { withRequest, type Logger } from '../log.ts';
import { endpointOf, type BrokerMetrics } from './metrics.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** The links whose path is their secret. */
const SECRET_LINK = /^\/([hf])\/[^/]+/i;

/** A request's path as every log line gives it: a hand-off or follow-to-login link's code left out. */
export function loggedPath(path: string): string {
  return path.replace(SECRET_LINK, '/$1/…');
}

/**
 * `tracedAs`: the trace of the request's own span, when the broker sends traces (tracing.ts):
 * every line then names the trace the operator finds it in, whether the caller sent a
 * traceparent or not.
 */
export function requestLog(log: Logger, metrics: BrokerMetrics, tracedAs?: () => string | undefined): Middleware {
  const lines = log.child({}, { redact: [] });
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', id);
    const traceId = tracedAs?.() ?? traceIdOf(ctx.get('traceparent'));
    const started = performance.now();
    try {
      await withRequest({ reqId: id, traceId }, next);
    } finally {
      const ms = performance.now() - started;
      metrics.request(endpointOf(ctx.path), ctx.status, ms / 1000);
      lines.info({
        req: { id, method: ctx.method, path: loggedPath(ctx.path), ...(traceId ? { traceId } : {}) },
        res: { status: ctx.status },
        ms: Math.round(ms),
      }, 'request');
    }
  };
}
