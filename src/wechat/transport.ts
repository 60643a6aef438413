// How the broker calls WeChat's APIs, whatever the API: one HTTP call (GET with a query, or
// POST with a JSON body) through a circuit breaker, retried once when WeChat is busy, slow
// or answers garbage, its errcode mapped to a typed error (errors.ts), WeChat's request id
// logged, every call observed for the metrics. Every answer is HTTP 200 with a JSON body
// whatever its Content-Type; failures carry a non-zero errcode. URLs and bodies hold
// secrets, tickets, tokens and codes, so they are never logged.

import type { Logger } from 'pino';
import { CircuitBreaker, type BreakerOptions } from './breaker.ts';
import {
  errorFromErrcode, requestIdOf, WeChatCredentialsError, WeChatError, WeChatTokenError, WeChatTokenRefusedError, WeChatUnavailableError,
} from './errors.ts';

export interface WeChatClientOptions {
  /** Base of WeChat's APIs, e.g. https://api.weixin.qq.com */
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Told of every call: its path, how long it took, and the errcode (or failure) if any. */
  readonly observe?: (path: string, seconds: number, errcode?: number | string) => void;
  /** When to stop calling a WeChat that keeps failing (default: 5 failures in a row, 30 s). */
  readonly breaker?: BreakerOptions;
}

/** WeChat's answers are small JSON objects; anything longer is not one. */
const MAX_BODY_BYTES = 64 * 1024;

/** The body of an answer, refused past `limit` bytes without reading further. */
async function readCapped(response: globalThis.Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new WeChatUnavailableError(`WeChat answered more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export type Json = Record<string, unknown>;
type Params = Record<string, string>;

/** A call: its path, query and (for a POST) JSON body. */
export interface Call {
  readonly path: string;
  readonly params: Params;
  readonly body?: Json;
  /**
   * The call spends something WeChat honours once (a code): after a timeout or an answer
   * that cannot be read, WeChat may have done it already, and a repeat would only meet
   * 40163; it is repeated only when WeChat said it was busy (-1) and did nothing.
   */
  readonly singleUse?: boolean;
}

/** -1: WeChat is busy and did nothing. */
const BUSY = -1;
/** 40001: invalid credential; with a token, the token. */
const INVALID_CREDENTIAL = 40001;

export class WeChatTransport {
  readonly #options: WeChatClientOptions;
  readonly #breaker: CircuitBreaker;

  constructor(options: WeChatClientOptions) {
    this.#options = options;
    this.#breaker = new CircuitBreaker(options.breaker ?? { failures: 5, openMs: 30_000 });
  }

  /** False while WeChat keeps failing (the circuit is open). */
  get available(): boolean {
    return this.#breaker.closed;
  }

  /**
   * A call whose credential is a token of the broker's (component or account): a token error
   * (42001 expired, 40014 …) or 40001 (invalid credential: here, the token) means the token,
   * which the caller renews once. A wrong appid or secret (40013, 40125, 41002, 41004) is the
   * operator's to mend: renewing would only spend the token quota on every login.
   */
  async callWithToken(call: Call): Promise<Json> {
    try {
      return await this.call(call);
    } catch (error) {
      if (error instanceof WeChatTokenError || (error instanceof WeChatCredentialsError && error.errcode === INVALID_CREDENTIAL)) {
        throw new WeChatTokenRefusedError('WeChat refused the broker\'s access token', error);
      }
      throw error;
    }
  }


  /** One call through the breaker. */
  async call(call: Call): Promise<Json> {
    if (!this.#breaker.allow()) throw new WeChatUnavailableError('WeChat keeps failing: not calling it for now');
    try {
      const body = await this.#callRetried(call);
      this.#breaker.succeeded();
      return body;
    } catch (error) {
      if (error instanceof WeChatUnavailableError) this.#breaker.failed();
      else this.#breaker.succeeded();
      throw error;
    }
  }

  /** One call, retried once when WeChat is busy, slow or answers garbage. */
  async #callRetried(call: Call): Promise<Json> {
    try {
      return await this.#callOnce(call);
    } catch (error) {
      if (!(error instanceof WeChatError) || !error.retryable || (call.singleUse && error.errcode !== BUSY)) throw error;
      this.#options.log.warn({ wechat: { path: call.path, errcode: error.errcode, rid: error.requestId } },
        'WeChat call failed, retrying once');
      return this.#callOnce(call);
    }
  }

  async #callOnce(call: Call): Promise<Json> {
    const { path } = call;
    const started = performance.now();
    const observe = (errcode?: number | string) => this.#options.observe?.(path, elapsed(started) / 1000, errcode);
    const text = await this.#fetch(call, started, observe);
    let body: Json;
    try {
      body = parseJson(text);
    } catch (error) {
      observe('malformed');
      throw error;
    }
    const rid = requestIdOf(body.errmsg);
    if (body.errcode !== undefined && body.errcode !== 0 && body.errcode !== '0') {
      const errcode = errcodeOf(body.errcode);
      if (errcode === undefined) {
        observe('malformed');
        throw malformed('errcode', body);
      }
      const error = errorFromErrcode(errcode, typeof body.errmsg === 'string' ? body.errmsg : '');
      this.#options.log.warn({ wechat: { path, errcode: error.errcode, rid, ms: elapsed(started) } }, 'WeChat refused the call');
      observe(error.errcode);
      throw error;
    }
    this.#options.log.debug({ wechat: { path, rid, ms: elapsed(started) } }, 'WeChat call');
    observe();
    return body;
  }

  /** The body of WeChat's answer; WeChatUnavailableError when there is none to read. */
  async #fetch({ path, params, body }: Call, started: number, observe: (errcode: string) => void): Promise<string> {
    const url = new URL(path, this.#options.apiUrl);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(this.#options.timeoutMs),
        headers: { accept: 'application/json, text/plain, */*', ...(body ? { 'content-type': 'application/json' } : {}) },
        redirect: 'error',
        ...(body ? { method: 'POST', body: JSON.stringify(body) } : {}),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new WeChatUnavailableError(`WeChat answered HTTP ${response.status}`);
      }
      return await readCapped(response, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof WeChatError) {
        observe('http');
        throw error;
      }
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable';
      this.#options.log.warn({ wechat: { path, ms: elapsed(started) } }, `WeChat ${reason}`);
      observe(reason);
      throw new WeChatUnavailableError(`WeChat ${reason}`);
    }
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** WeChat sends JSON as text/plain or text/html; an empty or non-object body is garbage. */
function parseJson(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WeChatUnavailableError('WeChat answered something that is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeChatUnavailableError('WeChat answered JSON that is not an object');
  }
  return value as Json;
}

/** An errcode is a whole number, sometimes sent as a string; anything else is not WeChat's. */
function errcodeOf(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(number) ? number : undefined;
}

export function malformed(what: string, body: Json): WeChatUnavailableError {
  return new WeChatUnavailableError(`WeChat answer without a valid ${what}`,
    { requestId: requestIdOf(body.errmsg) });
}

/** A positive whole number of seconds (`expires_in`, sometimes sent as a string). */
export function expiresInOf(body: Json, field = 'expires_in'): number {
  const value = body[field];
  const seconds = typeof value === 'string' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0) throw malformed(field, body);
  return seconds;
}
