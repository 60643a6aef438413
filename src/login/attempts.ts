// A login attempt: one trip to WeChat for one interaction, kept server-side under the
// `state` sent to WeChat. The state is 24 letters and digits (WeChat refuses long or other
// ones), an HMAC of the attempt under a secret: unguessable, and the same for the same
// attempt, so reloading a login page rewrites one record instead of adding one. It is
// single use and expires with the interaction; the browser binding is the interaction's
// own signed cookie, checked before a state is even looked at. Once a callback is
// answered, the answer stays with the attempt for repeat deliveries.

import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageAdapter } from '../storage/adapter.ts';
import type { AppId, WeChatScope } from '../wechat/types.ts';
import { isAnswer, type Answer } from './answer.ts';
import type { Channel } from '../upstreams/choose.ts';

export const ATTEMPT_MODEL = 'WeChatLoginAttempt';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 24; // about 142 bits
const FORMAT = /^[A-Za-z0-9]{1,128}$/;
/** How long an answered attempt answers repeat deliveries of its callback. */
const ANSWER_TTL_S = 120;
/** A repeat delivery polls storage at these growing intervals: about ten reads in 8 s. */
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 1000;
/** Repeat deliveries this process lets wait, per state and in all; the others are answered at once. */
const MAX_WAITERS_PER_STATE = 3;
const MAX_WAITERS = 100;

export interface Attempt {
  /** The oidc-provider interaction this attempt serves. */
  readonly uid: string;
  readonly channel: Channel;
  readonly appid: AppId;
  readonly scope: WeChatScope;
  /** QR login drawn in the broker's page (wxLogin.js) rather than on WeChat's own page. */
  readonly embedded: boolean;
  /** prompt=none inside WeChat: never show anything, answer login_required instead. */
  readonly silent: boolean;
  /** 1 for the first attempt, 2 for the automatic retry after a rejected code. */
  readonly round: number;
  /**
   * Channel `wecom`: the WeCom app (its id in WECHAT_APPS_FILE; `appid` is its corpid),
   * whether the person is inside the WeCom client, and whether this round asks for the
   * member's email and mobile (snsapi_privateinfo, after a silent round found them missing).
   */
  readonly wecom?: { readonly app: string; readonly inClient: boolean; readonly privateinfo?: boolean };
}

interface Stored extends Attempt {
  readonly answer?: Answer;
}

/** The state of an attempt: HMAC-SHA256 under `secret`, in WeChat's alphabet. */
export function stateOf(secret: string, attempt: Attempt): string {
  const key = [attempt.uid, attempt.channel, attempt.appid, attempt.scope, attempt.embedded, attempt.silent, attempt.round,
    ...(attempt.wecom ? [attempt.wecom.app, attempt.wecom.inClient, attempt.wecom.privateinfo === true] : [])].join('\n');
  const digest = createHmac('sha256', secret).update(key).digest();
  let state = '';
  for (let i = 0; i < LENGTH; i += 1) state += ALPHABET[digest[i]! % ALPHABET.length];
  return state;
}

export function isStateFormat(value: unknown): value is string {
  return typeof value === 'string' && FORMAT.test(value);
}

function parse(payload: Record<string, unknown> | undefined | void): Stored | undefined {
  if (!payload || typeof payload.uid !== 'string' || typeof payload.appid !== 'string' || typeof payload.round !== 'number') return undefined;
  const { consumed: _consumed, answer, ...attempt } = payload;
  return { ...(attempt as unknown as Attempt), ...(isAnswer(answer) ? { answer } : {}) };
}

export class Attempts {
  readonly #adapter: StorageAdapter;
  readonly #secret: string;
  readonly #waiting = new Map<string, number>();
  #waiters = 0;

  /** `secret`: what makes states unguessable (a cookie key; shared by every instance). */
  constructor(adapter: StorageAdapter, secret: string) {
    this.#adapter = adapter;
    this.#secret = secret;
  }

  /** Keeps the attempt for `ttlSeconds` (again, for a reload): the state to send to WeChat. */
  async begin(attempt: Attempt, ttlSeconds: number): Promise<string> {
    const state = stateOf(this.#secret, attempt);
    await this.#adapter.upsert(state, { ...attempt }, Math.max(1, Math.floor(ttlSeconds)));
    return state;
  }

  async find(state: string): Promise<Attempt | undefined> {
    return parse(await this.#adapter.find(state));
  }

  /** Takes the attempt for this callback; undefined when another delivery already took it. */
  async claim(state: string): Promise<Attempt | undefined> {
    return parse(await this.#adapter.claim(state));
  }

  /** Keeps the answer a callback got, for repeat deliveries of it. */
  async answer(state: string, attempt: Attempt, answer: Answer): Promise<void> {
    await this.#adapter.upsert(state, { ...attempt, answer, consumed: Math.floor(Date.now() / 1000) }, ANSWER_TTL_S);
  }

  /**
   * Waits (at most `waitMs`) for the delivery that claimed the attempt to answer; that
   * answer. Waiting is bounded in time, in reads and in waiters: beyond the caps a repeat
   * delivery gets undefined at once.
   */
  async answered(state: string, waitMs: number): Promise<Answer | undefined> {
    const here = this.#waiting.get(state) ?? 0;
    if (here >= MAX_WAITERS_PER_STATE || this.#waiters >= MAX_WAITERS) return undefined;
    this.#waiting.set(state, here + 1);
    this.#waiters += 1;
    try {
      return await this.#poll(state, Date.now() + waitMs);
    } finally {
      this.#waiters -= 1;
      const left = (this.#waiting.get(state) ?? 1) - 1;
      if (left === 0) this.#waiting.delete(state);
      else this.#waiting.set(state, left);
    }
  }

  async #poll(state: string, until: number): Promise<Answer | undefined> {
    for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
      const stored = parse(await this.#adapter.find(state));
      if (!stored || stored.answer) return stored?.answer;
      if (Date.now() >= until) return undefined;
      await sleep(Math.min(pause, Math.max(0, until - Date.now())));
    }
  }
}
