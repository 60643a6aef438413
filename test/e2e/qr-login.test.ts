// Desktop QR login, embedded (wxLogin.js in the broker's page) and redirect (WeChat's page).

import test from 'ava';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { createRp } from '../helpers/rp.ts';

let browser: Browser;
let embedded: RunningBroker;
let redirect: RunningBroker;
let rpServer: RpServer;

test.before(async () => {
  rpServer = await startRpServer();
  const clients = writeClientsFile(testClients(rpServer.origin));
  [browser, embedded, redirect] = await Promise.all([
    launchChromium(),
    startBroker({ CLIENTS_FILE: clients }),
    startBroker({ CLIENTS_FILE: clients, WECHAT_QR_MODE: 'redirect' }),
  ]);
});

test.after.always(async () => {
  await Promise.all([browser?.close(), embedded?.stop(), redirect?.stop(), rpServer?.close()]);
});

test.serial('embedded QR: the broker page draws the QR with wxLogin.js and the RP gets a validated ID token', async (t) => {
  const rp = await createRp(embedded.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'desktop');
  const { url, check } = await rp.start();
  await page.goto(url);
  const qr = page.frameLocator('#qr iframe');
  const frame = (await page.locator('#qr iframe').boundingBox())!;
  const refuse = (await qr.getByRole('button', { name: /no code/ }).boundingBox())!;
  t.true(refuse.y + refuse.height <= frame.y + frame.height, 'every choice fits in WeChat\'s 400 px QR iframe, which does not scroll');
  await qr.getByRole('button', { name: /Alice/ }).click();
  const landed = await rp.landed(page);
  t.is(landed.searchParams.get('iss'), embedded.issuer);
  const tokens = await rp.finish(landed, check);
  const claims = tokens.claims()!;
  t.is(claims.iss, embedded.issuer);
  t.is(claims.aud, 'first-party');
  t.regex(claims.sub, /^[0-9a-f-]{36}$/);
  const userinfo = await import('openid-client').then((oidc) => oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub));
  t.is(userinfo.nickname, '小爱 Alice 🌸');
  t.is(userinfo.name, '小爱 Alice 🌸');
  t.regex(String(userinfo.picture), /^https:\/\/thirdwx\.qlogo\.cn\//);
  t.regex(String(userinfo.wechat_unionid), /^u/);
  t.regex(String(userinfo.wechat_openid), /^o/);
  await context.close();
});

test.serial('redirect QR: the person goes to WeChat\'s qrconnect page and back', async (t) => {
  const rp = await createRp(redirect.issuer, rpServer);
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  const { url, check } = await rp.start();
  await page.goto(url);
  t.true(page.url().startsWith(`${redirect.simulator}/connect/qrconnect?appid=`));
  t.true(page.url().endsWith('#wechat_redirect'));
  t.regex(page.url(), /&state=[A-Za-z0-9]{24}&lang=en#/);
  await page.getByRole('button', { name: /Bob/ }).click();
  const tokens = await rp.finish(await rp.landed(page), check);
  t.truthy(tokens.claims()!.sub);
  await context.close();
});
