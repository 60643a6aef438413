// OpenID Connect Back-Channel Logout 1.0 deliveries, off the path of the action that
// causes them. oidc-provider's end_session awaits every delivery before it answers the
// person; here a delivery is queued (deliveries.ts) and the action goes on. A delivery that
// fails (no answer, or not 200/204: section 2.8) is tried again a bounded number of times,
// then given up, each step logged. The logout token itself is oidc-provider's
// (Client#backchannelLogout: section 2.4, signed like an ID token).

import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';
import { Deliveries, DELIVERY_DELAYS_MS, type DeliveryOutcome, type DeliveryTracing } from './deliveries.ts';

/** The outcome of one delivery, for a metric. */
export type NoticeOutcome = DeliveryOutcome;

/** The part of oidc-provider's Client a delivery uses (its types leave backchannelLogout out). */
export interface NotifiedClient {
  readonly clientId: string;
  readonly backchannelLogoutUri?: string;
  readonly backchannelLogoutSessionRequired?: boolean;
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

/** The logout tokens, on the queue every push to relying parties shares (so that one `settled` waits for all). */
export class LogoutNotices extends Deliveries {
  readonly #observe: (outcome: NoticeOutcome) => void;

  constructor(log: Logger, observe: (outcome: NoticeOutcome) => void = () => {}, delays: readonly number[] = DELIVERY_DELAYS_MS, tracing?: DeliveryTracing) {
    super(log, delays, tracing);
    this.#observe = observe;
  }

  /**
   * Queues a logout token for `sub` (and the client's `sid` in the session ended, when
   * there is one) to the client's backchannel_logout_uri; nothing for a client without
   * one, or one that requires a sid when there is no session (section 2.2).
   */
  send(client: NotifiedClient, sub: string, sid: string | undefined, deliver = ownDelivery(client)): void {
    if (!client.backchannelLogoutUri || (client.backchannelLogoutSessionRequired && !sid)) return;
    this.queue('back-channel logout', { client: client.clientId, uri: client.backchannelLogoutUri }, () => deliver(sub, sid), this.#observe);
  }

  /**
   * Routes oidc-provider's own deliveries (at the end of a session) through this queue,
   * so that a slow or broken relying party never holds up a person's logout.
   */
  takeOver(provider: Provider): void {
    const prototype = provider.Client.prototype as unknown as NotifiedClient;
    const deliver = prototype.backchannelLogout;
    const notices = this;
    prototype.backchannelLogout = Object.assign(async function queued(this: NotifiedClient, sub: string, sid: string | undefined) {
      notices.send(this, sub, sid, (s, i) => deliver.call(this, s, i));
    }, { [OWN]: deliver });
  }
}

type Delivery = NotifiedClient['backchannelLogout'];

/** Where takeOver keeps oidc-provider's own delivery, beside the method that queues it. */
const OWN = Symbol('oidc-provider\'s backchannelLogout');

/**
 * The client's delivery as oidc-provider makes it. Not the method a take-over put in its
 * place, which queues: that one as the attempt would queue a second delivery, and the first
 * would count as delivered though nothing was sent.
 */
function ownDelivery(client: NotifiedClient): Delivery {
  const method = client.backchannelLogout as Delivery & { [OWN]?: Delivery };
  return (method[OWN] ?? method).bind(client);
}
