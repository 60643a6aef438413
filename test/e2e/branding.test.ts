// Pages a company can put its name on: name, logo, colour, policy links and licence
// numbers, all from environment variables.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, setPhoneUser, simApp, startTestSimulator, wechatEnv } from '../helpers/simulator.ts';
import { allowInWeChat } from '../helpers/wechat.ts';
import { tempDir } from '../helpers/temp.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let browser: Browser;
let rpServer: RpServer;
let broker: RunningBroker;

test.before(async () => {
  const dir = tempDir('broker-brand');
  writeFileSync(join(dir, 'logo.png'), PNG);
  rpServer = await startRpServer();
  [browser, broker] = await Promise.all([launchChromium(), startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin).map((client) => (client.client_id === 'branded' ? { ...client, initiate_login_uri: 'https://shop.example/wechat-login' } : client))),
    BRAND_NAME: '示例科技', BRAND_NAME_EN: 'Example Tech', BRAND_LOGO_FILE: join(dir, 'logo.png'), BRAND_COLOR: '#1a73e8',
    BRAND_PRIVACY_URL: 'https://www.example.com/privacy', BRAND_TERMS_URL: 'https://www.example.com/terms',
    ICP_LICENSE: '京ICP备12345678号-1', PSB_LICENSE: '京公网安备11010502030000号',
  })]);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close()]);
});

test.serial('every page carries the name, the logo, the colour, the policy links and the licence numbers', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'desktop');
  for (const url of [(await rp.start()).url, `${broker.issuer}/no/such/page`]) {
    await page.goto(url);
    t.is(await page.locator('header span').innerText(), '示例科技', url);
    t.regex(await page.title(), / - 示例科技$/);
    t.is(await page.locator('header img').evaluate((image: HTMLImageElement) => image.naturalWidth), 1, 'the logo loads (from the broker itself)');
    t.is(await page.getByRole('link', { name: '京ICP备12345678号-1' }).getAttribute('href'), 'https://beian.miit.gov.cn/');
    t.is(await page.getByRole('link', { name: '京公网安备11010502030000号' }).getAttribute('href'), 'https://beian.mps.gov.cn/#/query/webSearch?code=11010502030000');
    t.is(await page.locator('footer').getByRole('link', { name: '隐私政策' }).getAttribute('href'), 'https://www.example.com/privacy');
    t.is(await page.locator('footer').getByRole('link', { name: '服务条款' }).getAttribute('href'), 'https://www.example.com/terms');
  }
  await page.goto((await rp.start()).url);
  t.is(await page.locator('.agreement').innerText(), '登录即表示你同意《示例科技用户协议》和《示例科技隐私政策》', 'an app without documents of its own: the company\'s, on the login page itself');
  t.is(await page.getByRole('link', { name: '示例科技用户协议' }).getAttribute('href'), 'https://www.example.com/terms');
  const logo = await fetch(`${broker.issuer}/brand/logo`);
  t.is(logo.headers.get('content-type'), 'image/png');
  await context.close();
});

test.serial('buttons in the brand colour, with the text colour that keeps AA contrast', async (t) => {
  const { page, context } = await newPerson(browser, 'mobile');
  const rp = await createRp(broker.issuer, rpServer);
  await page.goto((await rp.start()).url);
  const [background, color] = await page.locator('.primary').first().evaluate((element) => {
    const style = getComputedStyle(element);
    return [style.backgroundColor, style.color];
  });
  t.is(background, 'rgb(26, 115, 232)');
  t.is(color, 'rgb(255, 255, 255)');
  await context.close();
});

test.serial('the app the person logs into, in their language, on the QR page; "back to the app" gives it access_denied with its state', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop');
  const { url, check } = await rp.start();
  await page.goto(url);
  t.is(await page.locator('.app strong').innerText(), '示例商城');
  t.is(await page.locator('.app .muted').innerText(), 'shop.example');
  t.is(await page.locator('.agreement').innerText(), '登录即表示你同意《示例商城用户协议》和《示例商城隐私政策》');
  t.is(await page.getByRole('link', { name: '示例商城隐私政策' }).getAttribute('href'), 'https://shop.example/privacy');
  await page.getByRole('button', { name: '返回“示例商城”' }).click();
  const landed = await rp.landed(page);
  t.is(landed.searchParams.get('error'), 'access_denied');
  t.is(landed.searchParams.get('state'), check.state);
  await context.close();
});

test.serial('a phone outside WeChat: the open-in-WeChat page names the app and offers the way back', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'mobile', 'en');
  await page.goto((await rp.start()).url);
  t.is(await page.locator('.app strong').innerText(), 'Example Shop');
  t.is(await page.locator('header span').innerText(), 'Example Tech', 'the company\'s English name on an English page');
  t.is(await page.getByRole('button', { name: 'Back to Example Shop' }).count(), 1);
  t.is(await page.locator('.agreement').innerText(), 'By logging in you agree to the Example Shop Terms of Service and the Example Shop Privacy Policy.');
  await context.close();
});

test.serial('consent names the app with its policy links; logout says it ends every app\'s login and leads back to the app', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  const { url, check } = await rp.start({ redirect_uri: rpServer.callback });
  await page.goto(url);
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  t.regex(await page.locator('section').innerText(), /Example Shop asks for:/);
  t.regex(await page.locator('.person').innerText(), /^Logged in as 小爱 Alice 🌸\./, 'who is logged in');
  t.regex(String(await page.locator('.person img').getAttribute('src')), /^https:\/\/thirdwx\.qlogo\.cn\//, 'with the WeChat avatar');
  const switchHref = String(await page.getByRole('link', { name: 'Not you? Switch account' }).getAttribute('href'));
  t.regex(switchHref, /^\/interaction\/[\w-]+\?switch=account$/, 'no parameter of the request is copied into a URL (a pushed request stays pushed)');
  t.is(await page.locator('.agreement').getByRole('link', { name: 'the Example Shop Privacy Policy' }).getAttribute('href'), 'https://shop.example/privacy');
  await page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await rp.finish(await rp.landed(page), check);
  await page.goto(`${broker.issuer}/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token! })}`);
  t.regex(await page.locator('section p').last().innerText(), /every app that uses this login service/);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.getByRole('heading', { name: 'Logged out' }).waitFor();
  t.is(await page.getByRole('link', { name: 'Back to Example Shop' }).getAttribute('href'), 'https://shop.example');
  await context.close();
});

test.serial('"Not you?" on the consent page logs in again within the same request: somebody else gets their own consent and their own sub', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const first = await rp.start({ redirect_uri: rpServer.callback });
  await page.goto(first.url);
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  const alice = (await rp.finish(await rp.landed(page), first.check)).claims()!.sub;
  // The same browser, a new request: Alice's session is there; the consent page offers "not you?".
  const { url, check } = await rp.start({ redirect_uri: rpServer.callback, prompt: 'consent' });
  await page.goto(url);
  await page.getByRole('link', { name: 'Not you? Switch account' }).click();
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Bob/ }).click();
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  t.regex(await page.locator('.person').innerText(), /^Logged in as Bob/, 'the consent is now Bob\'s');
  await page.getByRole('button', { name: 'Allow' }).click();
  const bob = (await rp.finish(await rp.landed(page), check)).claims()!.sub;
  t.not(bob, alice);
});

test.serial('inside WeChat the consent page offers no account switch: the login can only be the WeChat account present', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'wechat', 'en');
  t.teardown(() => context.close());
  await setPhoneUser(context, broker.simulator, 'alice');
  await page.goto((await rp.start({ redirect_uri: rpServer.callback })).url);
  await allowInWeChat(page);
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  t.regex(await page.locator('.person').innerText(), /^Logged in as 小爱 Alice 🌸\./);
  t.is(await page.getByRole('link', { name: /Not you/ }).count(), 0);
});

test.serial('errors are plain sentences in the person\'s language, with the code and request id small, and a way back to the app', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  const url = new URL((await rp.start()).url);
  url.searchParams.set('redirect_uri', 'https://evil.example/cb');
  const response = await page.goto(url.href);
  t.is(response?.status(), 400);
  t.is(await page.locator('h1').innerText(), 'Login could not be completed');
  t.regex(await page.locator('section > p').first().innerText(), /^The app asked to be sent back to an address that is not registered here/);
  t.regex(await page.locator('.detail').innerText(), /^invalid_redirect_uri: .* · request id [\w-]+$/);
  t.is(await page.getByRole('link', { name: 'Back to Example Shop' }).getAttribute('href'), 'https://shop.example');
  const zh = await newPerson(browser, 'desktop', 'zh-CN');
  await zh.page.goto(url.href);
  t.notRegex(await zh.page.locator('section > p').first().innerText(), /[A-Za-z]{4,}/, 'no raw English in the Chinese sentence');
  await Promise.all([context.close(), zh.context.close()]);
});

test.serial('a login that can no longer go on offers a fresh one at the app (its initiate_login_uri, with iss), in the browser that started it', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  await page.goto((await rp.start()).url);
  const login = page.url();
  const restart = `https://shop.example/wechat-login?iss=${encodeURIComponent(broker.issuer)}`;
  // WeChat comes back with a state this login never issued.
  const forged = await page.goto(`${login}/wechat?code=061abcdefghijklmnopqrstuvwxyz012&state=${'a'.repeat(43)}`);
  t.is(forged?.status(), 400);
  t.is(await page.getByRole('link', { name: 'Log in to Example Shop again' }).getAttribute('href'), restart);
  t.is(await page.getByRole('link', { name: 'Back to Example Shop' }).getAttribute('href'), 'https://shop.example');
  // The login expired (its interaction cookie is gone): the same way out.
  await context.clearCookies({ name: /^_interaction/ });
  const expired = await page.goto(login);
  t.is(expired?.status(), 400);
  t.is(await page.locator('h1').innerText(), 'Login could not be completed');
  t.is(await page.getByRole('link', { name: 'Log in to Example Shop again' }).getAttribute('href'), restart);
  // Another browser never started a login here: nothing to offer but the sentence.
  const stranger = await newPerson(browser, 'desktop', 'en');
  await stranger.page.goto(login);
  t.is(await stranger.page.getByRole('link', { name: /again/ }).count(), 0);
  await Promise.all([context.close(), stranger.context.close()]);
});

test.serial('404 is "page not found"; / says what this service is', async (t) => {
  const missing = await fetch(`${broker.issuer}/no/such/page`, { headers: { 'accept-language': 'en' } });
  t.regex(await missing.text(), /<h1>Page not found<\/h1>/);
  const home = await fetch(`${broker.issuer}/`, { headers: { 'accept-language': 'zh-CN' } });
  t.is(home.status, 200);
  const text = await home.text();
  t.regex(text, /微信登录服务/);
  t.regex(text, /\/\.well-known\/openid-configuration/);
  t.notRegex(text, /无法完成登录/);
});

test.serial('languages: Traditional Chinese for zh-TW, and the switcher\'s choice sticks whatever the browser says', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'branded');
  const { page, context } = await newPerson(browser, 'desktop', 'zh-TW');
  await page.goto((await rp.start()).url);
  t.is(await page.locator('h1').innerText(), '微信掃碼登入');
  t.is(await page.locator('html').getAttribute('lang'), 'zh-TW');
  await page.getByRole('link', { name: 'English' }).click();
  t.is(await page.locator('h1').innerText(), 'Log in with WeChat', 'the same page, now in English');
  await page.goto(`${broker.issuer}/no/such/page`);
  t.is(await page.locator('h1').innerText(), 'Page not found', 'and it sticks');
  const away = await fetch(`${broker.issuer}/lang/en?back=${encodeURIComponent('//evil.example/')}`, { redirect: 'manual' });
  t.is(away.headers.get('location'), '/', 'the switcher never sends anyone elsewhere');
  await context.close();
});

test.serial('the QR page when wxLogin.js does not load: a visible message and WeChat\'s own page offered', async (t) => {
  const apps = [simApp('open')];
  const simulator = await startTestSimulator(apps);
  try {
    const broken = await startBroker({
      CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin).map((client) => (client.client_id === 'branded' ? { ...client, initiate_login_uri: 'https://shop.example/wechat-login' } : client))), ...wechatEnv(simulator, apps),
      // wxLogin.js blocked: this address answers 404.
      WECHAT_LOGIN_JS_URL: `${simulator.url}/connect/missing/wxLogin.js`,
    });
    await addCallbackHost(simulator.url, new URL(broken.issuer).host);
    try {
      const rp = await createRp(broken.issuer, rpServer);
      const { page, context } = await newPerson(browser, 'desktop', 'en');
      await page.goto((await rp.start()).url);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      t.regex(await alert.innerText(), /did not load/);
      t.regex(String(await page.locator('#qr-fallback').getAttribute('href')), /\/connect\/qrconnect\?appid=/);
      await page.locator('#qr-fallback').click();
      await page.getByRole('button', { name: /Alice/ }).click();
      t.truthy((await rp.landed(page)).searchParams.get('code'), 'WeChat\'s own page logs the person in');
      await context.close();
    } finally {
      await broken.stop();
    }
  } finally {
    await simulator.close();
  }
});
