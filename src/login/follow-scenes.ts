// Follow-to-login's scenes (扫码关注登录): each desktop login that shows an Official
// Account's parametric QR code gets an unguessable scene, bound to its interaction (and so
// to the browser holding that interaction's cookie) and expiring with the QR code. WeChat
// pushes the scan to whichever instance; the scene and its scan live in shared storage, so
// the instance the browser polls sees it. The first scan of a scene is the one that counts;
// the login takes it once.

import { randomBytes } from 'node:crypto';
import type { StorageAdapter } from '../storage/adapter.ts';

export const SCENE_MODEL = 'WeChatFollowScene';
export const SCAN_MODEL = 'WeChatFollowScan';

/** What the browser's page learns. */
export type SceneState = 'waiting' | 'scanned' | 'expired';

/** A scan WeChat reported: the follower in the scene's account. */
export interface Scan {
  /** The app id (in WECHAT_APPS_FILE) of the Official Account. */
  readonly app: string;
  readonly openid: string;
}

/** What became of a pushed scan. */
export type ScanOutcome = 'recorded' | 'again' | 'unknown';

const SCENE = /^[A-Za-z0-9_-]{1,64}$/;

export class FollowScenes {
  readonly #scenes: StorageAdapter;
  readonly #scans: StorageAdapter;

  constructor(storage: { adapter(model: string): StorageAdapter }) {
    this.#scenes = storage.adapter(SCENE_MODEL);
    this.#scans = storage.adapter(SCAN_MODEL);
  }

  /** A fresh scene for the interaction `uid` and the account `app`, living `ttlS` seconds. */
  async open(uid: string, app: string, ttlS: number): Promise<string> {
    const scene = randomBytes(24).toString('base64url');
    await this.#scenes.upsert(scene, { uid, app, scene, exp: Math.floor(Date.now() / 1000) + ttlS }, ttlS);
    return scene;
  }

  /** Records a scan of `scene` in `app` by `openid`; a scene nobody opened, or another account's, is unknown. */
  async scanned(scene: string, app: string, openid: string): Promise<ScanOutcome> {
    if (!SCENE.test(scene)) return 'unknown';
    const opened = await this.#scenes.find(scene);
    if (!opened || opened.app !== app) return 'unknown';
    const ttl = typeof opened.exp === 'number' ? Math.max(1, opened.exp - Math.floor(Date.now() / 1000)) : 600;
    return await this.#scans.insert(scene, { uid: opened.uid, app, openid }, ttl) ? 'recorded' : 'again';
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
    return await this.#scans.find(scene) ? 'scanned' : 'waiting';
  }

  /** The scan of the interaction's QR code, taken once. */
  async take(uid: string): Promise<Scan | undefined> {
    const scene = await this.#current(uid);
    if (!scene) return undefined;
    const scan = await this.#scans.claim(scene);
    return scan && typeof scan.openid === 'string' && typeof scan.app === 'string' ? { app: scan.app, openid: scan.openid } : undefined;
  }
}
