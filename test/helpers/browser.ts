// A real Chromium (Debian's), driven by playwright-core. Each test gets its own context
// (its own cookies), with the User-Agent of the browser it plays.

import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/**
 * How long a click, a wait or a navigation may take before it counts as a hang.
 * Playwright's own 30 s is missed on a loaded 2-core machine; nothing waits this long
 * unless something is broken, so it costs a passing run nothing.
 */
export const BROWSER_LIMIT_MS = 120_000;

export const USER_AGENTS = {
  desktop: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  wechat: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322c) NetType/WIFI Language/zh_CN',
  mobile: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
} as const;

export type Device = keyof typeof USER_AGENTS;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A browser context (its own cookies) whose actions wait up to BROWSER_LIMIT_MS. */
export async function openContext(browser: Browser, options: BrowserContextOptions): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(BROWSER_LIMIT_MS);
  context.setDefaultNavigationTimeout(BROWSER_LIMIT_MS);
  return context;
}

/** A browser context for one person on one device. */
export async function newPerson(browser: Browser, device: Device, locale = 'zh-CN'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await openContext(browser, { userAgent: USER_AGENTS[device], locale, extraHTTPHeaders: { 'accept-language': locale } });
  return { context, page: await context.newPage() };
}

/** Waits until the browser lands on the relying party's server and returns that URL. */
export async function landedAt(page: Page, origin: string, timeout = BROWSER_LIMIT_MS): Promise<URL> {
  await page.waitForURL((url) => url.origin === origin, { timeout });
  return new URL(page.url());
}
