// A company's WeChat estate (WECHAT_APPS_FILE): one person through two Official Accounts
// (the shop's reached through the company's third-party platform) and a website app gets
// one sub, and each login's wechat_openid is its app's; a client pinned to an app by
// `wechat_apps` goes through that app (the phone hand-off too); a platform without a ticket yet shows a clear page.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson, USER_AGENTS } from '../helpers/browser.ts';
import { callbackOf, cookieJar, follow } from '../helpers/fetch-login.ts';
import { sendPush, ticketPush } from '../helpers/platform-push.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, authorizeScopes, injectFaults, issueCode, pushTicketNow, setPhoneUser, setPlatformUrls, simApp, simCalls, simPlatform, startTestSimulator } from '../helpers/simulator.ts';
import { allowInWeChat, handOff, loginByQr, loginInWeChat } from '../helpers/wechat.ts';
import { fetchUserInfo } from 'openid-client';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { tempDir } from '../helpers/temp.ts';

const brand = simApp('mp');
const shop = simApp('mp');
/** A second Official Account with its own secret, listed after the others. */
const club = simApp('mp');
const web = simApp('open');
/** A partner's own Official Account: its sheet is the partner client's consent (sheet_consent_for). */
const partner = simApp('mp');
const platform = simPlatform(shop);
let browser: Browser;
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;

/** The estate's apps file: brand-mp with its own secret, shop-mp through the platform, the website app, the platform. */
function estateFile(dir: string): string {
  const appsFile = join(dir, 'apps.json');
  writeFileSync(join(dir, 'web-secret'), `${web.secret}\n`);
  writeFileSync(appsFile, JSON.stringify([
    { id: 'brand-mp', kind: 'mp', appid: brand.appid, secret_env: 'BRAND_MP_SECRET', name: '品牌服务号' },
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, via: 'platform', name: '商城服务号' },
    { id: 'club-mp', kind: 'mp', appid: club.appid, secret_env: 'CLUB_MP_SECRET', name: '会员服务号' },
    { id: 'web', kind: 'open', appid: web.appid, secret_file: join(dir, 'web-secret') },
    { id: 'partner-mp', kind: 'mp', appid: partner.appid, secret_env: 'PARTNER_MP_SECRET', name: '伙伴服务号', sheet_consent_for: ['partner'] },
    { id: 'platform', kind: 'component', appid: platform.appid, secret_env: 'PLATFORM_SECRET', token_env: 'PLATFORM_TOKEN', aes_key_env: 'PLATFORM_AES_KEY' },
  ]));
  return appsFile;
}

const estateEnv = (dir: string, clientsFile: string) => ({
  CLIENTS_FILE: clientsFile, WECHAT_APPS_FILE: estateFile(dir), BRAND_MP_SECRET: brand.secret, CLUB_MP_SECRET: club.secret, PARTNER_MP_SECRET: partner.secret,
  PLATFORM_SECRET: platform.secret, PLATFORM_TOKEN: platform.token, PLATFORM_AES_KEY: platform.aesKey,
  WECHAT_CONNECT_URL: simulator.url, WECHAT_MP_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
});

const SHOP_SECRET = 'shop-secret-0123456789abcdef0123456789';
const BRAND_SECRET = 'brand-secret-0123456789abcdef012345678';
const CLUB_SECRET = 'club-secret-0123456789abcdef0123456789a';
const PARTNER_SECRET = 'partner-secret-0123456789abcdef01234567';
const GUEST_SECRET = 'guest-secret-0123456789abcdef0123456789a';

test.before(async () => {
  [browser, rpServer, simulator] = await Promise.all([launchChromium(), startRpServer(), startTestSimulator([brand, shop, club, web, partner], [], [platform])]);
  const clients = [...testClients(rpServer.origin), {
    client_id: 'shop', client_secret: SHOP_SECRET, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: ['shop-mp', 'web'],
  }, {
    client_id: 'brand', client_secret: BRAND_SECRET, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: ['brand-mp'],
  }, {
    client_id: 'club', client_secret: CLUB_SECRET, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: ['club-mp'],
  }, {
    client_id: 'partner', client_name: '伙伴商城', client_secret: PARTNER_SECRET, redirect_uris: [rpServer.callback], wechat_apps: ['partner-mp'],
  }, {
    client_id: 'guest', client_name: '访客应用', client_secret: GUEST_SECRET, redirect_uris: [rpServer.callback], wechat_apps: ['partner-mp'],
  }];
  broker = await startBroker(estateEnv(tempDir('broker-apps'), writeClientsFile(clients)));
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
  // What the operator enters in the platform's console; then WeChat's first push.
  await setPlatformUrls(simulator.url, platform.appid, {
    auth_events_url: `${broker.issuer}/wechat/platform/platform/auth-events`, events_url: `${broker.issuer}/wechat/platform/platform/events/$APPID$`,
  });
  if ((await pushTicketNow(simulator.url, platform.appid)).body !== 'success') throw new Error('the broker refused the first ticket');
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), simulator?.close(), rpServer?.close()]);
});

/** The shop client's RP (pinned to shop-mp and web). */
const shopRp = (): Promise<Rp> => createRp(broker.issuer, rpServer, 'shop', SHOP_SECRET);
const lastAuthorize = async () => (await simCalls(simulator.url)).filter((call) => call.path === '/connect/oauth2/authorize').at(-1);

test.serial('one person through two Official Accounts (one through the platform) and a website app: one sub, each login\'s openid its app\'s', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const viaBrand = await loginInWeChat(browser, rp, simulator.url, 'alice', { allow: true });
  t.is((await lastAuthorize())?.appid, brand.appid, 'the first mp of the list');
  const shopClient = await shopRp();
  const viaShop = await loginInWeChat(browser, shopClient, simulator.url, 'alice', { allow: true });
  t.like(await lastAuthorize(), { appid: shop.appid, component: platform.appid }, 'pinned to shop-mp, authorized on its behalf by the platform');
  const viaWeb = await loginByQr(browser, rp, /Alice/);
  t.is(viaShop.claims.sub, viaBrand.claims.sub);
  t.is(viaWeb.claims.sub, viaBrand.claims.sub);
  t.is(new Set([viaBrand.userinfo.wechat_openid, viaShop.userinfo.wechat_openid, viaWeb.userinfo.wechat_openid]).size, 3, 'an openid per app');
});

test.serial('a client pinned to shop-mp goes through the platform (component token, component exchange); one pinned to brand-mp does not', async (t) => {
  const since = (await simCalls(simulator.url)).length;
  const viaBrand = await loginInWeChat(browser, await createRp(broker.issuer, rpServer, 'brand', BRAND_SECRET), simulator.url, 'chen', { allow: true });
  const brandCalls = (await simCalls(simulator.url)).slice(since);
  t.true(brandCalls.some((call) => call.path === '/sns/oauth2/access_token' && call.appid === brand.appid));
  t.false(brandCalls.some((call) => call.path.startsWith('/cgi-bin/component') || call.path === '/sns/oauth2/component/access_token' || call.component !== undefined));
  const middle = (await simCalls(simulator.url)).length;
  const viaShop = await loginInWeChat(browser, await shopRp(), simulator.url, 'chen', { allow: true });
  const shopCalls = (await simCalls(simulator.url)).slice(middle);
  t.true(shopCalls.some((call) => call.path === '/sns/oauth2/component/access_token' && call.appid === shop.appid));
  t.false(shopCalls.some((call) => call.path === '/sns/oauth2/access_token'), 'never with a secret of the shop\'s own');
  t.is(viaShop.claims.sub, viaBrand.claims.sub, 'one person, one sub, whichever way the account is reached');
  t.not(viaShop.userinfo.wechat_openid, viaBrand.userinfo.wechat_openid);
  // Coexistence: the broker never asks for the account's global access_token (/cgi-bin/token or stable_token).
  t.false((await simCalls(simulator.url)).some((call) => /^\/cgi-bin\/(token|stable_token)$/.test(call.path)));
});

test.serial('the phone hand-off of a client pinned to its second Official Account (its own secret) authorizes and exchanges the code there, never at the first', async (t) => {
  const { calls, claims } = await handOff(browser, await createRp(broker.issuer, rpServer, 'club', CLUB_SECRET), simulator.url, 'bob');
  t.deepEqual(calls.filter((call) => call.path === '/connect/oauth2/authorize').map((call) => call.appid), [club.appid]);
  t.deepEqual(calls.filter((call) => call.path === '/sns/oauth2/access_token').map((call) => call.appid), [club.appid]);
  t.truthy(claims.sub);
});

/**
 * A login inside WeChat as `user` at client `clientId` asking `scope`, up to where the
 * person lands after WeChat: the app, or the broker's consent page (then its items).
 */
async function inWeChatUpToApp(clientId: string, secret: string, user: string, scope: string): Promise<{ sheet: boolean; consent: string[] | undefined; claims: () => Promise<Record<string, unknown>> }> {
  const rp = await createRp(broker.issuer, rpServer, clientId, secret);
  const { context, page } = await newPerson(browser, 'wechat');
  await setPhoneUser(context, simulator.url, user);
  const since = (await simCalls(simulator.url)).length;
  const { url, check } = await rp.start({ scope });
  await page.goto(url);
  const sheet = (await authorizeScopes(simulator.url, since)).includes('snsapi_userinfo');
  if (sheet) await allowInWeChat(page);
  await page.waitForURL((at) => at.href.startsWith(rpServer.callback) || /^\/interaction\/[^/]+$/.test(at.pathname));
  const consent = page.url().startsWith(rpServer.callback) ? undefined : await page.locator('section ul li').allInnerTexts();
  if (consent) await page.getByRole('button', { name: '同意' }).click();
  const tokens = await rp.finish(await rp.landed(page), check);
  await context.close();
  return { sheet, consent, claims: async () => ({ ...tokens.claims(), ...await fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub) }) };
}

test.serial('inside WeChat, a client\'s own Official Account (sheet_consent_for): WeChat\'s sheet is its consent for nickname and avatar, never for the unionid; other clients, and logins without the sheet, get the consent page', async (t) => {
  // Alice's first login through the partner's account: WeChat's sheet, then straight to the app.
  const first = await inWeChatUpToApp('partner', PARTNER_SECRET, 'alice', 'openid profile');
  t.true(first.sheet);
  t.is(first.consent, undefined, 'no second prompt after WeChat\'s sheet');
  t.is((await first.claims()).nickname, '小爱 Alice 🌸');
  t.true(await broker.logged((line) => {
    const { privacy } = line as { privacy?: { action?: string; by?: string; client?: string; scopes?: string[] } };
    return privacy?.action === 'consent' && privacy.by === 'wechat-sheet' && privacy.client === 'partner' && privacy.scopes?.join(' ') === 'openid profile';
  }), 'the sheet\'s consent is on record as such');
  // Bob's: the sheet again, and the consent page asks for the unionid alone.
  const second = await inWeChatUpToApp('partner', PARTNER_SECRET, 'bob', 'openid profile wechat');
  t.true(second.sheet);
  t.deepEqual(second.consent, ['你的微信身份标识（用于在本公司各应用间识别你）', '你在本次登录所用微信应用中的身份标识']);
  t.truthy((await second.claims()).wechat_unionid);
  // Another client through the same account: the sheet named the account, not this client.
  const guest = await inWeChatUpToApp('guest', GUEST_SECRET, 'chen', 'openid profile');
  t.true(guest.sheet);
  t.deepEqual(guest.consent, ['你的账号标识', '你的微信昵称', '你的微信头像']);
  // Alice again, in a new session: WeChat knows her, no sheet is shown, so the broker asks.
  const again = await inWeChatUpToApp('partner', PARTNER_SECRET, 'alice', 'openid profile');
  t.false(again.sheet);
  t.deepEqual(again.consent, ['你的账号标识', '你的微信昵称', '你的微信头像']);
});

test.serial('on the account\'s behalf, the callback must name the account asked for: another appid, or none, is refused', async (t) => {
  const jar = cookieJar();
  const at = { issuer: broker.issuer, direct: broker.origin };
  const { url } = await (await shopRp()).start();
  const authorize = new URL((await follow(url, jar, at, USER_AGENTS.wechat)).url);
  t.is(authorize.searchParams.get('component_appid'), platform.appid);
  // The callback WeChat would send once the person allowed, bent three ways, then as sent.
  const code = await issueCode(simulator.url, shop.appid, 'alice', 'snsapi_base', undefined, platform.appid);
  const callback = (appid: string | undefined) => fetch(callbackOf(authorize, code, appid ? { appid } : {}).href.replace(broker.issuer, broker.origin), {
    redirect: 'manual', headers: { cookie: jar.header(), 'user-agent': USER_AGENTS.wechat },
  });
  for (const appid of [brand.appid, undefined, platform.appid]) t.is((await callback(appid)).status, 400, `appid ${appid}`);
  t.true(await broker.logged((line) => line.msg === 'WeChat callback naming another appid than the one asked'));
  t.not((await callback(shop.appid)).status, 400, 'the genuine callback still completes: the bent ones changed nothing');
});

test.serial('a component token WeChat refuses mid-login (42001) is renewed once, and the login completes', async (t) => {
  const fetches = async () => (await simCalls(simulator.url)).filter((call) => call.path === '/cgi-bin/component/api_component_token').length;
  const before = await fetches();
  await injectFaults(simulator.url, '/sns/oauth2/component/access_token', ['errcode:42001']);
  const viaShop = await loginInWeChat(browser, await shopRp(), simulator.url, 'bob', { allow: true });
  t.truthy(viaShop.claims.sub);
  t.is(await fetches(), before + 1);
  t.true(await broker.logged((line) => line.msg === 'WeChat refused the component_access_token: renewing it once'));
});

test.serial('an Official Account\'s administrator authorizes the platform from the broker\'s page: WeChat\'s page, the authorized event, and back', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${broker.issuer}/wechat/platform/platform/authorize`);
  await page.getByRole('heading', { name: 'Authorize an Official Account' }).waitFor();
  // WeChat opens its page only when the Referer is the platform's registered domain: the broker's.
  await page.getByRole('link', { name: 'Authorize at WeChat' }).click();
  await page.getByRole('button', { name: `授权 ${brand.appid}` }).click();
  await page.getByRole('heading', { name: 'Authorization complete' }).waitFor();
  t.true(await broker.logged((line) => line.msg === 'platform authorization event' && line.event === 'authorized' && line.authorizer === brand.appid));
  t.true((await simCalls(simulator.url)).some((call) => call.path === '/cgi-bin/component/api_create_preauthcode'));
  t.is((await fetch(`${broker.issuer}/wechat/platform/nobody/authorize`)).status, 404);
});

test.serial('an account event reaches the platform\'s event URL: verified, answered `success` and nothing else', async (t) => {
  const response = await fetch(`${simulator.url}/_sim/events`, {
    method: 'POST', body: JSON.stringify({ account: shop.appid, fields: { FromUserName: 'oUser', MsgType: 'event', Event: 'subscribe' } }),
  });
  t.deepEqual(await response.json(), [{ platform: platform.appid, status: 200, body: 'success' }]);
});

test.serial('a platform without a ticket yet: the "starting up" page (503, a way to try again), the operator told why, /readyz says so', async (t) => {
  const waiting = simPlatform(shop);
  const dir = tempDir('broker-waiting');
  const file = join(dir, 'apps.json');
  writeFileSync(file, JSON.stringify([
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, via: 'isv' },
    { id: 'isv', kind: 'component', appid: waiting.appid, secret_env: 'S', token_env: 'T', aes_key_env: 'K' },
  ]));
  const starting = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), WECHAT_APPS_FILE: file, S: waiting.secret, T: waiting.token, K: waiting.aesKey,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_MP_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
  t.teardown(() => starting.stop());
  t.true(await starting.logged((line) => line.level === 40 && /third-party platform isv: waiting for the first component_verify_ticket/.test(String(line.msg))));
  t.deepEqual(await (await fetch(`${starting.origin}/readyz`)).json(), {
    status: 'ready', storage: { protocol: 'memory', accounts: 'memory' }, platforms: { isv: 'waiting for the first component_verify_ticket' },
  });
  const { context, page } = await newPerson(browser, 'wechat', 'en');
  t.teardown(() => context.close());
  const { url } = await (await createRp(starting.issuer, rpServer)).start();
  const response = await page.goto(url);
  t.is(response?.status(), 503);
  await t.notThrowsAsync(page.getByText('starting up and will be ready in a few minutes').waitFor());
  t.regex(String(await page.getByRole('link', { name: /log in again/i }).getAttribute('href')), /^\/interaction\//);
  t.true(await starting.logged((line) => /login not started: third-party platform isv is waiting/.test(String(line.msg))));
});

test.serial('a mistake in the apps file stops the broker with one line naming the file, the app and the field', async (t) => {
  // Every other mistake is a configuration unit test (test/unit/config.test.ts): the same check, without a process each.
  const file = join(tempDir('broker-apps-bad'), 'apps.json');
  writeFileSync(file, JSON.stringify([{ id: 'a b', kind: 'mp', appid: 'wx1', secret_env: 'X' }]));
  const refused = await startBroker({ WECHAT_APPS_FILE: file }).then(async (started) => { await started.stop(); return ''; }, (error: Error) => error.message);
  t.regex(refused, /Configuration error: WECHAT_APPS_FILE: app a b: id must be 1 to 32 letters/);
});

test.serial('a third-party platform entry: its pushes are received at /wechat/platform/<id>/auth-events; its keys are checked at startup', async (t) => {
  const dir = tempDir('broker-platform');
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
