// The verbs of a WeChat login, as a person performs them in Chromium: scan the QR code,
// log in by QR on a desktop, log in inside the WeChat browser, hand a phone browser's login
// over to WeChat. Each returns what the
// relying party (openid-client) got.

import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { newPerson } from './browser.ts';
import type { Check, Rp } from './rp.ts';
import type { CallRecord } from '../../src/simulator/world.ts';
import { authorizeScopes, setPhoneUser, simCalls } from './simulator.ts';

export interface ScanOptions {
  /** WeChat delivers the callback twice. */
  readonly twice?: boolean;
}

/** The person scans the QR code drawn on `page` with WeChat, as `user`, and confirms. */
export async function scanQr(page: Page, user: RegExp = /Alice/, options: ScanOptions = {}): Promise<void> {
  const qr = page.frameLocator('#qr iframe');
  if (options.twice) await qr.getByRole('checkbox').check();
  await qr.getByRole('button', { name: user }).click();
}

/** Starts a login at `rp` on `page` and scans the QR as `user`: what the RP keeps to check the answer. */
export async function startQrLogin(page: Page, rp: Rp, params: Record<string, string> = {}, user: RegExp = /Alice/): Promise<Check> {
  const { url, check } = await rp.start(params);
  await page.goto(url);
  await scanQr(page, user);
  return check;
}

export interface LoggedIn {
  readonly tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  readonly claims: oidc.IDToken;
  readonly userinfo: oidc.UserInfoResponse;
}

async function finish(rp: Rp, page: Page, check: Check): Promise<LoggedIn> {
  const tokens = await rp.finish(await rp.landed(page), check);
  const claims = tokens.claims()!;
  return { tokens, claims, userinfo: await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub) };
}

/** A whole QR login of `user` at `rp` on a fresh desktop browser. */
export async function loginByQr(browser: Browser, rp: Rp, user: RegExp = /Alice/, params: Record<string, string> = {}): Promise<LoggedIn> {
  const { context, page } = await newPerson(browser, 'desktop');
  try {
    return await finish(rp, page, await startQrLogin(page, rp, params, user));
  } finally {
    await context.close();
  }
}

export interface InWeChatOptions {
  readonly params?: Record<string, string>;
  /** Allow on WeChat's snsapi_userinfo sheet when it shows. */
  readonly allow?: boolean;
}

/** Allows on WeChat's authorization sheet. */
export async function allowInWeChat(page: Page): Promise<void> {
  await page.getByRole('button', { name: /^允许/ }).click();
}

/** A whole login of `user` at `rp` inside the WeChat browser; also the web authorization scopes WeChat saw. */
export async function loginInWeChat(browser: Browser, rp: Rp, simulator: string, user: string, options: InWeChatOptions = {}): Promise<LoggedIn & { scopes: string[] }> {
  const { context, page } = await newPerson(browser, 'wechat');
  try {
    await setPhoneUser(context, simulator, user);
    const since = (await simCalls(simulator)).length;
    const { url, check } = await rp.start(options.params);
    await page.goto(url);
    if (options.allow) await allowInWeChat(page);
    const loggedIn = await finish(rp, page, check);
    return { ...loggedIn, scopes: await authorizeScopes(simulator, since) };
  } finally {
    await context.close();
  }
}

/**
 * The phone hand-off of a login at `rp`: an Android browser starts it and shows a link;
 * WeChat on the same phone opens it as `user`, confirms and allows; the Android browser
 * lands at the RP. Also what the broker asked of WeChat from the link on.
 */
export async function handOff(browser: Browser, rp: Rp, simulator: string, user: string): Promise<LoggedIn & { calls: CallRecord[] }> {
  const [android, wechat] = await Promise.all([newPerson(browser, 'mobile', 'en'), newPerson(browser, 'wechat', 'en')]);
  try {
    const { url, check } = await rp.start();
    await android.page.goto(url);
    const link = await android.page.locator('#link').innerText();
    await setPhoneUser(wechat.context, simulator, user);
    const since = (await simCalls(simulator)).length;
    await wechat.page.goto(link);
    await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
    await allowInWeChat(wechat.page);
    await wechat.page.getByRole('heading', { name: 'Done' }).waitFor();
    const loggedIn = await finish(rp, android.page, check);
    return { ...loggedIn, calls: (await simCalls(simulator)).slice(since) };
  } finally {
    await Promise.all([android.context.close(), wechat.context.close()]);
  }
}
