// What the broker pushes to relying parties' servers (back-channel logout tokens, security
// event tokens), off the path of the action that causes them: a delivery is queued and the
// action goes on. One that fails is tried again a bounded number of times, backing off,
// then given up, each step logged; a refusal that says retrying cannot help ends it at once.
// When traces are sent, each attempt is a client span in the trace of the action that queued
// it, and its request carries that span (W3C `traceparent`) to the receiver, whose own trace
// of the delivery then joins the broker's.

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

/** Where a delivery goes: the receiver's client, and its URL (of which a trace keeps only the host). */
export interface Receiver {
  readonly client: string;
  readonly uri: string;
}

/** How attempts are traced (ops/tracing.ts implements it when traces are sent). */
export interface DeliveryTracing {
  /** Runs `attempt`, the `number`th of a delivery of `what` to `to`, inside a client span of the trace the delivery was queued in. */
  attempt(what: string, to: Receiver, number: number, attempt: () => Promise<void>): Promise<void>;
  /** Adds to `headers` the W3C Trace Context of the span the code runs in, when it runs in a traced one. */
  carry(headers: Headers): void;
}

export class Deliveries {
  readonly #log: Logger;
  readonly #delays: readonly number[];
  readonly #pending = new Set<Promise<void>>();
  /** How attempts are traced: the broker's, when it sends traces; never the CLI's. */
  readonly #tracing: DeliveryTracing | undefined;

  constructor(log: Logger, delays: readonly number[] = DELIVERY_DELAYS_MS, tracing?: DeliveryTracing) {
    this.#log = log;
    this.#delays = delays;
    this.#tracing = tracing;
  }

  /** `headers`, with the trace of the attempt running, for a request an attempt sends. */
  carryTrace(headers: Headers): Headers {
    this.#tracing?.carry(headers);
    return headers;
  }

  /** Queues `attempt` (what it delivers named by `what`, for the log) to `to`'s server. */
  queue(what: string, to: Receiver, attempt: () => Promise<void>, observe: (outcome: DeliveryOutcome) => void = () => {}): void {
    const delivery = this.#deliver(what, to, attempt, observe).finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
  }

  /** Resolves when every queued delivery has been delivered or given up. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async #deliver(what: string, to: Receiver, attempt: () => Promise<void>, observe: (outcome: DeliveryOutcome) => void): Promise<void> {
    const { client } = to;
    for (const [index, delay] of this.#delays.entries()) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
      try {
        await (this.#tracing ? this.#tracing.attempt(what, to, index + 1, attempt) : attempt());
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
