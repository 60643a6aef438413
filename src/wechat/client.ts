// The WeChat API client: the only code that talks to WeChat's `/sns/*` endpoints.
// Every answer is HTTP 200 with a JSON body whatever its Content-Type; failures carry a
// non-zero errcode. URLs hold the app secret and the code, so they are never logged.

import type { Logger } from 'pino';
import { httpsAvatar } from './avatar.ts';
import { CircuitBreaker, type BreakerOptions } from './breaker.ts';
import {
  errorFromErrcode, requestIdOf, WeChatError, WeChatSnapshotUserError, WeChatUnavailableError,
} from './errors.ts';
import type {
  Openid, Unionid, WeChatApp, WeChatProfile, WeChatScope, WeChatToken, WeChatUser,
} from './types.ts';
import { isWeChatId } from './types.ts';

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

export type ProfileLang = 'zh_CN' | 'zh_TW' | 'en';

type Json = Record<string, unknown>;

export class WeChatClient {
  readonly #options: WeChatClientOptions;
  readonly #breaker: CircuitBreaker;

  constructor(options: WeChatClientOptions) {
    this.#options = options;
    this.#breaker = new CircuitBreaker(options.breaker ?? { failures: 5, openMs: 30_000 });
  }

  /** False while WeChat keeps failing (the circuit is open): logins should not start. */
  get available(): boolean {
    return this.#breaker.closed;
  }

  /**
   * The whole upstream part of a login in one call: code → token → (profile, when the
   * scope gives one) → the person. A snapshot-page user is WeChatSnapshotUserError; every
   * other failure is the WeChatError of its errcode.
   */
  async signIn(app: WeChatApp, scope: WeChatScope, code: string, lang: ProfileLang): Promise<WeChatUser> {
    const token = await this.exchangeCode(app, code);
    if (token.snapshotUser) throw new WeChatSnapshotUserError('a snapshot-page user has no real identity');
    const profile = scope === 'snsapi_base' ? undefined : await this.profile(token.accessToken, token.openid, lang);
    return {
      appid: app.appid,
      openid: token.openid,
      unionid: token.unionid ?? profile?.unionid,
      profile: profile && { nickname: profile.nickname, avatar: httpsAvatar(profile.headimgurl) },
    };
  }

  /** Code → token (`/sns/oauth2/access_token`). */
  async exchangeCode(app: WeChatApp, code: string): Promise<WeChatToken> {
    const body = await this.#call('/sns/oauth2/access_token', {
      appid: app.appid, secret: app.secret, code, grant_type: 'authorization_code',
    });
    return parseToken(body);
  }

  /** Profile (`/sns/userinfo`); a snsapi_base token gets WeChatScopeError (48001). */
  async profile(accessToken: string, openid: Openid, lang: ProfileLang): Promise<WeChatProfile> {
    const body = await this.#call('/sns/userinfo', { access_token: accessToken, openid, lang });
    return parseProfile(body);
  }

  /** One call through the breaker. */
  async #call(path: string, params: Record<string, string>): Promise<Json> {
    if (!this.#breaker.allow()) throw new WeChatUnavailableError('WeChat keeps failing: not calling it for now');
    try {
      const body = await this.#callRetried(path, params);
      this.#breaker.succeeded();
      return body;
    } catch (error) {
      if (error instanceof WeChatUnavailableError) this.#breaker.failed();
      else this.#breaker.succeeded();
      throw error;
    }
  }

  /** One call, retried once when WeChat is busy, slow or answers garbage. */
  async #callRetried(path: string, params: Record<string, string>): Promise<Json> {
    try {
      return await this.#callOnce(path, params);
    } catch (error) {
      if (!(error instanceof WeChatError) || !error.retryable) throw error;
      this.#options.log.warn({ wechat: { path, errcode: error.errcode, rid: error.requestId } },
        'WeChat call failed, retrying once');
      return this.#callOnce(path, params);
    }
  }

  async #callOnce(path: string, params: Record<string, string>): Promise<Json> {
    const started = performance.now();
    const observe = (errcode?: number | string) => this.#options.observe?.(path, elapsed(started) / 1000, errcode);
    const text = await this.#fetch(path, params, started, observe);
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
  async #fetch(path: string, params: Record<string, string>, started: number, observe: (errcode: string) => void): Promise<string> {
    const url = new URL(path, this.#options.apiUrl);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(this.#options.timeoutMs),
        headers: { accept: 'application/json, text/plain, */*' },
        redirect: 'error',
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

function malformed(what: string, body: Json): WeChatUnavailableError {
  return new WeChatUnavailableError(`WeChat answer without a valid ${what}`,
    { requestId: requestIdOf(body.errmsg) });
}

function optionalId<T extends string>(value: unknown, what: string, body: Json): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isWeChatId(value)) throw malformed(what, body);
  return value as T;
}

function parseToken(body: Json): WeChatToken {
  const { access_token: accessToken, openid } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw malformed('access_token', body);
  if (!isWeChatId(openid)) throw malformed('openid', body);
  return {
    accessToken,
    openid: openid as Openid,
    unionid: optionalId<Unionid>(body.unionid, 'unionid', body),
    // WeChat documents 1; some answers carry true or "1".
    snapshotUser: body.is_snapshotuser === 1 || body.is_snapshotuser === '1' || body.is_snapshotuser === true,
  };
}

function parseProfile(body: Json): WeChatProfile {
  const { openid, nickname, headimgurl } = body;
  if (!isWeChatId(openid)) throw malformed('openid', body);
  return {
    openid: openid as Openid,
    unionid: optionalId<Unionid>(body.unionid, 'unionid', body),
    nickname: typeof nickname === 'string' ? nickname : '',
    headimgurl: typeof headimgurl === 'string' && headimgurl !== '' ? headimgurl : undefined,
  };
}
