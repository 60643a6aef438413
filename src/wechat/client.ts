// The WeChat API client: the only code that talks to WeChat's `/sns/*` endpoints.
// Every answer is HTTP 200 with a JSON body whatever its Content-Type; failures carry a
// non-zero errcode. URLs hold the app secret and the code, so they are never logged.

import type { Logger } from 'pino';
import { httpsAvatar } from './avatar.ts';
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
}

export type ProfileLang = 'zh_CN' | 'zh_TW' | 'en';

type Json = Record<string, unknown>;

export class WeChatClient {
  readonly #options: WeChatClientOptions;

  constructor(options: WeChatClientOptions) {
    this.#options = options;
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
      const error = errorFromErrcode(Number(body.errcode), String(body.errmsg ?? ''));
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
      const text = await response.text();
      if (response.status !== 200) throw new WeChatUnavailableError(`WeChat answered HTTP ${response.status}`);
      return text;
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
