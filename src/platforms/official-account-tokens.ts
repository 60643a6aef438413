// An Official Account's own access token, for follow-to-login's calls (parametric QR codes,
// user/info), and a mini program's, for its phone numbers (the same kind of token). With its own secret: `/cgi-bin/stable_token`, which returns the token in
// force and never invalidates the one the account's owner (or anyone else) uses. Through a
// third-party platform: the authorizer token (`api_authorizer_token`), made from the
// refresh token that the account's authorization gave (kept when WeChat reports the
// authorization, dropped when the account withdraws it). The refresh token lives with the
// accounts (durable storage: MongoDB where the accounts are there), sealed under DATA_KEYS;
// one that is missing or no key opens (an evicting Redis, a retired key) is asked of WeChat
// again (`api_get_authorizer_info`) before anyone is told to re-authorize. Either way the token is shared
// across instances and renewed by one at a time (storage/shared-tokens.ts), and a token
// WeChat refuses is renewed once. The broker never calls `/cgi-bin/token`.

import type { PlatformApp } from '../wechat/apps.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { Sealer } from '../storage/sealing.ts';
import { SharedTokens, type FreshToken } from '../storage/shared-tokens.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatAuthorizationLapsedError } from '../wechat/errors.ts';
import type { AppId } from '../wechat/types.ts';
import { LOCK_MODEL, WECHAT_TOKEN_SHARING, withWeChatToken, type PlatformTokens } from './platform-tokens.ts';

export const ACCOUNT_TOKEN_MODEL = 'WeChatAccountToken';
/** Authorizations of the company's platforms: the refresh token, by `<platform id>:<account appid>`. */
export const AUTHORIZATION_MODEL = 'WeChatAuthorization';

export interface AccountTokenParts {
  readonly platforms: readonly PlatformApp[];
  readonly platformTokens: PlatformTokens;
  readonly storage: { adapter(model: string): StorageAdapter };
  /** Where the accounts are: the authorizations live there. */
  readonly durable: { adapter(model: string): StorageAdapter };
  /** Seals the refresh tokens (DATA_KEYS). */
  readonly sealer: Sealer;
  readonly wechat: WeChatClient;
  readonly log: Logger;
}

export class OfficialAccountTokens {
  readonly #parts: AccountTokenParts;
  readonly #tokens: SharedTokens;
  readonly #authorizations: StorageAdapter;

  constructor(parts: AccountTokenParts) {
    this.#parts = parts;
    this.#tokens = new SharedTokens(ACCOUNT_TOKEN_MODEL, parts.storage, parts.storage.adapter(LOCK_MODEL), WECHAT_TOKEN_SHARING);
    this.#authorizations = parts.durable.adapter(AUTHORIZATION_MODEL);
  }

  /** `call` with the account's token. */
  async withToken<T>(app: ConfiguredApp, call: (token: string) => Promise<T>): Promise<T> {
    return withWeChatToken(this.#tokens, app.id, () => this.#fetch(app), call, (error) => {
      this.#parts.log.warn({ app: app.id, errcode: error.errcode, rid: error.requestId }, 'WeChat refused the account\'s access token: fetching it once more');
    });
  }

  /** An account authorized the platform (WeChat's push or redirect carried the code): its refresh token is kept. */
  async authorized(platformId: string, authorizationCode: string): Promise<AppId | undefined> {
    const platform = this.#parts.platforms.find((candidate) => candidate.id === platformId);
    if (!platform) return undefined;
    const auth = await this.#parts.platformTokens.withToken(platformId, (token) => this.#parts.wechat.queryAuth(platform.appid, token, authorizationCode));
    await this.#keep(`${platformId}:${auth.authorizer}`, auth.refreshToken);
    this.#parts.log.info({ platform: platformId, authorizer: auth.authorizer }, 'Official Account authorization kept');
    return auth.authorizer;
  }

  /** The account withdrew its authorization of the platform. */
  async unauthorized(platformId: string, authorizer: string): Promise<void> {
    await this.#authorizations.destroy(`${platformId}:${authorizer}`);
  }

  async #fetch(app: ConfiguredApp): Promise<FreshToken> {
    if (app.secret !== undefined) {
      const fresh = await this.#parts.wechat.stableToken(app);
      this.#parts.log.info({ app: app.id, expiresIn: fresh.expiresIn }, 'account access token fetched (stable_token)');
      return { token: fresh.accessToken, expiresIn: fresh.expiresIn };
    }
    return this.#authorizerToken(app, app.via ?? '');
  }

  /** The refresh token, sealed for this authorization alone (its key is the purpose: another record cannot stand in). */
  async #keep(key: string, refreshToken: string): Promise<void> {
    await this.#authorizations.upsert(key, { refreshToken: this.#parts.sealer.seal(refreshToken, key) });
  }

  /** The authorization's refresh token: kept, or (missing, or sealed under a retired key) asked of WeChat again. */
  async #refreshToken(app: ConfiguredApp & { readonly component: AppId }, platformId: string, key: string): Promise<string> {
    const kept = this.#parts.sealer.open((await this.#authorizations.find(key))?.refreshToken, key);
    if (kept !== undefined) return kept;
    const again = (await this.#parts.platformTokens.withToken(platformId, (token) => this.#parts.wechat.authorization(app.component, token, app.appid))).refreshToken;
    if (again === undefined) {
      throw new WeChatAuthorizationLapsedError(`no authorization of ${app.id} to platform ${platformId} is recorded, and WeChat gave none: the owner must authorize the platform`);
    }
    await this.#keep(key, again);
    this.#parts.log.warn({ app: app.id, platform: platformId }, 'authorizer refresh token was not in storage: fetched again from WeChat (api_get_authorizer_info)');
    return again;
  }

  /** Through the platform: the refresh token kept at authorization makes the token (and the next refresh token). */
  async #authorizerToken(app: ConfiguredApp & { readonly component: AppId }, platformId: string): Promise<FreshToken> {
    const key = `${platformId}:${app.appid}`;
    const refreshToken = await this.#refreshToken(app, platformId, key);
    const fresh = await this.#parts.platformTokens.withToken(platformId, (token) => this.#parts.wechat.authorizerToken(app.component, token, app.appid, refreshToken));
    await this.#keep(key, fresh.refreshToken);
    this.#parts.log.info({ app: app.id, platform: platformId, expiresIn: fresh.expiresIn }, 'authorizer access token fetched');
    return { token: fresh.accessToken, expiresIn: fresh.expiresIn };
  }
}
