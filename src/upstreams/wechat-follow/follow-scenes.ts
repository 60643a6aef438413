// Follow-to-login's scenes (扫码关注登录): each desktop login that shows an Official
// Account's parametric QR code gets an unguessable scene, bound to its interaction (and so
// to the browser holding that interaction's cookie) and expiring with the QR code. WeChat
// pushes the scan to whichever instance; the scene and its scan live in shared storage, so
// the instance the browser polls sees it. The first scan of a scene is the one that counts.
//
// A scan alone logs nobody in: whoever showed the QR code could have sent it to someone
// else ("scan for a coupon"). The scanner gets a link in WeChat (follow-confirm.ts); only
// their explicit confirm there, from the WeChat account that scanned, lets the desktop in.

import { randomBytes } from 'node:crypto';
import type { StorageAdapter } from '../../storage/adapter.ts';

export const SCENE_MODEL = 'WeChatFollowScene';
export const SCAN_MODEL = 'WeChatFollowScan';
export const LINK_MODEL = 'WeChatFollowLink';
/** How long the scanner has to confirm (never beyond the QR code's own life). */
export const CONFIRM_TTL_S = 5 * 60;

/** What the browser's page learns. */
export type SceneState = 'waiting' | 'scanned' | 'confirmed' | 'declined' | 'expired';
/** Where a scan stands: waiting for the scanner's answer, or answered. */
export type ScanStatus = 'scanned' | 'confirmed' | 'declined';

/** What the desktop that shows a QR code is, for the scanner to recognize it. */
export interface Viewer {
  /** "Chrome · Windows". */
  readonly browser: string;
  readonly lang: string;
}

/** A scan WeChat reported: the follower in the scene's account, and where their answer stands. */
export interface Scan extends Viewer {
  readonly scene: string;
  readonly uid: string;
  /** The app id (in WECHAT_APPS_FILE) of the Official Account. */
  readonly app: string;
  readonly openid: string;
  /** The confirmation link's code, sent to the scanner only. */
  readonly link: string;
  readonly status: ScanStatus;
  /** When the scan stops counting (s since the epoch). */
  readonly exp: number;
}

/** What became of a pushed scan: the first of its scene (or that scanner again), another scanner's, or a scene nobody opened. */
export type ScanOutcome = { readonly outcome: 'recorded' | 'again'; readonly scan: Scan } | { readonly outcome: 'taken' | 'unknown' };

const SCENE = /^[A-Za-z0-9_-]{1,64}$/;
export const isLinkCode = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z0-9_-]{32}$/.test(value);
const nowS = (): number => Math.floor(Date.now() / 1000);

function scanOf(payload: Record<string, unknown> | undefined | void): Scan | undefined {
  if (!payload || typeof payload.openid !== 'string' || typeof payload.link !== 'string' || typeof payload.exp !== 'number' || payload.exp <= nowS()) return undefined;
  return payload as unknown as Scan;
}

export class FollowScenes {
  readonly #scenes: StorageAdapter;
  readonly #scans: StorageAdapter;
  readonly #links: StorageAdapter;

  constructor(storage: { adapter(model: string): StorageAdapter }) {
    this.#scenes = storage.adapter(SCENE_MODEL);
    this.#scans = storage.adapter(SCAN_MODEL);
    this.#links = storage.adapter(LINK_MODEL);
  }

  /** A fresh scene's name, for WeChat's QR code; `open` keeps it once WeChat made the code. */
  static fresh(): string {
    return randomBytes(24).toString('base64url');
  }

  /** Keeps `scene` for the interaction `uid` and the account `app`: its QR content `url`, living `ttlS` seconds, shown to `viewer`. */
  async open(scene: string, uid: string, app: string, ttlS: number, viewer: Viewer & { url: string }): Promise<void> {
    await this.#scenes.upsert(scene, { uid, app, scene, exp: nowS() + ttlS, browser: viewer.browser, lang: viewer.lang, url: viewer.url }, ttlS);
  }

  /** The QR code the interaction shows now for `app`, while it lives: a reload shows it again. */
  async shown(uid: string, app: string): Promise<{ url: string } | undefined> {
    const opened = await this.#scenes.findByUid(uid);
    const live = opened && opened.app === app && typeof opened.url === 'string' && typeof opened.exp === 'number' && opened.exp > nowS();
    return live ? { url: opened.url as string } : undefined;
  }

  /** Records a scan of `scene` in `app` by `openid`; a scene nobody opened, or another account's, is unknown. */
  async scanned(scene: string, app: string, openid: string): Promise<ScanOutcome> {
    if (!SCENE.test(scene)) return { outcome: 'unknown' };
    const opened = await this.#scenes.find(scene);
    if (!opened || opened.app !== app || typeof opened.exp !== 'number' || typeof opened.uid !== 'string') return { outcome: 'unknown' };
    const exp = Math.min(opened.exp, nowS() + CONFIRM_TTL_S);
    const ttl = Math.max(1, exp - nowS());
    const scan: Scan = {
      scene, uid: opened.uid, app, openid, link: randomBytes(24).toString('base64url'), status: 'scanned', exp,
      browser: String(opened.browser ?? ''), lang: String(opened.lang ?? 'zh-CN'),
    };
    if (await this.#scans.insert(scene, { ...scan }, ttl)) {
      await this.#links.upsert(scan.link, { scene }, ttl);
      return { outcome: 'recorded', scan };
    }
    // Scanned before: the same person again (or WeChat repeating its push) gets the same link; anyone else nothing.
    const first = scanOf(await this.#scans.find(scene));
    return first?.openid === openid ? { outcome: 'again', scan: first } : { outcome: 'taken' };
  }

  /** The scan a confirmation link belongs to, while it counts. */
  async byLink(link: string): Promise<Scan | undefined> {
    const found = await this.#links.find(link);
    return typeof found?.scene === 'string' ? scanOf(await this.#scans.find(found.scene)) : undefined;
  }

  /**
   * The scanner's answer; false when the scan is not waiting for one any more (answered,
   * expired). A conditional write: of two answers at once (confirm and decline in two tabs),
   * exactly one counts, and the page of the other says the link was used.
   */
  async answer(scan: Scan, status: Exclude<ScanStatus, 'scanned'>): Promise<boolean> {
    const current = scanOf(await this.#scans.find(scan.scene));
    if (!current || current.status !== 'scanned' || current.link !== scan.link) return false;
    return this.#scans.replaceIfUnchanged(scan.scene, { ...current }, { ...current, status });
  }

  /** The interaction's newest scene (the QR code its page shows now). */
  async #current(uid: string): Promise<string | undefined> {
    const opened = await this.#scenes.findByUid(uid);
    return typeof opened?.scene === 'string' ? opened.scene : undefined;
  }

  /** The state of the interaction's QR code, for its page. */
  async state(uid: string): Promise<SceneState> {
    const scene = await this.#current(uid);
    if (!scene) return 'expired';
    return scanOf(await this.#scans.find(scene))?.status ?? 'waiting';
  }

  /** The interaction's answered scan (confirmed or declined), taken once. */
  async take(uid: string): Promise<Scan | undefined> {
    const scene = await this.#current(uid);
    if (!scene || (await this.state(uid)) === 'scanned') return undefined;
    const scan = scanOf(await this.#scans.claim(scene));
    return scan?.status === 'scanned' ? undefined : scan;
  }
}
