// The WeChat API client: the only code that talks to WeChat's `/sns/*` endpoints.
// Every answer is HTTP 200 with a JSON body whatever its Content-Type; failures carry a
// non-zero errcode. URLs hold the app secret and the code, so they are never logged.

import type { Logger } from 'pino';
import {
  errorFromErrcode, requestIdOf, WeChatError, WeChatUnavailableError,
} from './errors.ts';
import type {
  Openid, Unionid, WeChatApp, WeChatProfile, WeChatToken,
} from './types.ts';
import { isWeChatId } from './types.ts';

export interface WeChatClientOptions {
  /** Base of WeChat's APIs, e.g. https://api.weixin.qq.com */
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Told of every call: its path, how long it took, and the errcode (or failure) if any. */
  readonly observe?: (path: string, seconds: number, errcode?: number | string) => void;
}

export type ProfileLang = 'zh_CN' | 'zh_TW' | 'en';

type Json = Record<string, unknown>;

export class WeChatClient {
  readonly #options: WeChatClientOptions;

  constructor(options: WeChatClientOptions) {
    this.#options = options;
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

  /** One call, retried once when WeChat is busy, slow or answers garbage. */
  async #call(path: string, params: Record<string, string>): Promise<Json> {
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
    const { apiUrl, timeoutMs, log } = this.#options;
    const url = new URL(path, apiUrl);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const started = performance.now();
    let text: string;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json, text/plain, */*' },
        redirect: 'error',
      });
      text = await response.text();
      if (response.status !== 200) {
        throw new WeChatUnavailableError(`WeChat answered HTTP ${response.status}`);
      }
    } catch (error) {
      if (error instanceof WeChatError) {
        this.#options.observe?.(path, elapsed(started) / 1000, 'http');
        throw error;
      }
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable';
      log.warn({ wechat: { path, ms: elapsed(started) } }, `WeChat ${reason}`);
      this.#options.observe?.(path, elapsed(started) / 1000, reason);
      throw new WeChatUnavailableError(`WeChat ${reason}`);
    }
    let body: Json;
    try {
      body = parseJson(text);
    } catch (error) {
      this.#options.observe?.(path, elapsed(started) / 1000, 'malformed');
      throw error;
    }
    const errcode = body.errcode;
    const rid = requestIdOf(body.errmsg);
    if (errcode !== undefined && errcode !== 0 && errcode !== '0') {
      const error = errorFromErrcode(Number(errcode), String(body.errmsg ?? ''));
      log.warn({ wechat: { path, errcode: error.errcode, rid, ms: elapsed(started) } }, 'WeChat refused the call');
      this.#options.observe?.(path, elapsed(started) / 1000, error.errcode);
      throw error;
    }
    log.debug({ wechat: { path, rid, ms: elapsed(started) } }, 'WeChat call');
    this.#options.observe?.(path, elapsed(started) / 1000);
    return body;
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
  const { access_token: accessToken, refresh_token: refreshToken, openid, scope } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw malformed('access_token', body);
  if (!isWeChatId(openid)) throw malformed('openid', body);
  const expiresIn = Number(body.expires_in);
  return {
    accessToken,
    expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 7200,
    refreshToken: typeof refreshToken === 'string' ? refreshToken : '',
    openid: openid as Openid,
    scope: typeof scope === 'string' ? scope : '',
    unionid: optionalId<Unionid>(body.unionid, 'unionid', body),
    snapshotUser: body.is_snapshotuser === 1 || body.is_snapshotuser === '1',
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
