// The `state` sent to WeChat: short random letters and digits (WeChat refuses long or
// non-alphanumeric ones), kept server-side with the interaction it belongs to, single
// use, expiring with the interaction. The browser binding is the interaction's own
// signed cookie, checked by oidc-provider before a state is even looked at.

import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { AppId, AppKind, WeChatScope } from '../wechat/types.ts';

export const STATE_MODEL = 'WeChatLoginState';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 24; // 142 bits
const FORMAT = /^[A-Za-z0-9]{1,128}$/;
/** How long a finished state answers repeat deliveries of its callback. */
const OUTCOME_TTL_S = 120;

export interface LoginState {
  /** The oidc-provider interaction this upstream attempt serves. */
  readonly uid: string;
  readonly kind: AppKind;
  readonly appid: AppId;
  readonly scope: WeChatScope;
  /** 1 for the first attempt, 2 for the automatic retry after a rejected code. */
  readonly attempt: number;
  /** prompt=none inside WeChat: never show anything, answer login_required instead. */
  readonly silent: boolean;
}

interface Stored extends LoginState {
  readonly returnTo?: string;
}

export function newState(): string {
  let state = '';
  for (let i = 0; i < LENGTH; i += 1) state += ALPHABET[randomInt(ALPHABET.length)];
  return state;
}

export function isStateFormat(value: unknown): value is string {
  return typeof value === 'string' && FORMAT.test(value);
}

function parse(payload: Record<string, unknown> | undefined | void): Stored | undefined {
  if (!payload || typeof payload.uid !== 'string' || typeof payload.appid !== 'string') return undefined;
  return payload as unknown as Stored;
}

export class LoginStates {
  readonly #adapter: StorageAdapter;

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter;
  }

  async create(state: LoginState, ttlSeconds: number): Promise<string> {
    const id = newState();
    await this.#adapter.upsert(id, { ...state }, Math.max(1, Math.floor(ttlSeconds)));
    return id;
  }

  async find(id: string): Promise<LoginState | undefined> {
    return parse(await this.#adapter.find(id));
  }

  /** Takes the state for this callback; undefined when another delivery already took it. */
  async claim(id: string): Promise<LoginState | undefined> {
    return parse(await this.#adapter.claim(id));
  }

  /** Remembers where the finished login went, for repeat deliveries of the callback. */
  async finish(id: string, state: LoginState, returnTo: string): Promise<void> {
    await this.#adapter.upsert(id, { ...state, returnTo, consumed: Math.floor(Date.now() / 1000) }, OUTCOME_TTL_S);
  }

  /** Waits for the delivery that claimed the state to finish; its destination, if it did. */
  async outcome(id: string, waitMs: number): Promise<string | undefined> {
    const until = Date.now() + waitMs;
    for (;;) {
      const stored = parse(await this.#adapter.find(id));
      if (!stored) return undefined;
      if (stored.returnTo) return stored.returnTo;
      if (Date.now() >= until) return undefined;
      await sleep(100);
    }
  }
}
