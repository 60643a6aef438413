// What the provider holds for a person, found by account (storage's findByAccount): the
// sessions they are logged in with and the grants they gave relying parties. Revoking a
// grant removes every token issued under it; ending a person's sessions and grants tells
// each relying party through Back-Channel Logout (logout-notices.ts).

import type Provider from 'oidc-provider';
import type { AdapterPayload, ProtocolStorage } from '../storage/adapter.ts';
import type { LogoutNotices, NotifiedClient } from './logout-notices.ts';
import { SessionDevices, type SessionDevice } from './session-devices.ts';
import { exchangedFor } from './token-exchange.ts';

/** A session a person is logged in with. Times in ms since the epoch. */
export interface HeldSession {
  /** Its storage id: the session cookie's value, a secret that never leaves the broker. */
  readonly id: string;
  /** Its stable uid: how a page names it. */
  readonly uid?: string;
  /** The `sub` the session was opened for. */
  readonly sub: string;
  readonly loginAt?: number;
  readonly expiresAt?: number;
  /** The clients that took part in the session, each with its `sid` in it (Back-Channel Logout's session id). */
  readonly sids: ReadonlyMap<string, string | undefined>;
  /** The grants the session's logins gave. */
  readonly grantIds: ReadonlySet<string>;
  /** The browser or device it is held in, where known (a token exchange's session has none). */
  readonly device?: SessionDevice | undefined;
  /** A token exchange's session: an app's (a mini program's, a mobile app's) logins, which no browser holds. */
  readonly exchanged: boolean;
}

/** A relying party's grant: what the person let it have. */
export interface HeldGrant {
  readonly id: string;
  readonly sub: string;
  readonly client: string;
  readonly scope: string;
  /** The scopes granted of each of the company's APIs, by resource indicator (api-resources.ts). */
  readonly resources: Readonly<Record<string, string>>;
  readonly grantedAt?: number;
  readonly expiresAt?: number;
}

export interface Held {
  readonly sessions: readonly HeldSession[];
  readonly grants: readonly HeldGrant[];
}

interface Authorization {
  readonly sid?: string;
  readonly grantId?: string;
}

const ms = (seconds: unknown): number | undefined => (typeof seconds === 'number' ? seconds * 1000 : undefined);
const authorizationsOf = (payload: AdapterPayload) => (payload.authorizations ?? {}) as Record<string, Authorization>;

function toSession(id: string, payload: AdapterPayload, devices: ReadonlyMap<string, SessionDevice>): HeldSession {
  return {
    device: typeof payload.uid === 'string' ? devices.get(payload.uid) : undefined,
    exchanged: Object.keys(authorizationsOf(payload)).some((client) => exchangedFor(payload, client)),
    id, uid: typeof payload.uid === 'string' ? payload.uid : undefined, sub: String(payload.accountId), loginAt: ms(payload.loginTs), expiresAt: ms(payload.exp),
    sids: new Map(Object.entries(authorizationsOf(payload)).map(([client, authorization]) => [client, authorization.sid])),
    grantIds: new Set(Object.values(authorizationsOf(payload)).flatMap((authorization) => (authorization.grantId ? [authorization.grantId] : []))),
  };
}

function toGrant(id: string, payload: AdapterPayload): HeldGrant {
  const openid = payload.openid as { scope?: string } | undefined;
  const resources = (payload.resources ?? {}) as Record<string, unknown>;
  return {
    id, sub: String(payload.accountId), client: String(payload.clientId), scope: openid?.scope ?? '',
    resources: Object.fromEntries(Object.entries(resources).map(([indicator, scope]) => [indicator, typeof scope === 'string' ? scope : ''])),
    grantedAt: ms(payload.iat), expiresAt: ms(payload.exp),
  };
}

/** A session edit is tried again this often when oidc-provider keeps saving the session meanwhile. */
const SESSION_EDIT_ATTEMPTS = 5;

export class AccountRecords {
  readonly #provider: Provider;
  readonly #storage: ProtocolStorage;
  readonly #notices: LogoutNotices;
  readonly #devices: SessionDevices;

  constructor(provider: Provider, storage: ProtocolStorage, notices: LogoutNotices) {
    this.#provider = provider;
    this.#storage = storage;
    this.#notices = notices;
    this.#devices = new SessionDevices(storage);
  }

  /** The sessions and grants held for any of `subs` (an account's own and merged ids). */
  async held(subs: readonly string[]): Promise<Held> {
    const [sessions, grants] = await Promise.all(['Session', 'Grant'].map(async (model) => {
      const found = await Promise.all(subs.map((sub) => this.#storage.adapter(model).findByAccount(sub)));
      return found.flat();
    }));
    const devices = await this.#devices.of(sessions!.flatMap((record) => (typeof record.payload.uid === 'string' ? [record.payload.uid] : [])));
    return {
      sessions: sessions!.map((record) => toSession(record.id, record.payload, devices)),
      grants: grants!.map((record) => toGrant(record.id, record.payload)),
    };
  }

  /**
   * Ends one of the person's sessions (a browser or device, by its uid): each client that
   * took part is told with its sid, and the grants its logins gave are revoked with every
   * token under them. False when the person has no such session.
   */
  async endSession(subs: readonly string[], uid: string): Promise<boolean> {
    const held = await this.held(subs);
    const session = held.sessions.find((candidate) => candidate.uid === uid);
    if (!session) return false;
    const grants = held.grants.filter((grant) => session.grantIds.has(grant.id));
    await this.#notify({ sessions: [session], grants }, new Set(session.sids.keys()));
    await Promise.all(grants.map((grant) => this.#revokeGrant(grant.id)));
    await this.#endSessions([session]);
    return true;
  }

  /**
   * Revokes `client`'s grants for the person (with every token issued under them), takes
   * the client out of their sessions, and tells it. False when it had no grant.
   */
  async revokeClient(subs: readonly string[], client: string): Promise<boolean> {
    const held = await this.held(subs);
    const grants = held.grants.filter((grant) => grant.client === client);
    if (grants.length === 0) return false;
    await this.#notify(held, new Set([client]));
    await Promise.all(grants.map((grant) => this.#revokeGrant(grant.id)));
    for (const { id } of held.sessions.filter((session) => session.sids.has(client))) await this.#leaveSession(id, client);
    return true;
  }

  /**
   * Takes `client` out of the session `id` (ends it if it was that client's token exchange
   * session, which no browser holds): a conditional replace that keeps the session's
   * expiry, read again when oidc-provider saved the session meanwhile (a save is never
   * undone, and the client never comes back through an edit made on an old read).
   */
  async #leaveSession(id: string, client: string): Promise<void> {
    const sessions = this.#storage.adapter('Session');
    for (let attempt = 1; attempt <= SESSION_EDIT_ATTEMPTS; attempt += 1) {
      const seen = await sessions.find(id);
      if (!seen || !(client in authorizationsOf(seen))) return;
      // A token exchange's session holds its one client: without it, it stands for no login.
      if (exchangedFor(seen, client)) return sessions.destroy(id);
      const edited = structuredClone(seen);
      delete authorizationsOf(edited)[client];
      if (await sessions.replaceIfUnchanged(id, seen, edited)) return;
    }
  }

  /** Ends every session and revokes every grant of the person; every relying party is told. */
  async endAll(subs: readonly string[]): Promise<Held> {
    const held = await this.held(subs);
    await this.#notify(held, new Set([...held.grants.map((grant) => grant.client), ...held.sessions.flatMap((session) => [...session.sids.keys()])]));
    await Promise.all(held.grants.map((grant) => this.#revokeGrant(grant.id)));
    await this.#endSessions(held.sessions);
    return held;
  }

  /** The sessions go, and the records of the browsers they were held in with them. */
  async #endSessions(sessions: readonly HeldSession[]): Promise<void> {
    await Promise.all(sessions.map((session) => this.#storage.adapter('Session').destroy(session.id)));
    await this.#devices.forget(sessions.flatMap((session) => (session.uid ? [session.uid] : [])));
  }

  async #revokeGrant(grantId: string): Promise<void> {
    // One call reaches every token model: the stores index tokens by grant across models.
    await this.#storage.adapter('AccessToken').revokeByGrantId(grantId);
    await this.#storage.adapter('Grant').destroy(grantId);
  }

  /**
   * One logout token per client and session it took part in (with that session's sid),
   * and one without a sid for a client whose grant outlived its sessions.
   */
  async #notify(held: Held, clients: ReadonlySet<string>): Promise<void> {
    for (const clientId of clients) {
      const client = await this.#provider.Client.find(clientId) as unknown as NotifiedClient | undefined;
      if (!client) continue;
      const told = new Set<string>();
      for (const session of held.sessions.filter((candidate) => candidate.sids.has(clientId))) {
        this.#notices.send(client, session.sub, session.sids.get(clientId));
        told.add(session.sub);
      }
      for (const grant of held.grants.filter((candidate) => candidate.client === clientId && !told.has(candidate.sub))) {
        this.#notices.send(client, grant.sub, undefined);
        told.add(grant.sub);
      }
    }
  }
}
