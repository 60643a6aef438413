// An Official Account's own access token, for follow-to-login's calls (parametric QR codes,
// user/info). It comes from `/cgi-bin/stable_token`, which returns the token in force and
// never invalidates the one the account's owner (or anyone else) uses; it is shared across
// instances and renewed by one at a time (storage/shared-tokens.ts), and a token WeChat
// refuses is renewed once. The broker never calls `/cgi-bin/token`.

import type { ConfiguredApp } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { SharedTokens, SharedTokenTimeoutError } from '../storage/shared-tokens.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatRequestError, WeChatTokenRefusedError, WeChatUnavailableError } from '../wechat/errors.ts';
import type { DirectApp } from '../wechat/types.ts';
import { LOCK_MODEL, WECHAT_TOKEN_SHARING } from './platform-tokens.ts';

export const ACCOUNT_TOKEN_MODEL = 'WeChatAccountToken';

export class AccountTokens {
  readonly #tokens: SharedTokens;
  readonly #wechat: WeChatClient;
  readonly #log: Logger;

  constructor(storage: { adapter(model: string): StorageAdapter }, wechat: WeChatClient, log: Logger) {
    this.#tokens = new SharedTokens(ACCOUNT_TOKEN_MODEL, storage, storage.adapter(LOCK_MODEL), WECHAT_TOKEN_SHARING);
    this.#wechat = wechat;
    this.#log = log;
  }

  /** `call` with the account's token. */
  async withToken<T>(app: ConfiguredApp, call: (token: string) => Promise<T>): Promise<T> {
    if (app.secret === undefined) throw new WeChatRequestError(`${app.id} has no secret of its own for an access token`);
    const direct: DirectApp = app;
    try {
      return await this.#tokens.use(app.id, async () => {
        const fresh = await this.#wechat.stableToken(direct);
        this.#log.info({ app: app.id, expiresIn: fresh.expiresIn }, 'Official Account access token fetched (stable_token)');
        return { token: fresh.accessToken, expiresIn: fresh.expiresIn };
      }, call, (error) => {
        if (!(error instanceof WeChatTokenRefusedError)) return false;
        this.#log.warn({ app: app.id, errcode: error.errcode, rid: error.requestId }, 'WeChat refused the Official Account access token: fetching it once more');
        return true;
      });
    } catch (error) {
      if (error instanceof SharedTokenTimeoutError) throw new WeChatUnavailableError(error.message);
      throw error;
    }
  }
}
