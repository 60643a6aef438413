// Rate limits on the endpoints anyone can hit and that cost the broker something: the
// authorization endpoint (and pushed requests), the token endpoint, the device flow's (/device/auth,
// the code pages /device), every login page and
// WeChat's callbacks (/interaction/*, the hand-off's /h/*, follow-to-login's confirmation /f/*), and a third-party platform's
// authorization pages. WeChat's pushes count only when they are refused: WeChat sends
// every account's pushes from a few servers of its own, so counting every push per IP would
// refuse WeChat itself in a busy minute (and it gives up on a push after three tries);
// an IP whose pushes were refused (a bad signature, bad crypto) more often than the limit
// in a minute gets 429 for its pushes until the minute ends. The token endpoint and its
// neighbours (introspection, revocation) are the same kind of caller: a relying party's or a
// resource server's own server, redeeming and checking all its users' tokens from one IP, so
// there too only refused requests count (a guessed secret, code or token), and past a limit
// of them that IP's or that client's requests there get 429 until the minute ends (counted
// apart from the pages, so a client's busy login pages never hold up its server). Per client IP (the proxy's word when TRUST_PROXY) and per
// client_id, in one-minute windows; beyond a limit, 429 with Retry-After. Paths are matched
// as the router matches them (any case, a trailing slash), so no spelling escapes a limit.
// A counter store that fails lets the request through (and is logged): a storage outage
// must not lock everybody out.

import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { errorPage } from '../pages/error-pages.ts';
import type { Counters } from '../storage/counters.ts';
import { loggedPath } from './request-log.ts';

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
/** The token endpoint and its neighbours (introspection, revocation): a server's calls, counted when refused. */
const TOKEN_ENDPOINTS = /^\/token(\/|$)/i;
/** WeChat's push routes (follow-to-login's server address, a platform's event URLs). */
const PUSH = /^\/wechat\/(mp\/[^/]+\/events|platform\/[^/]+\/(auth-events|events\/[^/]+))\/?$/i;

const limited = (ctx: Context): boolean => LIMITED.test(ctx.path) && !(ctx.method === 'GET' && POLL.test(ctx.path));

/** The client a request names: client_id in the query, or HTTP Basic client authentication. */
function clientOf(ctx: Context): string | undefined {
  if (typeof ctx.query.client_id === 'string' && ctx.query.client_id.length <= 256) return ctx.query.client_id;
  const basic = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(ctx.get('authorization'))?.[1];
  if (!basic) return undefined;
  const id = Buffer.from(basic, 'base64').toString('utf8').split(':')[0];
  return id ? decoded(id) : undefined;
}

/** RFC 6749 2.3.1's form-encoded client_id, or as sent when it is not well encoded (oidc-provider then refuses the request). */
function decoded(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function refuse(ctx: Context, resetInS: number): void {
  ctx.set('retry-after', String(Math.max(1, resetInS)));
  if (JSON_ANSWER.test(ctx.path)) {
    ctx.status = 429;
    ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests: try again later' };
    return;
  }
  errorPage(ctx, { kind: 'rate_limited', status: 429 });
}

/** A counter and its limit; `name` is the limit's, for the log (the key holds an IP, colons and all). */
interface Check {
  readonly name: string;
  readonly key: string;
  readonly limit: number;
}

const check = (name: string, id: string, limit: number): Check => ({ name, key: `${name}:${id}`, limit });

/** The IP's and the client's counters (`prefix`: which kind of request they count), each with its limit (0: off). */
function checksOf(ctx: Context, limits: RateLimits, prefix = ''): Check[] {
  const client = clientOf(ctx);
  return [
    ...(limits.perIp ? [check(`${prefix}ip`, ctx.ip, limits.perIp)] : []),
    ...(limits.perClient && client ? [check(`${prefix}client`, client, limits.perClient)] : []),
  ];
}

/** Every request counts: a person's browser, or a device, asking for something the broker keeps or shows. */
async function everyRequest(ctx: Context, next: () => Promise<unknown>, checks: readonly Check[], counters: Counters, log: Logger): Promise<unknown> {
  // One after the other (unlike refusedOnly's reads): a request the IP's limit refuses is not counted against its client.
  for (const { name, key, limit } of checks) {
    try {
      const { count, resetInS } = await counters.hit(key, WINDOW_S);
      if (count > limit) {
        log.warn({ limit: name, ip: ctx.ip, client: clientOf(ctx), path: loggedPath(ctx.path) }, 'rate limit reached');
        return refuse(ctx, resetInS);
      }
    } catch (error) {
      log.warn({ reason: (error as Error).message }, 'rate limit counters unavailable: request let through');
    }
  }
  return next();
}

/**
 * Only refused requests count (`refused(status)`); past a limit of them every request waits
 * for the window to end (`answer`). For callers that send everybody's requests from a few
 * addresses of their own: WeChat's pushes, and a relying party's or a resource server's
 * server at the token endpoint, where a busy app redeems its users' codes and introspects
 * their tokens from one IP. Guessing (secrets, codes, forged pushes) is refused, so it counts.
 */
async function refusedOnly(ctx: Context, next: () => Promise<unknown>, checks: readonly Check[], use: { counters: Counters; log: Logger; refused: (status: number) => boolean; answer: (resetInS: number) => void }): Promise<void> {
  // Read at once (they are apart, one per Redis Cluster slot): the request waits for one round trip, not one per counter.
  const counted = await Promise.all(checks.map((one) => use.counters.count(one.key).then((hit) => ({ ...one, ...hit }), (error: Error) => {
    use.log.warn({ reason: error.message }, 'rate limit counters unavailable: request let through');
  })));
  const over = counted.find((one) => one !== undefined && one.count >= one.limit);
  if (over) {
    use.log.warn({ limit: over.name, ip: ctx.ip, client: clientOf(ctx), path: loggedPath(ctx.path) }, 'rate limit reached');
    return use.answer(over.resetInS);
  }
  await next();
  if (use.refused(ctx.status)) await Promise.all(checks.map(({ key }) => use.counters.hit(key, WINDOW_S).catch(() => undefined)));
}

function refusedPush(ctx: Context, resetInS: number): void {
  ctx.set('retry-after', String(Math.max(1, resetInS)));
  ctx.status = 429;
  ctx.type = 'text/plain';
  ctx.body = 'refused';
}

export function rateLimits(counters: Counters, limits: RateLimits, log: Logger): Middleware {
  return async (ctx, next) => {
    if (limits.perIp > 0 && ctx.method === 'POST' && PUSH.test(ctx.path)) {
      return refusedOnly(ctx, next, [check('push-refused', ctx.ip, limits.perIp)], { counters, log, refused: (status) => status === 400, answer: (resetInS) => refusedPush(ctx, resetInS) });
    }
    if (!limited(ctx) || (limits.perIp === 0 && limits.perClient === 0)) return next();
    if (!TOKEN_ENDPOINTS.test(ctx.path)) return everyRequest(ctx, next, checksOf(ctx, limits), counters, log);
    // Counted apart from the pages: a client's busy login pages never hold up its server's token requests.
    return refusedOnly(ctx, next, checksOf(ctx, limits, 'token-refused:'), { counters, log, refused: (status) => status >= 400 && status < 500, answer: (resetInS) => refuse(ctx, resetInS) });
  };
}
