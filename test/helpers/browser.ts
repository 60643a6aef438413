// A real Chromium (Debian's), driven by playwright-core. Each person a test plays gets a
// context of their own (cookies, cache, storage), with the User-Agent of their browser.

import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { USER_AGENTS, type Device } from './user-agents.ts';

export { USER_AGENTS, type Device };

/**
 * How long a click, a wait or a navigation may take before it counts as a hang.
 * Playwright's own 30 s is missed on a loaded 2-core machine; nothing waits this long
 * unless something is broken, so it costs a passing run nothing.
 */
export const BROWSER_LIMIT_MS = 120_000;

/**
 * Debian's Chromium headless shell (package `chromium-headless-shell`, built from the same
 * source and version as `chromium`, and what Playwright itself runs for headless tests)
 * when installed, else Debian's `chromium`; `CHROMIUM_PATH` overrides both. The shell
 * renders and runs scripts as Chromium does, without the desktop browser's layers: the
 * same browser tests cost 37 % less CPU (measured: sessions + handoff, 82 s against 52 s).
 */
const CHROMIUM_EXECUTABLE = process.env.CHROMIUM_PATH
  ?? ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path)) ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_EXECUTABLE,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // One renderer per tab instead of one per site: a login hops between the broker, the
      // simulator and the relying party (other hosts), and a fresh renderer at each hop was
      // a fifth of a browser test's CPU (measured: 19 % less CPU over sessions + handoff).
      // Nothing the broker does depends on Chromium's process model.
      '--disable-site-isolation-trials', '--disable-features=IsolateOrigins,site-per-process',
    ],
  });
}

/** A browser context (its own cookies) whose actions wait up to BROWSER_LIMIT_MS. */
async function openContext(browser: Browser, options: BrowserContextOptions): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(BROWSER_LIMIT_MS);
  context.setDefaultNavigationTimeout(BROWSER_LIMIT_MS);
  return context;
}

export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** People whose tests are over, by browser and then by device and language, ready to play someone new. */
const idle = new WeakMap<Browser, Map<string, Person[]>>();

/**
 * A browser context for one person on one device. Closing it hands it back for the next
 * person of the same device and language, with nothing of this one left (cookies,
 * cache, storage, other pages, listeners, routes): a fresh context and page cost Chromium
 * a new renderer each, which is most of a browser test's CPU on a 2-core machine.
 */
export async function newPerson(browser: Browser, device: Device, locale = 'zh-CN'): Promise<Person> {
  const kind = `${device} ${locale}`;
  const people = idle.get(browser) ?? new Map<string, Person[]>();
  idle.set(browser, people);
  const reused = people.get(kind)?.pop();
  if (reused) return reused;
  const context = await openContext(browser, { userAgent: USER_AGENTS[device], locale, extraHTTPHeaders: { 'accept-language': locale } });
  const person = { context, page: await context.newPage() };
  const viewport = person.page.viewportSize();
  const close = context.close.bind(context);
  context.close = async () => {
    const waiting = people.get(kind) ?? [];
    if (waiting.includes(person)) return; // closed twice: handed back once
    try {
      await forget(person);
      if (viewport) await person.page.setViewportSize(viewport);
    } catch {
      return close(); // a page that cannot be reset is not reused
    }
    people.set(kind, [...waiting, person]);
  };
  return person;
}

/** A person whose browser runs no script (every form is submitted by hand), in a context of its own: closing it discards it. */
export async function newPersonWithoutScripts(browser: Browser, device: Device, locale = 'en'): Promise<Person> {
  const context = await openContext(browser, { userAgent: USER_AGENTS[device], locale, extraHTTPHeaders: { 'accept-language': locale }, javaScriptEnabled: false });
  return { context, page: await context.newPage() };
}

/** Everything a test could have left in a person's browser, gone. */
async function forget({ context, page }: Person): Promise<void> {
  if (page.isClosed()) throw new Error('the page was closed');
  await Promise.all(context.pages().filter((other) => other !== page).map((other) => other.close()));
  await page.removeAllListeners(undefined, { behavior: 'ignoreErrors' });
  await Promise.all([context.unrouteAll({ behavior: 'ignoreErrors' }), page.unrouteAll({ behavior: 'ignoreErrors' })]);
  const { origins } = await context.storageState();
  await page.goto('about:blank');
  const cdp = await context.newCDPSession(page);
  for (const { origin } of origins) await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' });
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  await Promise.all([context.clearCookies(), context.clearPermissions(), page.emulateMedia({ colorScheme: 'light' })]);
}

/** Waits until the browser lands on the relying party's server and returns that URL. */
export async function landedAt(page: Page, origin: string, timeout = BROWSER_LIMIT_MS): Promise<URL> {
  await page.waitForURL((url) => url.origin === origin, { timeout });
  return new URL(page.url());
}
