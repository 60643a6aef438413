// Follow-to-login (扫码关注登录): a desktop page shows the Official Account's parametric QR
// code; a new follower (subscribe) or a follower already (SCAN) logs in, with the same sub as
// through QR login. Two instances share one Redis: the browser polls instance A while WeChat
// pushes the scan to instance B. Forged, foreign, expired and repeated scans change nothing;
// safe mode (encrypted events) works too; the broker never calls /cgi-bin/token.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, pushTicketNow, setPlatformUrls, simApp, simCalls, simPlatform, startTestSimulator } from '../helpers/simulator.ts';
import { loginByQr, loginInWeChat } from '../helpers/wechat.ts';
import { deliver, plainPush } from '../../src/simulator/platform-pushes.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const brand = simApp('mp');
const safe = simApp('mp');
const shop = simApp('mp');
const web = simApp('open');
const platform = simPlatform();
const TOKEN = 'followToken42';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
let browser: Browser;
let rpServer: RpServer;
let simulator: RunningSimulator;
let redis: RedisServer;
let a: RunningBroker;
let b: RunningBroker;

const control = async (path: string, body: unknown) => {
  const response = await fetch(`${simulator.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: response.status === 204 ? {} : await response.json() as Record<string, unknown> };
};

test.before(async () => {
  [browser, rpServer, simulator, redis] = await Promise.all([launchChromium(), startRpServer(), startTestSimulator([brand, safe, shop, web], [], [platform]), startRedis()]);
  const dir = mkdtempSync(join(tmpdir(), 'broker-follow-'));
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'brand-mp', kind: 'mp', appid: brand.appid, secret_env: 'BRAND_SECRET', name: '品牌服务号', follow_login: true, token_env: 'BRAND_TOKEN' },
    { id: 'safe-mp', kind: 'mp', appid: safe.appid, secret_env: 'SAFE_SECRET', follow_login: true, token_env: 'BRAND_TOKEN', aes_key_env: 'SAFE_AES_KEY' },
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, via: 'isv', follow_login: true },
    { id: 'isv', kind: 'component', appid: platform.appid, secret_env: 'ISV_SECRET', token_env: 'ISV_TOKEN', aes_key_env: 'ISV_AES_KEY' },
  ]));
  const pinned = (id: string, apps: string[]) => ({ client_id: id, client_secret: `${id}-secret-0123456789abcdef0123456789`, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: apps });
  const env = {
    REDIS_URL: redis.url, WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, BRAND_SECRET: brand.secret, SAFE_SECRET: safe.secret,
    BRAND_TOKEN: TOKEN, SAFE_AES_KEY: AES_KEY, ISV_SECRET: platform.secret, ISV_TOKEN: platform.token, ISV_AES_KEY: platform.aesKey,
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), pinned('follow', ['brand-mp']), pinned('safe', ['safe-mp']), pinned('shop', ['shop-mp'])]),
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  };
  [a, b] = await Promise.all([startBroker(env), startBroker(env)]);
  await addCallbackHost(simulator.url, new URL(a.issuer).host);
  // The accounts' 服务器配置 point at instance B: the browser never talks to it.
  await control('/_sim/accounts/server', { appid: brand.appid, url: `${b.issuer}/wechat/mp/brand-mp/events`, token: TOKEN });
  await control('/_sim/accounts/server', { appid: safe.appid, url: `${b.issuer}/wechat/mp/safe-mp/events`, token: TOKEN, aes_key: AES_KEY });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), a?.stop(), b?.stop(), simulator?.close(), rpServer?.close()]);
  await redis?.stop();
});

const rpFor = (id: string): Promise<Rp> => createRp(a.issuer, rpServer, id, `${id}-secret-0123456789abcdef0123456789`);

/** A desktop on instance A at the follow-to-login page of `client`; its interaction's uid. */
async function atFollowPage(client: string): Promise<{ page: Page; rp: Rp; check: Awaited<ReturnType<Rp['start']>>['check']; uid: string; close: () => Promise<void> }> {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  const rp = await rpFor(client);
  const { url, check } = await rp.start();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  const uid = /\/interaction\/([^/?]+)/.exec(page.url())?.[1] ?? '';
  return { page, rp, check, uid, close: () => context.close() };
}

const stateOf = async (page: Page, uid: string) => ((await (await page.request.get(`${a.issuer}/interaction/${uid}/follow`)).json()) as { state: string }).state;

test.serial('a new follower scans, follows and is logged in on the desktop: the same sub as through QR login; no /cgi-bin/token', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  t.is(await at.page.locator('.follow-qr svg').count(), 1, 'the broker draws the QR code itself');
  t.is(await stateOf(at.page, at.uid), 'waiting');
  t.like(await control('/_sim/scan', { appid: brand.appid, user: 'alice' }), { status: 200, body: { event: 'subscribe', status: 200, body: 'success' } });
  const landed = await at.rp.landed(at.page);
  const tokens = await at.rp.finish(landed, at.check);
  t.deepEqual(tokens.claims()?.amr, ['wechat_follow']);
  const viaQr = await loginByQr(browser, await createRp(a.issuer, rpServer), /Alice/);
  t.is(viaQr.claims.sub, tokens.claims()!.sub, 'one person, one sub');
  t.deepEqual(viaQr.claims.amr, ['wechat_qr'], 'every ID token says how the person logged in');
  // Silent: the follow and the QR login already gave the account what a login needs.
  const inWeChat = await loginInWeChat(browser, await createRp(a.issuer, rpServer), simulator.url, 'alice');
  t.is(inWeChat.claims.sub, viaQr.claims.sub, 'and inside WeChat too');
  const calls = await simCalls(simulator.url);
  t.true(calls.some((call) => call.path === '/cgi-bin/stable_token'));
  t.false(calls.some((call) => call.path === '/cgi-bin/token'), 'never the token call that would cut off the owner');
});

test.serial('a follower already (SCAN) logs in too; safe mode (encrypted events) as well', async (t) => {
  await control('/_sim/follow', { appid: brand.appid, user: 'bob' });
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  t.like(await control('/_sim/scan', { appid: brand.appid, user: 'bob' }), { body: { event: 'SCAN', body: 'success' } });
  t.truthy((await at.rp.finish(await at.rp.landed(at.page), at.check)).claims()?.sub);
  const safeAt = await atFollowPage('safe');
  t.teardown(safeAt.close);
  t.like(await control('/_sim/scan', { appid: safe.appid, user: 'chen' }), { body: { event: 'subscribe', body: 'success' } });
  t.truthy((await safeAt.rp.finish(await safeAt.rp.landed(safeAt.page), safeAt.check)).claims()?.sub);
});

test.serial('forged, foreign and repeated scans change nothing; a second scan of the same QR does not log the second person in', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const events = `${b.issuer}/wechat/mp/brand-mp/events`;
  const event = (eventKey: string, openid = 'oForger') => ({ ToUserName: 'gh_x', FromUserName: openid, CreateTime: String(Math.floor(Date.now() / 1000)), MsgType: 'event', Event: 'SCAN', EventKey: eventKey });
  const qr = (await simCalls(simulator.url)).filter((call) => call.path === '/cgi-bin/qrcode/create').length;
  t.true(qr > 0);
  t.is((await deliver(events, plainPush('wrongToken', event('anything')))).status, 400, 'a forged signature');
  t.is((await deliver(events, plainPush(TOKEN, event('no-such-scene')))).body, 'success', 'a scene nobody opened: acknowledged, nothing recorded');
  const signed = plainPush(TOKEN, event('no-such-scene'));
  await deliver(events, signed);
  t.is((await deliver(events, signed)).status, 400, 'a replay');
  t.is((await deliver(`${b.issuer}/wechat/mp/safe-mp/events`, plainPush(TOKEN, event('x')))).status, 400, 'plaintext to a safe-mode account');
  t.is(await stateOf(at.page, at.uid), 'waiting', 'nothing changed');
  t.true(await b.logged((line) => line.msg === 'WeChat push refused' && line.reason === 'bad signature'));
  // Two people scan the same QR: the first one counts.
  await control('/_sim/scan', { appid: brand.appid, user: 'chen' });
  await control('/_sim/scan', { appid: brand.appid, user: 'alice' });
  t.true(await b.logged((line) => line.msg === 'follow-to-login scan' && line.outcome === 'again'));
  const tokens = await at.rp.finish(await at.rp.landed(at.page), at.check);
  const viaQr = await loginByQr(browser, await createRp(a.issuer, rpServer), /陈大文/);
  t.is(tokens.claims()?.sub, viaQr.claims.sub, 'the first scanner, chen, logged in');
});

test.serial('through a third-party platform: the authorization kept from WeChat\'s push, the authorizer token, the scan at the platform\'s event URL; a withdrawn authorization is the operator\'s to mend', async (t) => {
  await setPlatformUrls(simulator.url, platform.appid, {
    auth_events_url: `${b.issuer}/wechat/platform/isv/auth-events`, events_url: `${b.issuer}/wechat/platform/isv/events/$APPID$`,
  });
  t.is((await pushTicketNow(simulator.url, platform.appid)).body, 'success');
  // The shop account's owner authorizes the platform; WeChat pushes the authorization (with its code) to instance B.
  t.like(await control('/_sim/platforms/authorize', { appid: platform.appid, account: shop.appid, authorized: true }), { body: { body: 'success' } });
  t.true(await b.logged((line) => line.msg === 'Official Account authorization kept'));
  const at = await atFollowPage('shop');
  t.teardown(at.close);
  const scanned = await control('/_sim/scan', { appid: shop.appid, user: 'alice' });
  t.like(scanned.body, { event: 'subscribe', status: 200, body: 'success' }, 'delivered to the platform\'s event URL');
  const tokens = await at.rp.finish(await at.rp.landed(at.page), at.check);
  const viaQr = await loginByQr(browser, await createRp(a.issuer, rpServer), /Alice/);
  t.is(tokens.claims()!.sub, viaQr.claims.sub);
  const calls = await simCalls(simulator.url);
  t.true(calls.some((call) => call.path === '/cgi-bin/component/api_authorizer_token' && call.appid === shop.appid));
  t.false(calls.some((call) => call.path === '/cgi-bin/stable_token' && call.appid === shop.appid), 'never the account\'s own token');
  // The owner withdraws the authorization: the next follow-to-login cannot get a token.
  await control('/_sim/platforms/authorize', { appid: platform.appid, account: shop.appid, authorized: false });
  await fetch(`${simulator.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ path: '/cgi-bin/qrcode/create', faults: ['errcode:42001'] }) });
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const response = await page.goto((await (await rpFor('shop')).start()).url);
  t.is(response?.status(), 503);
  t.true(await a.logged((line) => /shop-mp has no live authorization of platform isv/.test(String(line.msg))));
});

test.serial('an expired QR code: the page says so and offers a fresh one, which works', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  // The scene's time runs out (its record expires in Redis, as its TTL would make it).
  const keys = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', '*WeChatFollowScene*'], { encoding: 'utf8', timeout: 60_000 }).stdout.split('\n').filter(Boolean);
  t.true(keys.length > 0);
  spawnSync('redis-cli', ['-p', String(redis.port), 'DEL', ...keys], { timeout: 60_000 });
  await at.page.getByText('This QR code has expired.').waitFor();
  t.like(await control('/_sim/scan', { appid: brand.appid, user: 'alice' }), { body: { body: 'success' } }, 'a scan of the old code is acknowledged…');
  t.is(await stateOf(at.page, at.uid), 'expired', '…and changes nothing');
  await at.page.getByRole('link', { name: 'Show a new QR code' }).click();
  await at.page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  t.is(await stateOf(at.page, at.uid), 'waiting');
  await control('/_sim/scan', { appid: brand.appid, user: 'alice' });
  t.truthy((await at.rp.finish(await at.rp.landed(at.page), at.check)).claims()?.sub);
});

test.serial('WeChat\'s server URL check is answered with echostr only when signed with the token', async (t) => {
  const { query } = plainPush(TOKEN, {});
  query.set('echostr', 'abc123');
  const ok = await fetch(`${b.issuer}/wechat/mp/brand-mp/events?${query}`);
  t.is(await ok.text(), 'abc123');
  const forged = plainPush('wrongToken', {}).query;
  forged.set('echostr', 'abc123');
  t.is((await fetch(`${b.issuer}/wechat/mp/brand-mp/events?${forged}`)).status, 400);
  t.is((await fetch(`${b.issuer}/wechat/mp/web/events?${query}`)).status, 404, 'no follow-to-login for that app');
});
