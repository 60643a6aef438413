// OAuth 2.0 Device Authorization Grant (RFC 8628) on oidc-provider's implementation, with
// what it leaves to the host:
//   - user codes of 8 letters from 20 consonants, no vowels (no words) and no look-alikes
//     (6.1), shown grouped: WDJB-MJHT; a device may name itself (`device_name`);
//   - the pages (pages/device-pages.ts): the code, then straight on to the login, the end;
//   - a prompt of its own (`device`, the interaction policy's last): after the person has
//     logged in, a page naming the app, the device and the code asks them to confirm or say
//     "not me" (login/ shows it); oidc-provider's own confirmation before the login is
//     passed through, so that the person confirms knowing who they are logged in as;
//   - `interval` in the device authorization response (3.2), and `slow_down` (3.5): a device
//     that polls again within its interval gets slow_down, and its interval grows by 5
//     seconds for that and every later request (oidc-provider has the error but never sends it);
//   - guessing (5.1): an IP that entered wrong codes too often is refused for a while, and
//     a code entered too often is refused, counted across instances.
// What the person logs in with is the ordinary interaction (login/), so inside WeChat it is
// WeChat's web authorization (silent when WeChat knows them), on a desktop QR login; the
// confirmation follows it, every time, even for a person already logged in here.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { errors, interactionPolicy, type Adapter, type Configuration, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';
import { deviceCodePage, deviceContinuePage, deviceDonePage, type DeviceCodeProblem } from '../pages/device-pages.ts';
import { langOf } from '../pages/html.ts';
import type { Counters } from '../storage/counters.ts';
import { clientDisplay } from './client-display.ts';

/** What a device may call itself in its request, shown on the confirmation page. */
export const DEVICE_NAME_PARAM = 'device_name';
/** RFC 8628 3.2: the interval a device waits between polls, when none is given (5 s). */
export const POLL_INTERVAL_S = 5;
/** 3.5: each slow_down adds this much to the device's interval. */
const SLOW_DOWN_STEP_S = 5;
/** Wrong codes an IP may enter in a quarter of an hour. */
const WRONG_CODES_PER_IP = 10;
const WRONG_CODE_WINDOW_S = 15 * 60;
/** Times one code may be entered without its login going on (a reload, a browser without script): more is somebody else trying. */
const ENTRIES_PER_CODE = 10;
/** A code lives 10 minutes (oidc-provider's DeviceCode TTL): its entries are counted over longer. */
const CODE_ENTRY_WINDOW_S = 30 * 60;

type DeviceFlow = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

/** The user code as oidc-provider stores it: its letters, upper case. */
const normalized = (code: string): string => code.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 16);
/** How user codes are shown (oidc-provider's `mask`: a letter for each `*`). */
const MASK = '****-****';
/** The user code as the device shows it, in MASK. */
export function grouped(code: string): string {
  const letters = [...normalized(code)];
  return MASK.replace(/\*/g, () => letters.shift() ?? '');
}
const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** oidc-provider's /device form: its action, and the xsrf token it put in this browser's session. */
function formOf(ctx: KoaContextWithOIDC) {
  return { action: ctx.oidc.urlFor('code_verification'), xsrf: String((ctx.oidc.session?.state as { secret?: unknown } | undefined)?.secret ?? '') };
}

/**
 * The form of the code page oidc-provider's error handler shows, when it can work. The
 * handler writes a new xsrf token into the browser's session; a session that was never
 * stored (a browser with no session cookie, or one whose session has ended) cannot keep
 * it, and oidc-provider, trying to store it afterwards, fails (its `persist` needs a stored
 * session). Such a page gets no form (the way back to a fresh one instead), and the session
 * is left as it was, so that nothing tries to store it.
 */
function formAfterError(ctx: KoaContextWithOIDC) {
  const session = ctx.oidc.session;
  if (!session || typeof session.exp === 'number') return formOf(ctx);
  (session as unknown as { touched: boolean }).touched = false;
  return undefined;
}

function problemOf(error: unknown): DeviceCodeProblem | undefined {
  switch ((error as Error | undefined)?.name) {
    case undefined: return undefined;
    case 'ExpiredError': return 'expired';
    case 'AlreadyUsedError': return 'used';
    case 'AbortedError': return 'aborted';
    // The form's xsrf token is not this browser's session's (another tab, an expired
    // session, no cookie), or a resume link is not this browser's: the code was not looked at.
    case 'InvalidRequest':
    case 'SessionNotFound': return 'stale';
    default: return 'wrong';
  }
}

/** A code shown for confirmation too often (reloads, or somebody else trying it): refused, the code page instead. */
async function tooOften(counters: Counters, log: Logger, ctx: Context, userCode: string): Promise<boolean> {
  try {
    const { count, resetInS } = await counters.hit(`device-code:${digest(normalized(userCode))}`, CODE_ENTRY_WINDOW_S);
    if (count <= ENTRIES_PER_CODE) return false;
    log.warn({ limit: 'device-code-entries', ip: ctx.ip }, 'rate limit reached');
    ctx.set('retry-after', String(Math.max(1, resetInS)));
    deviceCodePage(ctx, undefined, 'too_many');
    return true;
  } catch (error) {
    log.warn({ reason: (error as Error).message }, 'rate limit counters unavailable: request let through');
    return false;
  }
}

/** oidc-provider's deviceFlow feature with the broker's pages; `counters` limit how often one code is shown. */
export function deviceFlowFeature(counters: Counters, log: Logger): DeviceFlow {
  return {
    enabled: true,
    charset: 'base-20',
    mask: MASK,
    deviceInfo: (ctx) => {
      const name = ctx.oidc.params?.[DEVICE_NAME_PARAM];
      return { ip: ctx.ip, ua: ctx.get('user-agent').slice(0, 300), ...(typeof name === 'string' && name.trim() ? { name: name.trim().slice(0, 60) } : {}) };
    },
    async userCodeInputSource(ctx, _form, _out, error) {
      const problem = problemOf(error);
      // A code that does not exist is a guess, or a typo: counted against the IP (deviceGuard).
      if (problem === 'wrong') (ctx.state as { deviceWrongCode?: boolean }).deviceWrongCode = true;
      deviceCodePage(ctx, error ? formAfterError(ctx) : formOf(ctx), problem);
    },
    // oidc-provider asks here before the login; the broker asks after it (the device
    // prompt), so this page only carries the code on to the login, by itself.
    async userCodeConfirmSource(ctx, _form, client, _deviceInfo, userCode) {
      if (await tooOften(counters, log, ctx, userCode)) return;
      deviceContinuePage(ctx, { form: formOf(ctx), app: clientDisplay(client, langOf(ctx)), userCode });
    },
    async successSource(ctx) {
      deviceDonePage(ctx, ctx.oidc.client && clientDisplay(ctx.oidc.client, langOf(ctx)));
    },
  };
}

/** The interaction prompt that asks the person to confirm the device, after they logged in. */
export const DEVICE_PROMPT = 'device';

/**
 * Policy as data: a device's login needs the person's confirmation, given in this
 * interaction chain (the result says `device: { confirmed: true }`), whatever else is
 * settled already (a session here, consent given before). Last in the policy, so that it
 * comes after the login and consent and nothing after it can ask again.
 */
export function devicePrompt(): interactionPolicy.Prompt {
  const { Check, Prompt } = interactionPolicy;
  return new Prompt({ name: DEVICE_PROMPT, requestable: false }, new Check(
    'device_not_confirmed', 'the End-User has not confirmed the device', 'interaction_required',
    (ctx) => (ctx.oidc.deviceCode && (ctx.oidc.result?.[DEVICE_PROMPT] as { confirmed?: unknown } | undefined)?.confirmed !== true ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
  ));
}

/** How long an expired device code is still kept, so that its device hears expired_token (3.5) and its link "expired", not "unknown". */
const KEPT_EXPIRED_S = 15 * 60;

/** oidc-provider's storage of device codes, keeping each a while past its expiry (its own `exp` still says when it expired). */
export function keptPastExpiry(adapter: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => adapter.upsert(id, payload, expiresIn === undefined ? expiresIn : expiresIn + KEPT_EXPIRED_S),
    find: (id) => adapter.find(id),
    findByUid: (uid) => adapter.findByUid(uid),
    findByUserCode: (userCode) => adapter.findByUserCode(userCode),
    consume: (id) => adapter.consume(id),
    destroy: (id) => adapter.destroy(id),
    revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
  };
}

/** RFC 8628 3.2: the interval, said in the device authorization response. */
export function sayInterval(body: Record<string, unknown>): void {
  body.interval = POLL_INTERVAL_S;
}

/**
 * RFC 8628 5.1 against guessing at /device: an IP that entered too many wrong codes lately
 * gets 429 and the code page before oidc-provider looks at its code; a wrong code is
 * counted against the IP afterwards. Counted across instances (the counters are Redis's
 * where there is one); a counter store that fails lets the request through, as every limit does.
 */
export function deviceGuard(counters: Counters, log: Logger): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/device\/?$/i.test(ctx.path)) return next();
    try {
      const wrong = await counters.count(`device-wrong:${ctx.ip}`);
      if (wrong.count >= WRONG_CODES_PER_IP) {
        log.warn({ limit: 'device-wrong-codes', ip: ctx.ip }, 'rate limit reached');
        ctx.set('retry-after', String(Math.max(1, wrong.resetInS)));
        return deviceCodePage(ctx, undefined, 'too_many');
      }
    } catch (error) {
      log.warn({ reason: (error as Error).message }, 'rate limit counters unavailable: request let through');
    }
    await next();
    if ((ctx.state as { deviceWrongCode?: boolean }).deviceWrongCode) await counters.hit(`device-wrong:${ctx.ip}`, WRONG_CODE_WINDOW_S).catch(() => undefined);
  };
}

/** Set for the duration of a token request: the device code it looks up is a poll. */
const polling = new AsyncLocalStorage<true>();

/** Marks token requests, so that the device code they look up counts as a poll (enforceInterval). */
export function pollingContext(): Middleware {
  return (ctx, next) => (ctx.method === 'POST' && /^\/token\/?$/i.test(ctx.path) ? polling.run(true, next) : next());
}

/**
 * RFC 8628 3.5 at the token endpoint: a device that polls again within its interval gets
 * `slow_down`, and its interval grows by 5 seconds, for that and every later request. The
 * check sits where the device_code grant looks its code up (the only lookup of a device
 * code a token request makes), so it needs no second reading of the request.
 */
export function enforceInterval(provider: Provider, counters: Counters, log: Logger): void {
  const model = provider.DeviceCode as unknown as { find(id: string, options?: object): Promise<unknown> };
  const find = model.find.bind(model);
  model.find = async (id, options) => {
    if (polling.getStore() && typeof id === 'string') await checkInterval(counters, log, digest(id));
    return find(id, options);
  };
}

async function checkInterval(counters: Counters, log: Logger, key: string): Promise<void> {
  let interval: number;
  let early: boolean;
  try {
    interval = POLL_INTERVAL_S + SLOW_DOWN_STEP_S * (await counters.count(`device-slowed:${key}`)).count;
    early = (await counters.hit(`device-poll:${key}:${interval}`, interval)).count > 1;
    if (early) {
      // The longer interval counts from this poll: the next one must wait all of it.
      await counters.hit(`device-slowed:${key}`, CODE_ENTRY_WINDOW_S);
      await counters.hit(`device-poll:${key}:${interval + SLOW_DOWN_STEP_S}`, interval + SLOW_DOWN_STEP_S);
    }
  } catch (error) {
    log.warn({ reason: (error as Error).message }, 'device polling counters unavailable: request let through');
    return;
  }
  if (early) throw new errors.SlowDown(`polling too fast: wait at least ${interval + SLOW_DOWN_STEP_S} seconds between requests`);
}
