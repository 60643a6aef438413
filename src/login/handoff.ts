// The phone hand-off: a phone browser outside WeChat cannot log in with WeChat, so it shows
// a short broker link; the person opens it in WeChat on the same phone, confirms, WeChat
// authorizes there, and the login completes in the original browser (which waits on its
// page, as a desktop waits on a QR scan), where the relying party's session is.
//
// Like WeChat's own QR confirmation, it guards against the phishing it invites: the app
// and a short matching code are shown on both sides, a link lives a few minutes and is
// used once. The record is keyed by an HMAC of the interaction (a reload of the waiting
// page finds the same one) and the matching code is derived from it.

import { createHmac } from 'node:crypto';
import type { StorageAdapter } from '../storage/adapter.ts';

export const HANDOFF_MODEL = 'WeChatHandoff';
/** How long a hand-off link lives. */
export const HANDOFF_TTL_S = 5 * 60;
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** What the waiting browser's app gets when the person declined in WeChat (OAuth 2.0, RFC 6749 4.1.2.1). */
export const DECLINED_IN_WECHAT = { error: 'access_denied', error_description: 'End-User declined the login in WeChat' } as const;

export type HandoffStatus = 'waiting' | 'confirmed' | 'done' | 'declined';

export interface Handoff {
  /** The interaction of the browser that waits. */
  readonly uid: string;
  /** What that browser is, in words the person recognizes ("Chrome on Android"). */
  readonly browser: string;
  readonly status: HandoffStatus;
  /** When the link stops working (ms since the epoch). */
  readonly expiresAt: number;
  /** Once WeChat vouched for the person: the login to finish the interaction with. */
  readonly result?: { readonly accountId: string; readonly acr: string; readonly amr: readonly string[] };
  /**
   * The last try in WeChat failed this way (an error page's kind); the hand-off waits
   * again, so the person can try again in WeChat, and the waiting browser says so.
   */
  readonly failure?: string;
  /** With `failure` `suspended`: when the suspension ends (ms since the epoch), when it has an end. */
  readonly until?: number;
}

function digest(secret: string, purpose: string, uid: string): Buffer {
  return createHmac('sha256', secret).update(`${purpose}\n${uid}`).digest();
}

/** The link's code: 10 characters without look-alikes (0/O, 1/l/I). */
export function handoffCode(secret: string, uid: string): string {
  return [...digest(secret, 'handoff', uid).subarray(0, 10)].map((byte) => CODE_ALPHABET[byte % CODE_ALPHABET.length]).join('');
}

/** The matching code shown on both sides: four digits. */
export function matchCode(secret: string, uid: string): string {
  return String(digest(secret, 'match', uid).readUInt32BE(0) % 10_000).padStart(4, '0');
}

export const isHandoffCode = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z2-9]{10}$/.test(value);

function parse(payload: Record<string, unknown> | undefined | void): Handoff | undefined {
  if (!payload || typeof payload.uid !== 'string' || typeof payload.expiresAt !== 'number' || payload.expiresAt <= Date.now()) return undefined;
  return payload as unknown as Handoff;
}

export class Handoffs {
  readonly #adapter: StorageAdapter;
  readonly #secret: string;

  constructor(adapter: StorageAdapter, secret: string) {
    this.#adapter = adapter;
    this.#secret = secret;
  }

  code(uid: string): string {
    return handoffCode(this.#secret, uid);
  }

  match(uid: string): string {
    return matchCode(this.#secret, uid);
  }

  /** The `state` sent to WeChat for a hand-off's authorization. */
  state(code: string): string {
    return [...digest(this.#secret, 'handoff-state', code).subarray(0, 24)].map((byte) => CODE_ALPHABET[byte % CODE_ALPHABET.length]).join('');
  }

  /** The interaction's hand-off, made when there is none (a reload keeps the one it has). */
  async open(uid: string, browser: string): Promise<Handoff> {
    const existing = await this.find(this.code(uid));
    if (existing) return existing;
    const handoff: Handoff = { uid, browser, status: 'waiting', expiresAt: Date.now() + HANDOFF_TTL_S * 1000 };
    await this.#adapter.upsert(this.code(uid), { ...handoff }, HANDOFF_TTL_S);
    return handoff;
  }

  async find(code: string): Promise<Handoff | undefined> {
    return parse(await this.#adapter.find(code));
  }

  /**
   * Moves a hand-off on, keeping its expiry; false when it is not in `from` any more (used,
   * declined, gone). A conditional write: of two moves from one state at once (a confirm and
   * a decline, two callbacks), exactly one wins and the other is told.
   */
  async move(code: string, from: HandoffStatus, to: Omit<Partial<Handoff>, 'uid' | 'expiresAt'> & { status: HandoffStatus }): Promise<boolean> {
    const current = await this.find(code);
    if (!current || current.status !== from) return false;
    return this.#adapter.replaceIfUnchanged(code, { ...current }, { ...current, ...to });
  }

  /** Takes the finished hand-off, once: the login it carries, or undefined. */
  async take(uid: string): Promise<Handoff | undefined> {
    return parse(await this.#adapter.claim(this.code(uid)));
  }
}
