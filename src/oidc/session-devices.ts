// Which browser or device each login session is held in ("Chrome · Windows", "WeChat ·
// iOS") and when it was last used to log in to an app, so that the person's list of where
// they are logged in names each one (and can log the right one out), as the account pages of
// Keycloak and the big platforms do. oidc-provider's sessions keep only what its protocol
// needs (a session saves only its own fields), so this is a record of its own, keyed by the
// session's uid, written whenever oidc-provider saves a person's session at its
// authorization endpoint (a login, or an app's single sign-on in that browser) and living
// exactly as long as the session then does; a session ended at logout, or by the person,
// an operator or an erasure (account-records.ts), takes it along. Only http/browser-name.ts's
// fixed words are kept, never the User-Agent.

import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { browserName } from '../http/browser-name.ts';
import type { Logger } from '../log.ts';
import type { ProtocolStorage, StorageAdapter } from '../storage/adapter.ts';

export const SESSION_DEVICE_MODEL = 'SessionDevice';

/** A session's browser or device, as the person's page shows it. */
export interface SessionDevice {
  /** http/browser-name.ts's words for it. */
  readonly name: string;
  /** The last login or single sign-on in it (ms since the epoch). */
  readonly usedAt: number;
}

/** The routes at which oidc-provider saves a person's session after a login or a single sign-on. */
const SAVING_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume', 'code_verification', 'device_resume']);

/** What a session looks like to this module once oidc-provider's route has handled it. */
interface SeenSession {
  readonly uid?: string;
  readonly accountId?: string;
  readonly exp?: number;
  readonly destroyed?: boolean;
}

export class SessionDevices {
  readonly #records: StorageAdapter;

  constructor(storage: ProtocolStorage) {
    this.#records = storage.adapter(SESSION_DEVICE_MODEL);
  }

  /** The devices of the sessions `uids` (those known). */
  async of(uids: readonly string[]): Promise<Map<string, SessionDevice>> {
    const found = await Promise.all(uids.map(async (uid) => [uid, await this.#records.find(uid)] as const));
    return new Map(found.flatMap(([uid, payload]) => (typeof payload?.name === 'string' && typeof payload.usedAt === 'number'
      ? [[uid, { name: payload.name, usedAt: payload.usedAt }] as const] : [])));
  }

  async forget(uids: readonly string[]): Promise<void> {
    await Promise.all(uids.map((uid) => this.#records.destroy(uid)));
  }

  /** After oidc-provider's route: notes the browser of the person's session it saved, or forgets the one it ended. */
  async #afterRoute(ctx: KoaContextWithOIDC): Promise<void> {
    const route = ctx.oidc?.route;
    const session = ctx.oidc?.session as SeenSession | undefined;
    if (!route || !session?.uid) return;
    if (session.destroyed) return this.#records.destroy(session.uid);
    const ttlS = (session.exp ?? 0) - Math.floor(Date.now() / 1000);
    if (!SAVING_ROUTES.has(route) || !session.accountId || ttlS <= 0) return;
    await this.#records.upsert(session.uid, { name: browserName(ctx.get('user-agent')), usedAt: Date.now() }, ttlS);
  }

  /** The step that keeps the records, after oidc-provider's own routes; a storage failure costs the person's request nothing (and is logged). */
  middleware(log: Logger): Middleware {
    return async (ctx, next) => {
      await next();
      await this.#afterRoute(ctx as KoaContextWithOIDC).catch((error: Error) => log.warn({ reason: error.message }, 'session device not recorded'));
    };
  }
}
