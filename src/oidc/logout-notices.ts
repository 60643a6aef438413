// OpenID Connect Back-Channel Logout 1.0 deliveries, off the path of the action that
// causes them. oidc-provider's end_session awaits every delivery before it answers the
// person; here a delivery is queued and the action goes on. A delivery that fails (no
// answer, or not 200/204: section 2.8) is tried again a bounded number of times, then
// given up, each step logged. The logout token itself is oidc-provider's
// (Client#backchannelLogout: section 2.4, signed like an ID token).

import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';

/** The outcome of one delivery, for a metric. */
export type NoticeOutcome = 'delivered' | 'retrying' | 'failed';

/** Delays before each attempt: the first at once, then backing off; four attempts in all. */
export const NOTICE_DELAYS_MS = [0, 2_000, 15_000, 60_000] as const;

/** The part of oidc-provider's Client a delivery uses (its types leave backchannelLogout out). */
export interface NotifiedClient {
  readonly clientId: string;
  readonly backchannelLogoutUri?: string;
  readonly backchannelLogoutSessionRequired?: boolean;
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

export class LogoutNotices {
  readonly #log: Logger;
  readonly #observe: (outcome: NoticeOutcome) => void;
  readonly #delays: readonly number[];
  readonly #pending = new Set<Promise<void>>();

  constructor(log: Logger, observe: (outcome: NoticeOutcome) => void = () => {}, delays: readonly number[] = NOTICE_DELAYS_MS) {
    this.#log = log;
    this.#observe = observe;
    this.#delays = delays;
  }

  /**
   * Queues a logout token for `sub` (and the client's `sid` in the session ended, when
   * there is one) to the client's backchannel_logout_uri; nothing for a client without
   * one, or one that requires a sid when there is no session (section 2.2).
   */
  send(client: NotifiedClient, sub: string, sid: string | undefined, deliver = client.backchannelLogout.bind(client)): void {
    if (!client.backchannelLogoutUri || (client.backchannelLogoutSessionRequired && !sid)) return;
    const delivery = this.#deliver(client.clientId, () => deliver(sub, sid)).finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
  }

  /** Resolves when every queued delivery has been delivered or given up. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async #deliver(client: string, attempt: () => Promise<void>): Promise<void> {
    for (const [index, delay] of this.#delays.entries()) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
      try {
        await attempt();
        this.#observe('delivered');
        this.#log.info({ client, attempt: index + 1 }, 'back-channel logout delivered');
        return;
      } catch (error) {
        const last = index === this.#delays.length - 1;
        this.#observe(last ? 'failed' : 'retrying');
        this.#log.warn({ client, attempt: index + 1, reason: (error as Error).message }, last
          ? 'back-channel logout not delivered: given up' : 'back-channel logout not delivered: will try again');
      }
    }
  }

  /**
   * Routes oidc-provider's own deliveries (at the end of a session) through this queue,
   * so that a slow or broken relying party never holds up a person's logout.
   */
  takeOver(provider: Provider): void {
    const prototype = provider.Client.prototype as unknown as NotifiedClient;
    const deliver = prototype.backchannelLogout;
    const notices = this;
    prototype.backchannelLogout = async function queued(this: NotifiedClient, sub: string, sid: string | undefined) {
      notices.send(this, sub, sid, (s, i) => deliver.call(this, s, i));
    };
  }
}
