// A tour of every page a person can meet, for the accessibility test and the screenshot
// script: how to reach each page, and on which device.

import type { Browser, Page } from 'playwright-core';
import { TEST_API, type RunningBroker } from './broker.ts';
import { newPerson, USER_AGENTS } from './browser.ts';
import { atConsole, suspendAtConsole } from './console.ts';
import { createRp } from './rp.ts';
import type { RpServer } from './rp-server.ts';
import { setPhoneUser } from './simulator.ts';

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

type Opener = (page: Page) => Promise<void>;

/** The languages every page is visited in. */
const LOCALES = ['zh-CN', 'en'] as const;

/** Each page at both sizes in the light, and on the phone in the dark (the phone's setting, which WeChat's browser follows). */
const VARIANTS = [
  { size: 'desktop', scheme: 'light' }, { size: 'phone', scheme: 'light' }, { size: 'phone', scheme: 'dark' },
] as const;

export interface Variant {
  readonly locale: string;
  readonly size: keyof typeof VIEWPORTS;
  readonly scheme: 'light' | 'dark';
}

/**
 * Opens `stop` once in each language (one browser context at a time, closed whatever
 * happens) and hands the page to `look` in each variant in turn (size, colour scheme).
 */
export async function visit(browser: Browser, stop: Stop, look: (page: Page, variant: Variant) => Promise<void>): Promise<void> {
  for (const locale of LOCALES) {
    const { context, page } = await newPerson(browser, stop.device, locale);
    try {
      await page.setViewportSize(VIEWPORTS.desktop);
      await stop.open(page);
      for (const { size, scheme } of VARIANTS) {
        await page.setViewportSize(VIEWPORTS[size]);
        await page.emulateMedia({ colorScheme: scheme });
        await look(page, { locale, size, scheme });
      }
    } finally {
      await context.close();
    }
  }
}

export interface Stop {
  readonly device: keyof typeof USER_AGENTS;
  readonly open: Opener;
}

/**
 * A staff portal that offers dev mode's WeCom app beside WeChat: the tour's broker registers
 * it with the test clients (only a broker that has the `wecom` app accepts it).
 */
export function staffPortal(rp: string) {
  return {
    client_id: 'staff-portal', client_secret: 'staff-portal-secret-0123456789abcdef', client_name: '员工门户',
    redirect_uris: [`${rp}/callback`], first_party: true, wechat_apps: ['wecom', 'open'],
  };
}

/** The staff portal's login, started at the broker: the page to pick WeCom or WeChat. */
async function staffLogin(page: Page, broker: RunningBroker, rpServer: RpServer): Promise<void> {
  const portal = staffPortal(rpServer.origin);
  const rp = await createRp(broker.issuer, rpServer, portal.client_id, portal.client_secret);
  await page.goto((await rp.start({ scope: 'openid profile wecom' })).url);
}

/** The pages, reached through `where()` (a broker in dev mode with the test clients and the staff portal, and its RP server). */
export function tour(where: () => { broker: RunningBroker; rpServer: RpServer }): Record<string, Stop> {
  const broker = () => where().broker;
  const rpServer = () => where().rpServer;
  let bobSuspended: Promise<void> | undefined;
  return {
    'QR login': { device: 'desktop', open: async (page) => { await page.goto((await (await createRp(broker().issuer, rpServer())).start()).url); await page.locator('#qr iframe').waitFor(); } },
    'open in WeChat': { device: 'mobile', open: async (page) => { await page.goto((await (await createRp(broker().issuer, rpServer())).start()).url); } },
    consent: {
      device: 'desktop',
      open: async (page) => {
        const rp = await createRp(broker().issuer, rpServer(), 'third-party');
        // With the company's API, so that the page lists what the app may do with it too.
        await page.goto((await rp.start({ redirect_uri: rpServer().callback, scope: 'openid profile wechat orders:read', resource: TEST_API })).url);
        await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
        await page.locator('form[action$="/consent"]').waitFor();
      },
    },
    'WeChat sheet error (snapshot user)': {
      device: 'wechat',
      open: async (page) => {
        await setPhoneUser(page.context(), broker().simulator, 'snapshot');
        await page.goto((await (await createRp(broker().issuer, rpServer())).start()).url);
        await page.getByRole('button', { name: /^允许/ }).click();
        await page.waitForURL(/\/wechat\?/);
      },
    },
    'logout confirmation': {
      device: 'desktop',
      open: async (page) => {
        const rp = await createRp(broker().issuer, rpServer());
        const { url, check } = await rp.start();
        await page.goto(url);
        await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
        const tokens = await rp.finish(await rp.landed(page), check);
        await page.goto(`${broker().issuer}/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token! })}`);
      },
    },
    'hand-off confirmation (in WeChat)': {
      device: 'wechat',
      open: async (page) => {
        const phone = await newPerson(page.context().browser()!, 'mobile');
        await phone.page.goto((await (await createRp(broker().issuer, rpServer())).start()).url);
        const link = await phone.page.locator('#link').innerText();
        await phone.context.close();
        await setPhoneUser(page.context(), broker().simulator, 'alice');
        await page.goto(link);
      },
    },
    'logged out': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/session/end`); } },
    'request error': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/auth?client_id=nobody&response_type=code&scope=openid`); } },
    'not found': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/no/such/page`); } },
    home: { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/`); } },
    'follow to log in': {
      device: 'desktop',
      open: async (page) => {
        await page.goto((await (await createRp(broker().issuer, rpServer())).start()).url);
        await page.goto(`${page.url().replace(/\?.*$/, '')}?via=follow`);
      },
    },
    // Dev mode's simulated third-party platform: its authorization page (or, before WeChat's first ticket, "starting up").
    'platform authorization': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/wechat/platform/platform/authorize`); } },
    'platform authorized': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/wechat/platform/platform/authorized`); } },
    'pick WeCom or WeChat': { device: 'desktop', open: (page) => staffLogin(page, broker(), rpServer()) },
    // A TV's login (RFC 8628): the code page, the confirmation after a QR login, and the end.
    'device code': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/device`); } },
    'device code, page out of date': { device: 'desktop', open: async (page) => { await page.goto(`${broker().issuer}/device/a-login-of-another-browser`); } },
    'device confirmation': { device: 'desktop', open: (page) => deviceConfirmation(page, broker()) },
    'device logged in': {
      device: 'desktop',
      open: async (page) => {
        await deviceConfirmation(page, broker());
        await page.locator('form button.primary').click();
        await page.waitForURL(/\/device\/[^/]+/);
      },
    },
    'WeCom login panel': {
      device: 'desktop',
      open: async (page) => {
        await staffLogin(page, broker(), rpServer());
        await page.locator('#pick-wecom').click();
        await page.frameLocator('#ww_login iframe').getByRole('button', { name: /王小爱/ }).waitFor();
      },
    },
    'not a member (WeCom)': {
      device: 'desktop',
      open: async (page) => {
        await staffLogin(page, broker(), rpServer());
        await page.locator('#pick-wecom').click();
        await page.frameLocator('#ww_login iframe').getByRole('button', { name: /Chen|陈大文/ }).click();
        await page.waitForURL(/\/wechat\?/);
      },
    },
    'my account': { device: 'desktop', open: (page) => signedInAt(page, broker(), '/account') },
    'delete my account': { device: 'desktop', open: (page) => signedInAt(page, broker(), '/account/delete') },
    // Dev mode: anyone who logs in may use the console (its people are the simulator's).
    'operator console': { device: 'desktop', open: (page) => atConsole(page, broker()) },
    'operator console: an account': {
      device: 'desktop',
      open: async (page) => {
        await atConsole(page, broker());
        const sub = /\b([0-9a-f-]{36})\b/.exec(await page.locator('section').innerText())![1]!;
        await page.goto(`${broker().issuer}/console/accounts/${sub}`);
      },
    },
    'operator console: diagnostics': {
      device: 'desktop',
      open: async (page) => {
        await atConsole(page, broker());
        await page.goto(`${broker().issuer}/console/diagnostics`);
      },
    },
    // Bob, suspended for a week at the console (once for the tour), logs in: the page says until when.
    'account suspended (for a week)': {
      device: 'desktop',
      open: async (page) => {
        bobSuspended ??= suspendBob(page.context().browser()!, broker(), rpServer());
        await bobSuspended;
        await page.goto((await (await createRp(broker().issuer, rpServer())).start()).url);
        await page.frameLocator('#qr iframe').getByRole('button', { name: /Bob/ }).click();
        await page.getByText(/已被暂停使用，\d{4}-\d\d-\d\d \d\d:\d\d 之前|suspended until \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)/).waitFor();
      },
    },
    'logged out on every device': {
      device: 'desktop',
      open: async (page) => {
        await signedInAt(page, broker(), '/account');
        await page.locator('form[action="/account/logout"] button').click();
        await page.waitForURL(/\/account\/logout$/);
      },
    },
    // "Not me" on the person's latest login: logged out everywhere, the login named.
    'a login reported as not mine': {
      device: 'desktop',
      open: async (page) => {
        await signedInAt(page, broker(), '/account');
        await page.locator('form[action="/account/not-me"] button').first().click();
        await page.waitForURL(/\/account\/not-me$/);
      },
    },
  };
}


/** A TV's code opened on a desktop: QR login as Alice, then the page that asks her to confirm the device. */
async function deviceConfirmation(page: Page, broker: RunningBroker): Promise<void> {
  await page.goto(await deviceLink(broker));
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.locator('#user-code').waitFor();
}

/** Logs Alice in at the broker's own account page (a QR login), then opens `path`. */
async function signedInAt(page: Page, broker: RunningBroker, path: string): Promise<void> {
  await page.goto(`${broker.issuer}/account`);
  // The tour's broker (dev mode) has a WeCom app: the page's sign-in offers WeCom and WeChat.
  await page.locator('#pick-wechat').click();
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.waitForURL(/\/account\?/);
  await page.goto(`${broker.issuer}${path}`);
}

/** Bob logs in to an app (a QR login, in a browser of his own), and Alice at the console suspends him for seven days. */
async function suspendBob(browser: Browser, broker: RunningBroker, rpServer: RpServer): Promise<void> {
  const bob = await newPerson(browser, 'desktop');
  let sub: string;
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { url, check } = await rp.start();
    await bob.page.goto(url);
    await bob.page.frameLocator('#qr iframe').getByRole('button', { name: /Bob/ }).click();
    sub = (await rp.finish(await rp.landed(bob.page), check)).claims()!.sub;
  } finally {
    await bob.context.close();
  }
  await suspendAtConsole(browser, broker, sub, '7');
}

/** A device (the test clients' TV) asks for a code: the link its QR code shows. */
async function deviceLink(broker: RunningBroker): Promise<string> {
  const response = await fetch(`${broker.issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'tv', scope: 'openid', device_name: 'Living room TV' }) });
  return ((await response.json()) as { verification_uri_complete: string }).verification_uri_complete;
}
