// Telling relying parties what became of a person's account, pushed to the client's
// `security_events_uri` as Security Event Tokens (RFC 8417; RFC 8935: POST
// application/secevent+jwt, 202 Accepted). A back-channel logout token only says the person
// logged out; these say what happened to the account itself:
// - gone: the OpenID RISC event `account-purged`, so that the app erases its own copy (PIPL
//   article 47 asks the broker to delete; each app holds what it was given);
// - suspended by an operator, or reinstated: RISC's `account-disabled` and `account-enabled`
//   (the company's own apps only);
// - merged into another: two accounts turned out to be one person (accounts/linking.ts), and
//   the app that knew the absorbed `sub` will see the survivor's from the next login on. No
//   RISC or CAEP event says that (RISC's `identifier-changed` is for email addresses and
//   phone numbers), so the event is the broker's own, under its issuer (RFC 8417 2.2: an
//   event type is any collision-resistant URI): `<issuer>/events/account-merged`, with the
//   survivor as `merged_into`.
// The stream is configured by the operator in CLIENTS_FILE rather than by the Shared Signals
// Framework's stream management API: the clients are the operator's own.
//
// The subject is `sub_id` (RFC 9493 3.2.5 `iss_sub`, as the Shared Signals Framework 1.0
// puts it), the `sub` the client knows (its pairwise one, if it is pairwise), once for each
// `sub` concerned. Signed like the client's ID tokens, with the broker's key for that
// algorithm (its JWKS verifies it).

import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type Provider from 'oidc-provider';
import type { SigningKeys } from '../config/keys.ts';
import { signingKeys } from '../config/keys.ts';
import { DeliveryFailedError, DeliveryRefusedError, type Deliveries, type DeliveryOutcome } from './deliveries.ts';
import { subjectFor } from './pairwise.ts';

/** Private client metadata: where the client receives security events (RFC 8935 push). */
export const SECURITY_EVENTS_URI = 'security_events_uri';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type';
const ACCOUNT_PURGED = `${RISC}/account-purged`;
/** RISC Profile 1.0 2.3 and 2.4; the optional `reason` of 2.3 (`hijacking`, `bulk-account`) is left out: the operator's reason is free text. */
const ACCOUNT_DISABLED = `${RISC}/account-disabled`;
const ACCOUNT_ENABLED = `${RISC}/account-enabled`;
/** The broker's own event type: its issuer's, so that no other issuer's can collide with it. */
const accountMergedEvent = (issuer: string): string => `${issuer}/events/account-merged`;

/** One token's content: the subject (the `sub` the client knows) and its event. */
interface SecurityEvent {
  readonly sub: string;
  readonly event: Readonly<Record<string, object>>;
}
/** A receiver that does not answer within this long is tried again later (as oidc-provider gives a logout token's delivery). */
export const PUSH_TIMEOUT_MS = 2_500;

/** What a push reads of oidc-provider's client (its extra metadata is kept under its own name). */
interface EventClient {
  readonly clientId: string;
  readonly idTokenSignedResponseAlg?: string;
  readonly subjectType?: string;
  readonly sectorIdentifier?: string;
  readonly [SECURITY_EVENTS_URI]?: string;
  readonly first_party?: boolean;
}

export interface SecurityEventsParts {
  readonly provider: Provider;
  readonly issuer: string;
  readonly keys: SigningKeys;
  readonly pairwiseSecret: string | undefined;
  readonly deliveries: Deliveries;
  /** Each delivery's outcome (the metrics). */
  readonly observe?: ((outcome: DeliveryOutcome) => void) | undefined;
  /** The clients of CLIENTS_FILE, by id. */
  readonly clientIds: readonly string[];
}

/**
 * Pushes `token` to `uri` with `headers` (the attempt's trace). The receiver's answer: 202 is
 * delivered; a 400 (RFC 8935 2.3) is refused for good; anything else is tried again.
 */
async function push(uri: string, token: string, headers: Headers): Promise<void> {
  headers.set('content-type', 'application/secevent+jwt');
  headers.set('accept', 'application/json');
  const answer = await fetch(uri, { method: 'POST', body: token, signal: AbortSignal.timeout(PUSH_TIMEOUT_MS), redirect: 'error', headers });
  if (answer.status === 202) return;
  const said = await answer.json().catch(() => undefined) as { err?: unknown; description?: unknown } | undefined;
  if (answer.status === 400) throw new DeliveryRefusedError(`refused: ${String(said?.err ?? 'no err')}${said?.description ? ` (${String(said.description)})` : ''}`);
  throw new DeliveryFailedError(`answered ${answer.status}`);
}

export class SecurityEvents {
  readonly #parts: SecurityEventsParts;

  constructor(parts: SecurityEventsParts) {
    this.#parts = parts;
  }

  /** The account that answered to `subs` was erased: one `account-purged` for each. */
  accountPurged(subs: readonly string[], tookPart: ReadonlySet<string>): Promise<void> {
    return this.#tell(tookPart, (subject) => subs.map((sub) => ({ sub: subject(sub), event: { [ACCOUNT_PURGED]: {} } })));
  }

  /**
   * An operator suspended the account of `subs` (`account-disabled`), or lifted that
   * (`account-enabled`): told to the company's own apps only. A third party learns of a
   * suspension as of a logout (its tokens end), and, were it told, would have to be told of
   * the reinstatement too, though by then it may no longer know the person.
   */
  accountDisabled(subs: readonly string[]): Promise<void> {
    return this.#tell(new Set(), (subject) => subs.map((sub) => ({ sub: subject(sub), event: { [ACCOUNT_DISABLED]: {} } })));
  }

  accountEnabled(subs: readonly string[]): Promise<void> {
    return this.#tell(new Set(), (subject) => subs.map((sub) => ({ sub: subject(sub), event: { [ACCOUNT_ENABLED]: {} } })));
  }

  /** The accounts of `absorbed` were merged into the account `into`: one `account-merged` for each absorbed `sub`, naming the survivor. */
  accountMerged(absorbed: readonly string[], into: string, tookPart: ReadonlySet<string>): Promise<void> {
    const type = accountMergedEvent(this.#parts.issuer);
    return this.#tell(tookPart, (subject) => absorbed.map((sub) => ({
      sub: subject(sub), event: { [type]: { merged_into: { format: 'iss_sub', iss: this.#parts.issuer, sub: subject(into) } } },
    })));
  }

  /**
   * Told: every first-party client with a security_events_uri (the company's own apps, which
   * all know its people), and any other that held a grant or a session for a `sub` concerned
   * (`tookPart`); never a third party that did not know the person. `sets` gives each client's
   * tokens, with `subject` turning a `sub` into the one the client knows.
   */
  async #tell(tookPart: ReadonlySet<string>, sets: (subject: (sub: string) => string) => SecurityEvent[]): Promise<void> {
    for (const clientId of this.#parts.clientIds) {
      const client = await this.#parts.provider.Client.find(clientId) as unknown as EventClient | undefined;
      const uri = client?.[SECURITY_EVENTS_URI];
      if (!client || !uri || !(client.first_party === true || tookPart.has(clientId))) continue;
      for (const set of sets((sub) => subjectFor(this.#parts.pairwiseSecret, client, sub))) {
        const { deliveries } = this.#parts;
        deliveries.queue('security event', { client: clientId, uri }, async () => push(uri, await this.#token(client, set), deliveries.carryTrace(new Headers())), this.#parts.observe);
      }
    }
  }

  /** The SET (RFC 8417 2.2): issuer, audience, a fresh jti, the event and its subject; explicitly typed (2.3). */
  async #token(client: EventClient, { sub, event }: SecurityEvent): Promise<string> {
    const alg = client.idTokenSignedResponseAlg ?? 'RS256';
    const jwk = signingKeys(this.#parts.keys.keys).find((key) => key.alg === alg);
    if (!jwk) throw new DeliveryRefusedError(`no ${alg} key signs`);
    return new SignJWT({ events: event, sub_id: { format: 'iss_sub', iss: this.#parts.issuer, sub } })
      .setProtectedHeader({ alg, kid: jwk.kid, typ: 'secevent+jwt' })
      .setIssuer(this.#parts.issuer).setAudience(client.clientId).setJti(randomUUID()).setIssuedAt()
      .sign(await importJWK(jwk, alg));
  }
}
