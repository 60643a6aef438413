// What the broker pushes to relying parties' servers (back-channel logout tokens, security
// event tokens), off the path of the action that causes them: a delivery is queued and the
// action goes on. One that fails is tried again a bounded number of times, backing off,
// then given up, each step logged; a refusal that says retrying cannot help ends it at once.

import type { Logger } from '../log.ts';

/** The outcome of one attempt, for a metric. */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/** Delays before each attempt: the first at once, then backing off; four attempts in all. */
export const DELIVERY_DELAYS_MS = [0, 2_000, 15_000, 60_000] as const;

/** A delivery the receiver refused for good (RFC 8935 2.3's errors): no retry. */
export class DeliveryRefusedError extends Error {
  readonly code = 'DELIVERY_REFUSED';
}

/** A delivery that failed this time (an answer other than the receiver's success): tried again. */
export class DeliveryFailedError extends Error {
  readonly code = 'DELIVERY_FAILED';
}

export class Deliveries {
  readonly #log: Logger;
  readonly #delays: readonly number[];
  readonly #pending = new Set<Promise<void>>();

  constructor(log: Logger, delays: readonly number[] = DELIVERY_DELAYS_MS) {
    this.#log = log;
    this.#delays = delays;
  }

  /** Queues `attempt` (what it delivers named by `what`, for the log) to `client`'s server. */
  queue(what: string, client: string, attempt: () => Promise<void>, observe: (outcome: DeliveryOutcome) => void = () => {}): void {
    const delivery = this.#deliver(what, client, attempt, observe).finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
  }

  /** Resolves when every queued delivery has been delivered or given up. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async #deliver(what: string, client: string, attempt: () => Promise<void>, observe: (outcome: DeliveryOutcome) => void): Promise<void> {
    for (const [index, delay] of this.#delays.entries()) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
      try {
        await attempt();
        observe('delivered');
        this.#log.info({ client, attempt: index + 1 }, `${what} delivered`);
        return;
      } catch (error) {
        const last = index === this.#delays.length - 1 || error instanceof DeliveryRefusedError;
        observe(last ? 'failed' : 'retrying');
        this.#log.warn({ client, attempt: index + 1, reason: (error as Error).message }, last
          ? `${what} not delivered: given up` : `${what} not delivered: will try again`);
        if (last) return;
      }
    }
  }
}
