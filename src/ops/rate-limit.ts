// Rate limits on the endpoints anyone can hit and that cost the broker something: the
// authorization endpoint (and pushed requests), the token endpoint, the device flow's (/device/auth,
// the code pages /device), every login page and
// WeChat's callbacks (/interaction/*, the hand-off's /h/*, follow-to-login's confirmation /f/*), and a third-party platform's
// authorization pages. WeChat's pushes count only when they are refused: WeChat sends
// every account's pushes from a few servers of its own, so counting every push per IP would
// refuse WeChat itself in a busy minute (and it gives up on a push after three tries);
// an IP whose pushes were refused (a bad signature, bad crypto) more often than the limit
// in a minute gets 429 for its pushes until the minute ends. Per client IP (the proxy's word when TRUST_PROXY) and per
// client_id, in one-minute windows; beyond a limit, 429 with Retry-After. Paths are matched
// as the router matches them (any case, a trailing slash), so no spelling escapes a limit.
// A counter store that fails lets the request through (and is logged): a storage outage
// must not lock everybody out.

import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { errorPage } from '../pages/error-pages.ts';
import type { Counters } from '../storage/counters.ts';

/** Requests a minute; 0 turns a limit off. */
export interface RateLimits {
  readonly perIp: number;
  readonly perClient: number;
}

const WINDOW_S = 60;
const LIMITED = /^\/(auth|request|token|device)(\/|$)|^\/(interaction|h|f)\/|^\/wechat\/platform\/[^/]+\/authorized?\/?$/i;
/** The status a waiting page polls every second or two (hand-off, follow-to-login): a person waiting is no attack. */
const POLL = /^\/interaction\/[^/]+\/(handoff|follow)\/?$/i;
const JSON_ANSWER = /^\/(request|token|device\/auth)/i;
/** WeChat's push routes (follow-to-login's server address, a platform's event URLs). */
const PUSH = /^\/wechat\/(mp\/[^/]+\/events|platform\/[^/]+\/(auth-events|events\/[^/]+))\/?$/i;

const limited = (ctx: Context): boolean => LIMITED.test(ctx.path) && !(ctx.method === 'GET' && POLL.test(ctx.path));

/** The client a request names: client_id in the query, or HTTP Basic client authentication. */
function clientOf(ctx: Context): string | undefined {
  if (typeof ctx.query.client_id === 'string' && ctx.query.client_id.length <= 256) return ctx.query.client_id;
  const basic = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(ctx.get('authorization'))?.[1];
  if (!basic) return undefined;
  const id = Buffer.from(basic, 'base64').toString('utf8').split(':')[0];
  return id ? decodeURIComponent(id) : undefined;
}

function refuse(ctx: Context, resetInS: number): void {
  ctx.set('retry-after', String(resetInS));
  if (JSON_ANSWER.test(ctx.path)) {
    ctx.status = 429;
    ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests: try again later' };
    return;
  }
  errorPage(ctx, { kind: 'rate_limited', status: 429 });
}

/** Pushes from an IP whose pushes were refused more than `limit` times this minute get 429; a verified push is never counted. */
async function pushes(ctx: Context, next: () => Promise<unknown>, counters: Counters, limit: number, log: Logger): Promise<void> {
  const key = `push-refused:${ctx.ip}`;
  try {
    const { count, resetInS } = await counters.count(key);
    if (count >= limit) {
      log.warn({ limit: 'push-refused', ip: ctx.ip, path: ctx.path }, 'rate limit reached');
      ctx.set('retry-after', String(Math.max(1, resetInS)));
      ctx.status = 429;
      ctx.type = 'text/plain';
      ctx.body = 'refused';
      return;
    }
  } catch (error) {
    log.warn({ reason: (error as Error).message }, 'rate limit counters unavailable: request let through');
  }
  await next();
  if (ctx.status === 400) await counters.hit(key, WINDOW_S).catch(() => undefined);
}

export function rateLimits(counters: Counters, limits: RateLimits, log: Logger): Middleware {
  return async (ctx, next) => {
    if (limits.perIp > 0 && ctx.method === 'POST' && PUSH.test(ctx.path)) return pushes(ctx, next, counters, limits.perIp, log);
    if (!limited(ctx) || (limits.perIp === 0 && limits.perClient === 0)) return next();
    const client = clientOf(ctx);
    const checks: Array<[string, number]> = [
      ...(limits.perIp ? [[`ip:${ctx.ip}`, limits.perIp] as [string, number]] : []),
      ...(limits.perClient && client ? [[`client:${client}`, limits.perClient] as [string, number]] : []),
    ];
    for (const [key, limit] of checks) {
      try {
        const { count, resetInS } = await counters.hit(key, WINDOW_S);
        if (count > limit) {
          log.warn({ limit: key.split(':')[0], ip: ctx.ip, client, path: ctx.path }, 'rate limit reached');
          return refuse(ctx, resetInS);
        }
      } catch (error) {
        log.warn({ reason: (error as Error).message }, 'rate limit counters unavailable: request let through');
      }
    }
    return next();
  };
}
