// The simulated WeChat's data: its users, its registered apps, the codes and tokens it
// issued, Official Accounts' own tokens, QR scenes and followers, and the faults a test
// asked it to inject (third-party platforms' state is platform-state.ts). Behaviour follows
// what WeChat documents: codes single use (5 min Official Account, 10 min QR), no unionid
// for snsapi_base tokens or apps not bound to an Open Platform account, snapshot users
// with virtual ids.

import { createHash, randomBytes } from 'node:crypto';
import { SimPhoneCodes } from './phone-state.ts';
import { SimPlatforms, type SimPlatform } from './platform-state.ts';
import { randomToken, TOKEN_TTL_S } from './tokens.ts';
import { SimWeCom, type SimCorp } from './wecom-corp.ts';

export type { SimPlatform } from './platform-state.ts';

/** The kinds of app the simulator registers (WeChat's own names). */
export type SimAppKind = 'mp' | 'open' | 'miniprogram' | 'app';
export type SimScope = 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login';

export interface SimUser {
  readonly id: string;
  readonly nickname: string;
  /** Opening a snsapi_userinfo page from a Moments share shows a snapshot page. */
  readonly snapshot?: boolean;
}

/** People a benchmark logs in, many at once, beyond the named few: made by id, the same each time. */
const MADE_PERSON = /^person-\d{1,4}$/;

/** The cookie that says which simulated person is logged in on this phone (WeChat's and WeCom's pages read it). */
export const PHONE_USER_COOKIE = 'wxsim_user';

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
  /** Bound to the Open Platform account: its tokens and profiles carry a unionid (an operator may bind it later). */
  bound: boolean;
  /** Bound to another Open Platform account than the simulated company's (its people's unionids never match): that account's appid. */
  readonly otherOpenAccount?: string;
  /** An Official Account's 服务器配置 (developer mode): where its messages and events go, signed with `token`; encrypted when `aesKey` is set (safe mode). */
  server?: { readonly url: string; readonly token: string; readonly aesKey?: string | undefined };
}

/** A temporary parametric QR code an Official Account created. */
export interface SimSceneQr {
  readonly app: SimApp;
  readonly ticket: string;
  readonly scene: string;
  readonly url: string;
  readonly expiresAt: number;
}


/** What one authorization gave: the person, in one app, with one scope. */
export interface Grant {
  readonly app: SimApp;
  /** The platform's appid when the authorization was on the account's behalf. */
  readonly component?: string;
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
 * `hold`: answers normally once a test releases it (`release`), so that a test can act
 * while the call is in flight whatever the machine's speed; `timeout`: does not answer for 30 s; hostile
 * answers: `errcode-object` (objects where WeChat puts numbers and strings), `huge` (a
 * 1 MiB body), `snapshot-true` (a normal token answer with `is_snapshotuser: true`).
 */
export type FaultKind =
  | 'busy' | 'timeout' | 'hold' | 'garbage' | 'gbk-empty' | 'errcode-object' | 'huge' | 'snapshot-true' | `errcode:${number}`;

/** What an API call looked like, without secrets, for tests to inspect. */
export interface CallRecord {
  readonly path: string;
  readonly appid?: string;
  readonly scope?: string;
  readonly errcode?: number;
  /** An authorization on the account's behalf: the platform's appid. */
  readonly component?: string;
}

const CODE_TTL_MS: Record<SimAppKind, number> = { mp: 5 * 60_000, open: 10 * 60_000, miniprogram: 5 * 60_000, app: 10 * 60_000 };
/** stable_token's daily quota per account. */
const STABLE_TOKEN_DAILY = 500_000;
/** A held call goes on by itself after this, so that a test that forgot it cannot hang. */
const HOLD_LIMIT_MS = 120_000;

const hash = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, 27);



/** A person's openid in an app (a snapshot page's is virtual: salted). */
const openidOf = (app: SimApp, user: SimUser, salt = ''): string => `o${hash(app.appid, user.id, salt)}`;

/** A person's unionid under the (one) simulated Open Platform account. */
const unionidOf = (user: SimUser, salt = ''): string => `u${hash('platform', user.id, salt)}`;

export class SimWorld {
  readonly apps: readonly SimApp[];
  /** The third-party platforms and what they were given. */
  readonly platforms: SimPlatforms;
  /** WeCom companies, each with its self-built app (wecom-corp.ts). */
  readonly corps: readonly SimWeCom[];
  /** Hosts WeChat accepts in redirect_uri (the registered callback domains). */
  readonly callbackHosts: Set<string>;
  readonly calls: CallRecord[] = [];
  /** The codes of taps on a mini program's phone-number button. */
  readonly phoneCodes = new SimPhoneCodes();
  readonly #codes = new Map<string, Issued>();
  readonly #tokens = new Map<string, Issued>();
  readonly #faults = new Map<string, FaultKind[]>();
  readonly #held = new Map<string, Array<() => void>>();
  /** Official Accounts' access tokens (stable_token gives the one in force), and the daily call and force_refresh counts. */
  readonly #accountTokens = new Map<string, { token: string; expiresAt: number; forced: number; lastForcedAt: number }>();
  readonly #stableTokenCalls = new Map<string, number>();
  readonly #sceneQrs = new Map<string, SimSceneQr>();
  /** (user, appid) pairs where the user follows the Official Account. */
  readonly #followers = new Set<string>();
  /** (user, appid) pairs that already allowed snsapi_userinfo: WeChat lets them pass. */
  readonly #allowed = new Set<string>();
  /** How many of the next callbacks WeChat delivers twice. */
  #twice = 0;

  constructor(apps: readonly SimApp[], callbackHosts: Iterable<string>, platforms: readonly SimPlatform[] = [], corps: readonly SimCorp[] = []) {
    this.apps = apps;
    this.platforms = new SimPlatforms(platforms);
    this.corps = corps.map((corp) => new SimWeCom(corp));
    this.callbackHosts = new Set(callbackHosts);
  }

  app(appid: string | undefined): SimApp | undefined {
    return this.apps.find((app) => app.appid === appid);
  }

  corp(corpid: string | undefined): SimWeCom | undefined {
    return this.corps.find((wecom) => wecom.corp.corpid === corpid);
  }

  /**
   * `stable_token`: the account's token in force (a new one only when it expired, or on a
   * force_refresh: at most 20 a day, 30 s apart), never invalidating another; 500,000 calls
   * a day (this simulator's day is its lifetime), else 45009.
   */
  stableToken(app: SimApp, force: boolean): { token: string; expiresIn: number } | number {
    const calls = (this.#stableTokenCalls.get(app.appid) ?? 0) + 1;
    this.#stableTokenCalls.set(app.appid, calls);
    if (calls > STABLE_TOKEN_DAILY) return 45009;
    let current = this.#accountTokens.get(app.appid);
    if (force && current && (current.forced >= 20 || Date.now() - current.lastForcedAt < 30_000)) return 45009;
    if (!current || current.expiresAt <= Date.now() || force) {
      current = { token: randomToken(48), expiresAt: Date.now() + TOKEN_TTL_S * 1000, forced: (current?.forced ?? 0) + (force ? 1 : 0), lastForcedAt: force ? Date.now() : current?.lastForcedAt ?? 0 };
      this.#accountTokens.set(app.appid, current);
    }
    return { token: current.token, expiresIn: Math.floor((current.expiresAt - Date.now()) / 1000) };
  }

  /** The Official Account an access token (its own, or an authorizer token) belongs to, or the errcode: 40001 unknown, 42001 expired. */
  accountOfToken(token: string): SimApp | number {
    for (const [appid, issued] of this.#accountTokens) {
      if (issued.token === token) return issued.expiresAt <= Date.now() ? 42001 : this.app(appid) ?? 40001;
    }
    const authorizer = this.platforms.authorizerOf(token);
    if (!authorizer) return 40001;
    return authorizer.expiresAt <= Date.now() ? 42001 : this.app(authorizer.appid) ?? 40001;
  }

  /** A temporary parametric QR code; its content URL lives at `base`. */
  createSceneQr(app: SimApp, scene: string, expireSeconds: number, base: string): SimSceneQr {
    const ticket = randomToken(24);
    const qr = { app, ticket, scene, url: `${base}/q/${ticket}`, expiresAt: Date.now() + expireSeconds * 1000 };
    this.#sceneQrs.set(ticket, qr);
    return qr;
  }

  /** A QR by ticket, or the newest (of an account, when one is named). */
  sceneQr(ticket: string | undefined, app?: SimApp): SimSceneQr | undefined {
    if (ticket !== undefined) return this.#sceneQrs.get(ticket);
    return [...this.#sceneQrs.values()].filter((qr) => app === undefined || qr.app === app).at(-1);
  }

  /** `user` follows `app`; true when they did not before (a new follower). */
  follow(user: SimUser, app: SimApp): boolean {
    const key = `${user.id}|${app.appid}`;
    const fresh = !this.#followers.has(key);
    this.#followers.add(key);
    return fresh;
  }

  /** The user behind an openid of `app` (real users only), and whether they follow it. */
  userOfOpenid(app: SimApp, openid: string): { user: SimUser; follows: boolean } | undefined {
    const user = SIM_USERS.find((candidate) => !candidate.snapshot && openidOf(app, candidate) === openid);
    return user && { user, follows: this.#followers.has(`${user.id}|${app.appid}`) };
  }

  openid(app: SimApp, user: SimUser): string {
    return openidOf(app, user);
  }

  unionid(app: SimApp, user: SimUser): string | undefined {
    return app.bound ? unionidOf(user) : undefined;
  }

  /** A simulated person: one of the named few, or one made by id for load (`person-1` … `person-9999`). */
  user(id: string | undefined): SimUser | undefined {
    const named = SIM_USERS.find((user) => user.id === id);
    if (named || id === undefined || !MADE_PERSON.test(id)) return named;
    return { id, nickname: `用户 ${id.slice('person-'.length)}` };
  }

  hasAllowed(user: SimUser, app: SimApp): boolean {
    return this.#allowed.has(`${user.id}|${app.appid}`);
  }

  /**
   * A person authorized `app` (on its behalf by the platform `component`, if given): a
   * fresh single-use code, living `lifeMs` (WeChat's life by default).
   */
  issueCode(app: SimApp, user: SimUser, scope: SimScope, lifeMs = CODE_TTL_MS[app.kind], component?: string): string {
    const snapshot = Boolean(user.snapshot) && scope === 'snsapi_userinfo';
    if (scope !== 'snsapi_base' && !snapshot) this.#allowed.add(`${user.id}|${app.appid}`);
    const salt = snapshot ? randomToken(8) : '';
    const code = randomToken(24);
    this.#codes.set(code, {
      app,
      ...(component ? { component } : {}),
      user,
      scope,
      openid: openidOf(app, user, salt),
      unionid: app.bound ? unionidOf(user, salt) : undefined,
      snapshot,
      expiresAt: Date.now() + lifeMs,
      used: false,
    });
    return code;
  }

  /** Redeems a code (through the platform that asked for it, if one did): the grant, or the errcode WeChat would answer. */
  redeemCode(app: SimApp, code: string, component?: string): Grant | number {
    const issued = this.#codes.get(code);
    if (!issued || issued.app.appid !== app.appid || issued.component !== component) return 40029;
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

  /** Resolves when a test releases the calls held at `path` (at the latest after HOLD_LIMIT_MS). */
  hold(path: string): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(release, HOLD_LIMIT_MS).unref();
      function release() { clearTimeout(timer); resolve(); }
      this.#held.set(path, [...(this.#held.get(path) ?? []), release]);
    });
  }

  /** The paths with calls held now. */
  get held(): string[] {
    return [...this.#held].filter(([, waiting]) => waiting.length > 0).map(([path]) => path);
  }

  /** Lets the calls held at `path` go on. */
  release(path: string): void {
    for (const release of this.#held.get(path) ?? []) release();
    this.#held.delete(path);
  }
}

const randomAppid = (): string => `wx${randomBytes(8).toString('hex')}`;

/** An app with a random appid and secret, bound to the Open Platform account unless said. */
export function randomApp(kind: SimAppKind, bound = true): SimApp {
  return { kind, appid: randomAppid(), secret: randomBytes(16).toString('hex'), bound };
}

/** A third-party platform with random credentials and message keys, authorized by `accounts`. */
export function randomPlatform(...accounts: readonly SimApp[]): SimPlatform {
  return {
    appid: randomAppid(),
    secret: randomBytes(16).toString('hex'),
    token: randomBytes(12).toString('hex'),
    // 43 letters and digits, as WeChat's console makes them.
    aesKey: randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 43),
    authorizers: new Set(accounts.map((account) => account.appid)),
  };
}

/**
 * Dev mode's estate: a brand Official Account, a shop Official Account that authorized the
 * company's third-party platform (the broker reaches it only through the platform), and a
 * website app, all bound to one Open Platform account.
 */
export function devEstate(): { brand: SimApp; shop: SimApp; web: SimApp; platform: SimPlatform } {
  const shop = randomApp('mp');
  return { brand: randomApp('mp'), shop, web: randomApp('open'), platform: randomPlatform(shop) };
}
