// The simulated WeChat's data: its users, its registered apps, the codes and tokens it
// issued, and the faults a test asked it to inject. Behaviour follows what WeChat
// documents: codes single use (5 min Official Account, 10 min QR), no unionid for
// snsapi_base tokens or apps not bound to an Open Platform account, snapshot users
// with virtual ids.

import { createHash, randomBytes } from 'node:crypto';

/** The kinds of app the simulator registers (WeChat's own names). */
export type SimAppKind = 'mp' | 'open';
export type SimScope = 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login';

export interface SimUser {
  readonly id: string;
  readonly nickname: string;
  /** Opening a snsapi_userinfo page from a Moments share shows a snapshot page. */
  readonly snapshot?: boolean;
}

/** Nicknames carry any Unicode, markup characters included, as real ones do. */
export const SIM_USERS: readonly SimUser[] = [
  { id: 'alice', nickname: '小爱 Alice 🌸' },
  { id: 'bob', nickname: 'Bob <b>&amp; "quotes"' },
  { id: 'chen', nickname: '陈大文' },
  { id: 'snapshot', nickname: '微信用户', snapshot: true },
];

export interface SimApp {
  readonly kind: SimAppKind;
  readonly appid: string;
  readonly secret: string;
  /** Bound to the Open Platform account: its tokens and profiles carry a unionid. */
  readonly bound: boolean;
}

/** What one authorization gave: the person, in one app, with one scope. */
export interface Grant {
  readonly app: SimApp;
  readonly user: SimUser;
  readonly scope: SimScope;
  readonly openid: string;
  readonly unionid?: string;
  readonly snapshot: boolean;
}

interface Issued extends Grant {
  readonly expiresAt: number;
  used: boolean;
}

/**
 * `slow`: answers normally after 1.5 s; `timeout`: does not answer for 30 s; hostile
 * answers: `errcode-object` (objects where WeChat puts numbers and strings), `huge` (a
 * 1 MiB body), `snapshot-true` (a normal token answer with `is_snapshotuser: true`).
 */
export type FaultKind =
  | 'busy' | 'timeout' | 'slow' | 'garbage' | 'gbk-empty' | 'errcode-object' | 'huge' | 'snapshot-true' | `errcode:${number}`;

/** What an API call looked like, without secrets, for tests to inspect. */
export interface CallRecord {
  readonly path: string;
  readonly appid?: string;
  readonly scope?: string;
  readonly errcode?: number;
}

const CODE_TTL_MS: Record<SimAppKind, number> = { mp: 5 * 60_000, open: 10 * 60_000 };
/** How long WeChat's user access tokens live (its `expires_in`). */
export const TOKEN_TTL_S = 7200;

const hash = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, 27);

const randomToken = (bytes = 24): string => randomBytes(bytes).toString('base64url');

export class SimWorld {
  readonly apps: readonly SimApp[];
  /** Hosts WeChat accepts in redirect_uri (the registered callback domains). */
  readonly callbackHosts: Set<string>;
  readonly calls: CallRecord[] = [];
  readonly #codes = new Map<string, Issued>();
  readonly #tokens = new Map<string, Issued>();
  readonly #faults = new Map<string, FaultKind[]>();
  /** (user, appid) pairs that already allowed snsapi_userinfo: WeChat lets them pass. */
  readonly #allowed = new Set<string>();
  /** How many of the next callbacks WeChat delivers twice. */
  #twice = 0;

  constructor(apps: readonly SimApp[], callbackHosts: Iterable<string>) {
    this.apps = apps;
    this.callbackHosts = new Set(callbackHosts);
  }

  app(appid: string | undefined): SimApp | undefined {
    return this.apps.find((app) => app.appid === appid);
  }

  user(id: string | undefined): SimUser | undefined {
    return SIM_USERS.find((user) => user.id === id);
  }

  hasAllowed(user: SimUser, app: SimApp): boolean {
    return this.#allowed.has(`${user.id}|${app.appid}`);
  }

  /** A person authorized `app`: a fresh single-use code, living `lifeMs` (WeChat's life by default). */
  issueCode(app: SimApp, user: SimUser, scope: SimScope, lifeMs = CODE_TTL_MS[app.kind]): string {
    const snapshot = Boolean(user.snapshot) && scope === 'snsapi_userinfo';
    if (scope !== 'snsapi_base' && !snapshot) this.#allowed.add(`${user.id}|${app.appid}`);
    const salt = snapshot ? randomToken(8) : '';
    const code = randomToken(24);
    this.#codes.set(code, {
      app,
      user,
      scope,
      openid: `o${hash(app.appid, user.id, salt)}`,
      unionid: app.bound ? `u${hash('platform', user.id, salt)}` : undefined,
      snapshot,
      expiresAt: Date.now() + lifeMs,
      used: false,
    });
    return code;
  }

  /** Redeems a code: the grant, or the errcode WeChat would answer. */
  redeemCode(app: SimApp, code: string): Grant | number {
    const issued = this.#codes.get(code);
    if (!issued || issued.app.appid !== app.appid) return 40029;
    if (issued.used) return 40163;
    if (issued.expiresAt <= Date.now()) return 42003;
    issued.used = true;
    return issued;
  }

  /** A user access token for a redeemed grant. */
  issueToken(grant: Grant): string {
    const token = randomToken(32);
    this.#tokens.set(token, { ...grant, expiresAt: Date.now() + TOKEN_TTL_S * 1000, used: false });
    return token;
  }

  /** The grant behind an access token, or the errcode: 40014 unknown, 42001 expired. */
  accessToken(token: string): Grant | number {
    const issued = this.#tokens.get(token);
    if (!issued) return 40014;
    return issued.expiresAt <= Date.now() ? 42001 : issued;
  }

  deliverTwice(count: number): void {
    this.#twice += count;
  }

  /** Whether the callback being delivered now goes twice. */
  takeTwice(): boolean {
    if (this.#twice === 0) return false;
    this.#twice -= 1;
    return true;
  }

  injectFaults(path: string, faults: readonly FaultKind[]): void {
    this.#faults.set(path, [...(this.#faults.get(path) ?? []), ...faults]);
  }

  takeFault(path: string): FaultKind | undefined {
    return this.#faults.get(path)?.shift();
  }
}

/** Apps for dev mode: an Official Account and a website app, bound to one Open Platform account. */
export function devApps(): SimApp[] {
  return [
    { kind: 'mp', appid: `wx${randomBytes(8).toString('hex')}`, secret: randomBytes(16).toString('hex'), bound: true },
    { kind: 'open', appid: `wx${randomBytes(8).toString('hex')}`, secret: randomBytes(16).toString('hex'), bound: true },
  ];
}
