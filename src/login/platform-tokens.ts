// What a third-party platform (第三方平台) needs to act for the Official Accounts that
// authorized it: the component_verify_ticket WeChat pushes every 10 minutes (valid 12 h),
// and the component_access_token made from it (valid 2 h). Both live in shared storage, so
// every instance and a restart have them. Quotas are per day: a token is fetched only when
// none is left with 10 minutes to live (WeChat's advice is to renew shortly before the two
// hours end), and by one instance at a time, holding a lock (in Redis when Redis is
// configured); the others keep using the token in force, or wait for the new one.

import type { PlatformApp } from '../config/apps-file.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatComponentTokenError, WeChatTicketError, WeChatUnavailableError } from '../wechat/errors.ts';

export const TICKET_MODEL = 'WeChatPlatformTicket';
export const TOKEN_MODEL = 'WeChatComponentToken';
export const LOCK_MODEL = 'WeChatLock';
const TICKET_TTL_S = 12 * 60 * 60;
/** A token with less left than this is renewed. */
const RENEW_BEFORE_MS = 10 * 60_000;
/** Longer than a WeChat call with its one retry may take; a crashed holder frees it then. */
const LOCK_TTL_S = 30;
/** How long an instance without a usable token waits for the one another instance fetches. */
const WAIT_MS = 10_000;
const POLL_MS = 100;

interface StoredToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export type PlatformState = 'ready' | 'waiting for the first component_verify_ticket';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PlatformTokens {
  readonly #platforms: ReadonlyMap<string, PlatformApp>;
  readonly #tickets: StorageAdapter;
  readonly #tokens: StorageAdapter;
  readonly #locks: StorageAdapter;
  readonly #wechat: WeChatClient;
  readonly #log: Logger;

  constructor(platforms: readonly PlatformApp[], storage: { adapter(model: string): StorageAdapter }, wechat: WeChatClient, log: Logger) {
    this.#platforms = new Map(platforms.map((platform) => [platform.id, platform]));
    [this.#tickets, this.#tokens, this.#locks] = [TICKET_MODEL, TOKEN_MODEL, LOCK_MODEL].map((model) => storage.adapter(model)) as [StorageAdapter, StorageAdapter, StorageAdapter];
    this.#wechat = wechat;
    this.#log = log;
  }

  /** Keeps the ticket WeChat just pushed (it replaces the previous one). */
  async keepTicket(id: string, ticket: string): Promise<void> {
    await this.#tickets.upsert(id, { ticket }, TICKET_TTL_S);
  }

  /** The platform's current component_verify_ticket, if WeChat pushed one in the last 12 hours. */
  async ticket(id: string): Promise<string | undefined> {
    const stored = await this.#tickets.find(id);
    return typeof stored?.ticket === 'string' ? stored.ticket : undefined;
  }

  /** Whether logins through the platform can work now: a token in force, or a ticket to make one. */
  async state(id: string): Promise<PlatformState> {
    return await this.#stored(id) || await this.ticket(id) ? 'ready' : 'waiting for the first component_verify_ticket';
  }

  /** Every platform's state, for /readyz and the startup log. */
  async states(): Promise<Record<string, PlatformState>> {
    const ids = [...this.#platforms.keys()];
    return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await this.state(id)] as const)));
  }

  /** A component_access_token with at least 10 minutes to live; WeChatTicketError while there is no ticket. */
  async token(id: string): Promise<string> {
    const current = await this.#stored(id);
    if (current && current.expiresAt - Date.now() > RENEW_BEFORE_MS) return current.token;
    return this.#renew(id, current?.token, current);
  }

  /** `call` with the platform's token; a token WeChat refuses is renewed once (another instance may hold a newer one). */
  async withToken<T>(id: string, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token(id);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof WeChatComponentTokenError)) throw error;
      this.#log.warn({ platform: id, errcode: error.errcode, rid: error.requestId }, 'WeChat refused the component_access_token: renewing it once');
      return call(await this.renewed(id, token));
    }
  }

  /** A token other than `refused`, which WeChat just refused: fetched anew unless another instance already did. */
  async renewed(id: string, refused: string): Promise<string> {
    const current = await this.#stored(id);
    if (current && current.token !== refused) return current.token;
    return this.#renew(id, refused, undefined);
  }

  async #stored(id: string): Promise<StoredToken | undefined> {
    const stored = await this.#tokens.find(id);
    return typeof stored?.token === 'string' && typeof stored.expiresAt === 'number' && stored.expiresAt > Date.now()
      ? { token: stored.token, expiresAt: stored.expiresAt } : undefined;
  }

  /**
   * A token other than `stale`: fetched by whichever instance takes the lock; the others
   * use `inForce` meanwhile, or wait for the holder's token (or the lock, if it fails).
   */
  async #renew(id: string, stale: string | undefined, inForce: StoredToken | undefined): Promise<string> {
    const lock = `component-token:${id}`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (await this.#locks.insert(lock, { at: Date.now() }, LOCK_TTL_S)) {
        try {
          return await this.#fetch(id, stale);
        } finally {
          await this.#locks.destroy(lock);
        }
      }
      if (inForce) return inForce.token;
      const stored = await this.#stored(id);
      if (stored && stored.token !== stale) return stored.token;
      if (Date.now() >= deadline) throw new WeChatUnavailableError('another instance is fetching the component_access_token and has not finished');
      await sleep(POLL_MS);
    }
  }

  async #fetch(id: string, stale: string | undefined): Promise<string> {
    // Another instance may have renewed between this one's read and its lock.
    const now = await this.#stored(id);
    if (now && now.token !== stale && now.expiresAt - Date.now() > RENEW_BEFORE_MS) return now.token;
    const platform = this.#platforms.get(id);
    const ticket = await this.ticket(id);
    if (!platform || !ticket) throw new WeChatTicketError(`third-party platform ${id} has no component_verify_ticket yet`);
    try {
      const fresh = await this.#wechat.componentToken(platform, ticket);
      await this.#tokens.upsert(id, { token: fresh.accessToken, expiresAt: Date.now() + fresh.expiresIn * 1000 }, fresh.expiresIn);
      this.#log.info({ platform: id, expiresIn: fresh.expiresIn }, 'component_access_token renewed');
      return fresh.accessToken;
    } catch (error) {
      // 61005/61006: the ticket is of no use; the next push brings a good one.
      if (error instanceof WeChatTicketError) await this.#tickets.destroy(id);
      throw error;
    }
  }
}
