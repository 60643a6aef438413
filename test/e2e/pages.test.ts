// What a person sees: the open-in-WeChat page, the demo, the misconfiguration page,
// languages, the Content-Security-Policy, the not-found page, an avatar that no longer loads, and dark mode.

import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import {
  startBroker, startBrokerWithSimulator, testClients, writeClientsFile, type BrokerWithSimulator, type RunningBroker,
} from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { deliverTwice, setPhoneUser, simApp } from '../helpers/simulator.ts';
import { tour } from '../helpers/tour.ts';
import { scanQr } from '../helpers/wechat.ts';

const WRONG_SECRET = 'ffffffffffffffffffffffffffffffff';

let browser: Browser;
let rpServer: RpServer;
let broker: RunningBroker;
let demo: RunningBroker;
let misconfigured: BrokerWithSimulator;

test.before(async () => {
  rpServer = await startRpServer();
  const clients = writeClientsFile(testClients(rpServer.origin));
  [browser, broker, demo, misconfigured] = await Promise.all([
    launchChromium(),
    startBroker({ CLIENTS_FILE: clients }),
    startBroker({}),
    startBrokerWithSimulator({ CLIENTS_FILE: clients }, [simApp('mp')], { WECHAT_MP_SECRET: WRONG_SECRET }),
  ]);
});

test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), demo?.stop(), misconfigured?.stop(), rpServer?.close()]);
});

test.serial('a phone browser outside WeChat: a page that says to open the link in WeChat, and offers the QR for another device', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'mobile');
  const { url, check } = await rp.start();
  await page.goto(url);
  t.is(await page.locator('h1').innerText(), '请在微信中打开');
  const link = await page.locator('#link').innerText();
  // Since the phone hand-off: a short broker link, not the ~400-character authorization request.
  t.regex(link, new RegExp(`^${broker.issuer}/h/[A-Za-z2-9]{10}$`));
  t.false(link.includes('wechat_silent') || link.includes('code_challenge') || link.includes('nonce'));
  await page.getByRole('link', { name: /二维码/ }).click();
  await scanQr(page, /Alice/);
  t.truthy((await rp.finish(await rp.landed(page), check)).claims()!.sub, 'the QR shown on the phone is scanned by another device');
  await context.close();
});

test.serial('the demo: open the printed URL, pick a simulated user, land back on the demo page with the ID token\'s claims', async (t) => {
  t.regex(demo.output(), new RegExp(`demo\\s+${demo.issuer}/demo`));
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  await page.goto(`${demo.issuer}/demo`);
  await page.getByRole('link', { name: 'Log in with WeChat' }).click();
  // The demo offers the simulated company's WeCom beside WeChat: a desktop picks.
  await page.getByRole('heading', { name: 'Choose how to log in' }).waitFor();
  await page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await scanQr(page, /Bob/);
  await page.waitForURL(`${demo.issuer}/demo`);
  const idToken = JSON.parse(await page.locator('#id-token-claims').innerText()) as Record<string, unknown>;
  t.is(idToken.iss, demo.issuer);
  t.is(idToken.aud, 'demo');
  const userinfo = JSON.parse(await page.locator('#userinfo').innerText()) as Record<string, unknown>;
  t.is(userinfo.nickname, 'Bob <b>&amp; "quotes"', 'markup in a nickname is shown as text');
  t.is(await page.locator('pre b').count(), 0);
  t.is(await page.getByRole('row', { name: /Nickname/ }).locator('td').innerText(), 'Bob <b>&amp; "quotes"', 'claims shown readably, as text');
  await page.getByRole('link', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL(`${demo.issuer}/demo`);
  t.is(await page.getByRole('link', { name: 'Log in with WeChat' }).count(), 1);
  await context.close();
});

test.serial('the README\'s dev-mode follow-to-login walkthrough: the demo, "following instead", the simulator\'s /q/latest, the link opened in WeChat, confirm', async (t) => {
  const desktop = await newPerson(browser, 'desktop', 'en');
  const phone = await newPerson(browser, 'wechat', 'en');
  t.teardown(() => Promise.all([desktop.context.close(), phone.context.close()]));
  await desktop.page.goto(`${demo.issuer}/demo`);
  await desktop.page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await desktop.page.getByRole('heading', { name: 'Choose how to log in' }).waitFor();
  await desktop.page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await desktop.page.getByRole('link', { name: 'Log in by following the Official Account instead' }).click();
  await desktop.page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  // "Scan" at the simulator's /q/latest, as Chen, then open the account's link in WeChat as Chen.
  await setPhoneUser(phone.context, demo.simulator, 'chen');
  await phone.page.goto(`${demo.simulator}/q/latest`);
  await phone.page.getByRole('button', { name: '陈大文' }).click();
  await phone.page.locator('blockquote.chat a').click();
  await phone.page.getByRole('button', { name: 'Confirm login' }).click();
  await desktop.page.waitForURL(`${demo.issuer}/demo`);
  const idToken = JSON.parse(await desktop.page.locator('#id-token-claims').innerText()) as Record<string, unknown>;
  t.deepEqual(idToken.amr, ['wechat_follow']);
});

test.serial('the demo offers WeCom too: on the desktop pick page, the simulated company\'s login panel in the broker\'s page logs a member in with amr wecom', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${demo.issuer}/demo`);
  await page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await page.getByRole('link', { name: /Log in with WeCom/ }).click();
  t.true(page.url().startsWith(demo.issuer), 'WeCom\'s panel is drawn inside the broker\'s page');
  await page.frameLocator('#ww_login iframe').getByRole('button', { name: /扫码登录 · 王小爱/ }).click();
  await page.waitForURL(`${demo.issuer}/demo`);
  const idToken = JSON.parse(await page.locator('#id-token-claims').innerText()) as Record<string, unknown>;
  t.deepEqual(idToken.amr, ['wecom']);
  t.like(JSON.parse(await page.locator('#userinfo').innerText()), { name: '王小爱', wecom_userid: 'WangXiaoAi' });
});

test.serial('the demo relying party refuses a callback it never started a login for (login CSRF)', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  await page.goto(`${demo.issuer}/demo/callback?code=forged&iss=${encodeURIComponent(demo.issuer)}`);
  await page.waitForURL(`${demo.issuer}/demo`);
  t.regex(await page.locator('#error').innerText(), /no login was started in this browser/i);
  t.is(await page.locator('#id-token-claims').count(), 0);
  await context.close();
});

test.serial('WeChat refuses the app secret: a page saying the service is misconfigured, an operator log line with the request id, no secret anywhere', async (t) => {
  t.false(misconfigured.broker.output().includes('simulator'), 'with credentials set the built-in simulator does not run');
  const rp = await createRp(misconfigured.broker.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'wechat', 'en');
  await setPhoneUser(context, misconfigured.simulator.url, 'alice');
  // WeChat delivers the callback twice: the second delivery, the one the browser shows, gets the same page.
  await deliverTwice(misconfigured.simulator.url);
  const shown = page.waitForResponse((answer) => answer.url().includes('/wechat?') && answer.request().isNavigationRequest());
  await page.goto((await rp.start()).url);
  t.is((await shown).status(), 503);
  t.regex(await page.locator('p').first().innerText(), /misconfigured/);
  const isRefusal = (entry: Record<string, unknown>) => entry.level === 50 && (entry.wechat as { errcode?: number } | undefined)?.errcode === 40125;
  await misconfigured.broker.logged(isRefusal);
  const line = misconfigured.broker.logs().find(isRefusal);
  t.truthy(line, 'an error line for the operator');
  t.regex(String((line!.wechat as { rid?: string }).rid), /^[A-Za-z0-9_-]+/);
  t.regex(String(line!.msg), /WECHAT_MP_SECRET/);
  t.false(misconfigured.broker.output().includes(WRONG_SECRET));
  t.false((await page.content()).includes(WRONG_SECRET));
  await context.close();
});

test.serial('pages carry a CSP as narrow as they allow: nonces, no inline handlers, only wxLogin.js and the QR frame from outside', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  const response = await page.goto((await rp.start()).url);
  const csp = String(response?.headers()['content-security-policy']);
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /script-src 'nonce-[A-Za-z0-9+/=]+' http:\/\/127\.0\.0\.1:\d+\/connect\/zh_CN\/htmledition\/js\/wxLogin\.js;/, 'wxLogin.js by its full URL, not its whole origin');
  t.regex(csp, /frame-src http:\/\/127\.0\.0\.1:\d+\/connect\/qrconnect;/, 'only WeChat\'s QR page may be framed');
  t.regex(csp, /img-src 'self' data:;/, 'no images from elsewhere');
  t.notRegex(csp, /unsafe-inline|unsafe-eval/);
  t.regex(csp, /frame-ancestors 'none'/);
  t.is(await page.locator('h1').innerText(), 'Log in with WeChat');
  t.is(await page.locator('link[rel=stylesheet], link[href*="fonts"]').count(), 0);
  await context.close();
});

test.serial('an unknown page: a plain not-found page in the person\'s language', async (t) => {
  const zh = await fetch(`${broker.issuer}/no/such/page`, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
  t.is(zh.status, 404);
  t.regex(await zh.text(), /页面不存在/);
  const en = await fetch(`${broker.issuer}/no/such/page`, { headers: { 'accept-language': 'en-US,en;q=0.8' } });
  t.regex(await en.text(), /There is no such page/);
});

test.serial('an interaction URL opened in another browser: a plain page, no stack trace', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const response = await fetch((await rp.start()).url, { redirect: 'manual' });
  const interaction = new URL(response.headers.get('location')!, broker.issuer).href;
  const stranger = await fetch(interaction, { headers: { 'accept-language': 'en' } });
  t.is(stranger.status, 400);
  const body = await stranger.text();
  t.regex(body, /The login timed out/);
  t.notRegex(body, /at .*\.(ts|js):\d+/);
});

/** The colours of an element's pixels as the person sees them (its screenshot, decoded in a blank page of the same browser). */
async function pixelsOf(page: Page, selector: string): Promise<Array<[number, number, number]>> {
  const png = (await page.locator(selector).first().screenshot()).toString('base64');
  const blank = await page.context().newPage();
  try {
    return await blank.evaluate(async (data) => {
      const image = await createImageBitmap(await (await fetch(`data:image/png;base64,${data}`)).blob());
      const canvas = new OffscreenCanvas(image.width, image.height);
      const drawing = canvas.getContext('2d')!;
      drawing.drawImage(image, 0, 0);
      const { data: rgba } = drawing.getImageData(0, 0, image.width, image.height);
      const pixels: Array<[number, number, number]> = [];
      for (let i = 0; i < rgba.length; i += 4) pixels.push([rgba[i]!, rgba[i + 1]!, rgba[i + 2]!]);
      return pixels;
    }, png);
  } finally {
    await blank.close();
  }
}

test.serial('a WeChat avatar that no longer loads (the person changed it) shows a plain grey circle, not a broken-image icon; one that loads shows', async (t) => {
  // WeChat's avatar server (thirdwx.qlogo.cn: unreachable here) is played by the browser's routes.
  const consent = tour(() => ({ broker, rpServer })).consent!;
  for (const avatar of ['stale', 'red'] as const) {
    const { page, context } = await newPerson(browser, 'desktop', 'en');
    await context.route('https://thirdwx.qlogo.cn/**', (route) => (avatar === 'stale'
      ? route.fulfill({ status: 404, body: '' })
      : route.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#c00"/></svg>' })));
    try {
      await consent.open(page);
      await page.locator('.person img').evaluate((image: HTMLImageElement) => image.decode().catch(() => undefined));
      const pixels = await pixelsOf(page, '.person img');
      // The inner square of the circle (its edge is antialiased).
      const side = Math.round(Math.sqrt(pixels.length));
      const inner = pixels.filter((_, i) => Math.abs((i % side) - side / 2) < side / 3 && Math.abs(Math.floor(i / side) - side / 2) < side / 3);
      const colours = new Set(inner.map((pixel) => pixel.join()));
      if (avatar === 'red') {
        t.true(inner.every(([r, g, b]) => r > 150 && g < 60 && b < 60), 'the avatar that loads is what shows');
        continue;
      }
      const panel = (await pixelsOf(page, '.person'))[3 * Math.round((await page.locator('.person').boundingBox())!.width) + 100]!;
      t.is(colours.size, 1, `one colour: no icon, no alt text's box (${[...colours].slice(0, 4).join(' / ')}…)`);
      const [[r, g, b]] = inner as [[number, number, number]];
      t.true(r === g && g === b && r < panel[0] - 20, `a grey circle, darker than the panel behind it (${r} against ${panel[0]})`);
    } finally {
      await context.unrouteAll({ behavior: 'ignoreErrors' });
      await context.close();
    }
  }
});

test.serial('dark mode: the pages follow the phone\'s setting (WeChat\'s browser passes it on), while WeChat\'s QR stays on white for the scanner', async (t) => {
  const qrLogin = tour(() => ({ broker, rpServer }))['QR login']!;
  const { page, context } = await newPerson(browser, qrLogin.device, 'en');
  try {
    await qrLogin.open(page);
    t.is(await page.locator('meta[name="color-scheme"]').getAttribute('content'), 'light dark', 'the browser may paint its own parts dark too');
    const colours = () => page.evaluate(() => {
      const style = (selector: string) => getComputedStyle(document.querySelector(selector)!);
      return { page: style('body').backgroundColor, card: style('section').backgroundColor, text: style('h1').color, qr: style('#qr').backgroundColor };
    });
    await page.emulateMedia({ colorScheme: 'light' });
    t.deepEqual(await colours(), { page: 'rgb(242, 242, 242)', card: 'rgb(255, 255, 255)', text: 'rgb(25, 25, 25)', qr: 'rgba(0, 0, 0, 0)' });
    await page.emulateMedia({ colorScheme: 'dark' });
    t.deepEqual(await colours(), { page: 'rgb(17, 17, 17)', card: 'rgb(25, 25, 25)', text: 'rgb(229, 229, 229)', qr: 'rgb(255, 255, 255)' });
  } finally {
    await context.close();
  }
});
