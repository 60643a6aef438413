// A company's several WeChat apps (WECHAT_APPS_FILE): one person through two Official
// Accounts and a website app gets one sub, and each login's wechat_openid is its app's;
// a client pinned to an app by `wechat_apps` goes through that app.

import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium } from '../helpers/browser.ts';
import { sendPush, ticketPush } from '../helpers/platform-push.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, simApp, simCalls, startTestSimulator } from '../helpers/simulator.ts';
import { loginByQr, loginInWeChat } from '../helpers/wechat.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const brand = simApp('mp');
const shop = simApp('mp');
const web = simApp('open');
let browser: Browser;
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;

test.before(async () => {
  [browser, rpServer, simulator] = await Promise.all([launchChromium(), startRpServer(), startTestSimulator([brand, shop, web])]);
  const dir = mkdtempSync(join(tmpdir(), 'broker-apps-'));
  const appsFile = join(dir, 'apps.json');
  writeFileSync(join(dir, 'web-secret'), `${web.secret}\n`);
  writeFileSync(appsFile, JSON.stringify([
    { id: 'brand-mp', kind: 'mp', appid: brand.appid, secret_env: 'BRAND_MP_SECRET', name: '品牌服务号' },
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, secret_env: 'SHOP_MP_SECRET', name: '商城服务号' },
    { id: 'web', kind: 'open', appid: web.appid, secret_file: join(dir, 'web-secret') },
  ]));
  const clients = [...testClients(rpServer.origin), {
    client_id: 'shop', client_secret: 'shop-secret-0123456789abcdef0123456789', redirect_uris: [rpServer.callback], first_party: true, wechat_apps: ['shop-mp', 'web'],
  }];
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(clients), WECHAT_APPS_FILE: appsFile, BRAND_MP_SECRET: brand.secret, SHOP_MP_SECRET: shop.secret,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), simulator?.close(), rpServer?.close()]);
});

/** The shop client's RP (pinned to shop-mp and web). */
const shopRp = (): Promise<Rp> => createRp(broker.issuer, rpServer, 'shop', 'shop-secret-0123456789abcdef0123456789');

test('one person through two Official Accounts and a website app: one sub, each login\'s openid its app\'s', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const viaBrand = await loginInWeChat(browser, rp, simulator.url, 'alice', { allow: true });
  const calls = await simCalls(simulator.url);
  t.is(calls.filter((call) => call.path === '/connect/oauth2/authorize').at(-1)?.appid, brand.appid, 'the first mp of the list');
  const shopClient = await shopRp();
  const viaShop = await loginInWeChat(browser, shopClient, simulator.url, 'alice', { allow: true });
  t.is((await simCalls(simulator.url)).filter((call) => call.path === '/connect/oauth2/authorize').at(-1)?.appid, shop.appid, 'pinned to shop-mp');
  const viaWeb = await loginByQr(browser, rp, /Alice/);
  t.is(viaShop.claims.sub, viaBrand.claims.sub);
  t.is(viaWeb.claims.sub, viaBrand.claims.sub);
  t.is(new Set([viaBrand.userinfo.wechat_openid, viaShop.userinfo.wechat_openid, viaWeb.userinfo.wechat_openid]).size, 3, 'an openid per app');
});

test('the apps file: mistakes are one line naming the app and the field; both forms at once is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-apps-bad-'));
  const run = async (apps: unknown, env: Record<string, string> = {}) => {
    const file = join(dir, `apps-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(apps));
    return startBroker({ WECHAT_APPS_FILE: file, ...env }).then(async (started) => { await started.stop(); return ''; }, (error: Error) => error.message);
  };
  t.regex(await run([{ id: 'a b', kind: 'mp', appid: 'wx1', secret_env: 'X' }]), /Configuration error: WECHAT_APPS_FILE: app a b: id must be 1 to 32 letters/);
  t.regex(await run([{ id: 'x', kind: 'mp', appid: 'wx1', secret: 'inline' }]), /app x: .*secret/);
  t.regex(await run([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'NOT_SET' }]), /app x: secret_env names NOT_SET, which is not set/);
  t.regex(await run([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S', token_env: 'T' }], { S: 'b'.repeat(32), T: 'token' }), /app x: token_env and aes_key_env belong to a component/);
  t.regex(await run([{ id: 'x', kind: 'mp', appid: 'wx1', secret_env: 'S' }], { WECHAT_MP_APPID: 'wx2', WECHAT_MP_SECRET: 'a'.repeat(32), S: 'b'.repeat(32) }), /set either WECHAT_APPS_FILE or WECHAT_MP_\*/);
});

test('a third-party platform entry: its pushes are received at /wechat/platform/<id>/auth-events; its keys are checked at startup', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-platform-'));
  const file = join(dir, 'apps.json');
  const isv = { appid: 'wxc0mp0nent00000a1', token: 'platformToken1', aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };
  const entry = { id: 'isv', kind: 'component', appid: isv.appid, secret_env: 'ISV_SECRET', token_env: 'ISV_TOKEN', aes_key_env: 'ISV_AES_KEY' };
  writeFileSync(file, JSON.stringify([{ id: 'site', kind: 'open', appid: web.appid, secret_file: join(dir, 'web-secret') }, entry]));
  writeFileSync(join(dir, 'web-secret'), web.secret);
  const env = { WECHAT_APPS_FILE: file, ISV_SECRET: 'c'.repeat(32), ISV_TOKEN: isv.token, ISV_AES_KEY: isv.aesKey };
  const withPlatform = await startBroker(env);
  t.teardown(() => withPlatform.stop());
  t.deepEqual(await sendPush(`${withPlatform.issuer}/wechat/platform/isv/auth-events`, ticketPush(isv, 'ticket@@@e2e')), { status: 200, body: 'success' });
  t.true(await withPlatform.logged((line) => line.msg === 'component_verify_ticket received'));
  const refused = await startBroker({ ...env, ISV_AES_KEY: 'too-short' }).then(async (started) => { await started.stop(); return ''; }, (error: Error) => error.message);
  t.regex(refused, /app isv: aes_key_env must name a variable holding the 43-character EncodingAESKey/);
});
