// What a third-party platform (第三方平台) needs to act for the Official Accounts that
// authorized it: the component_verify_ticket WeChat pushes every 10 minutes (valid 12 h),
// and the component_access_token made from it (valid 2 h). Both live in shared storage, so
// every instance and a restart have them; the token is renewed by one instance at a time
// (storage/shared-tokens.ts), since quotas are per day.

import type { PlatformApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { SharedTokens, SharedTokenTimeoutError, type FreshToken, type SharedTokenOptions } from '../storage/shared-tokens.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatTokenRefusedError, WeChatTicketError, WeChatUnavailableError } from '../wechat/errors.ts';

export const TICKET_MODEL = 'WeChatPlatformTicket';
export const TOKEN_MODEL = 'WeChatComponentToken';
export const LOCK_MODEL = 'WeChatLock';
const TICKET_TTL_S = 12 * 60 * 60;
/**
 * Renewed when less than 10 minutes are left (WeChat's advice: shortly before the two hours
 * end); the lock outlives a WeChat call with its one retry; waiters give up after 10 s.
 */
export const WECHAT_TOKEN_SHARING: SharedTokenOptions = { renewBeforeMs: 10 * 60_000, lockTtlS: 30, waitMs: 10_000 };

/**
 * `call` with a WeChat token kept in `tokens` under `key`: one WeChat refuses is renewed once
 * (`refused` tells the operator), and no instance finishing a fetch in time is WeChat's
 * unavailability, like any other.
 */
export async function withWeChatToken<T>(
  tokens: SharedTokens, key: string, fetch: () => Promise<FreshToken>, call: (token: string) => Promise<T>, refused: (error: WeChatTokenRefusedError) => void,
): Promise<T> {
  try {
    return await tokens.use(key, fetch, call, (error) => {
      if (!(error instanceof WeChatTokenRefusedError)) return false;
      refused(error);
      return true;
    });
  } catch (error) {
    if (error instanceof SharedTokenTimeoutError) throw new WeChatUnavailableError(error.message);
    throw error;
  }
}

export type PlatformState = 'ready' | 'waiting for the first component_verify_ticket';

export class PlatformTokens {
  readonly #platforms: ReadonlyMap<string, PlatformApp>;
  readonly #tickets: StorageAdapter;
  readonly #tokens: SharedTokens;
  readonly #wechat: WeChatClient;
  readonly #log: Logger;

  constructor(platforms: readonly PlatformApp[], storage: { adapter(model: string): StorageAdapter }, wechat: WeChatClient, log: Logger) {
    this.#platforms = new Map(platforms.map((platform) => [platform.id, platform]));
    this.#tickets = storage.adapter(TICKET_MODEL);
    this.#tokens = new SharedTokens(TOKEN_MODEL, storage, storage.adapter(LOCK_MODEL), WECHAT_TOKEN_SHARING);
    this.#wechat = wechat;
    this.#log = log;
  }

  /** Keeps the ticket WeChat just pushed (it replaces the previous one). */
  async keepTicket(id: string, ticket: string): Promise<void> {
    await this.#tickets.upsert(id, { ticket, receivedAt: Date.now() }, TICKET_TTL_S);
  }

  /** When WeChat last pushed the platform's ticket (ms since the epoch), if within 12 hours; it pushes one every 10 minutes. */
  async ticketReceivedAt(id: string): Promise<number | undefined> {
    const stored = await this.#tickets.find(id);
    return typeof stored?.receivedAt === 'number' ? stored.receivedAt : undefined;
  }

  /** The platform's current component_verify_ticket, if WeChat pushed one in the last 12 hours. */
  async ticket(id: string): Promise<string | undefined> {
    const stored = await this.#tickets.find(id);
    return typeof stored?.ticket === 'string' ? stored.ticket : undefined;
  }

  /** Whether logins through the platform can work now: a token in force, or a ticket to make one. */
  async state(id: string): Promise<PlatformState> {
    return await this.#tokens.has(id) || await this.ticket(id) ? 'ready' : 'waiting for the first component_verify_ticket';
  }

  /** Every platform's state, for /readyz and the startup log. */
  async states(): Promise<Record<string, PlatformState>> {
    const ids = [...this.#platforms.keys()];
    return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await this.state(id)] as const)));
  }

  /** A component_access_token with at least 10 minutes to live; WeChatTicketError while there is no ticket. */
  async token(id: string): Promise<string> {
    return this.withToken(id, async (token) => token);
  }

  /** `call` with the platform's token; a token WeChat refuses is renewed once (another instance may hold a newer one). */
  async withToken<T>(id: string, call: (token: string) => Promise<T>): Promise<T> {
    return withWeChatToken(this.#tokens, id, () => this.#fetch(id), call, (error) => {
      this.#log.warn({ platform: id, errcode: error.errcode, rid: error.requestId }, 'WeChat refused the component_access_token: renewing it once');
    });
  }

  async #fetch(id: string): Promise<FreshToken> {
    const platform = this.#platforms.get(id);
    const ticket = await this.ticket(id);
    if (!platform || !ticket) throw new WeChatTicketError(`third-party platform ${id} has no component_verify_ticket yet`);
    try {
      const fresh = await this.#wechat.componentToken(platform, ticket);
      this.#log.info({ platform: id, expiresIn: fresh.expiresIn }, 'component_access_token renewed');
      return { token: fresh.accessToken, expiresIn: fresh.expiresIn };
    } catch (error) {
      // 61005/61006: the ticket is of no use; the next push brings a good one. Only this
      // ticket is dropped: one WeChat pushed meanwhile stays.
      if (error instanceof WeChatTicketError && await this.ticket(id) === ticket) await this.#tickets.destroy(id);
      throw error;
    }
  }
}
