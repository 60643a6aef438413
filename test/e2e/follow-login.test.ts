// Follow-to-login (扫码关注登录): a desktop page shows the Official Account's parametric QR
// code; a new follower (subscribe) or a follower already (SCAN) gets a link in WeChat and
// logs in by confirming there, with the same sub as through QR login. A QR code sent to
// someone else logs nobody in (QR login jacking): the link works only for the WeChat
// account that scanned, and only its confirm lets the desktop in. Two instances share one
// Redis: the browser polls instance A while WeChat pushes the scan to instance B. Forged,
// foreign, expired and repeated scans change nothing; safe mode only; the broker never
// calls /cgi-bin/token.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, pushTicketNow, setPhoneUser, setPlatformUrls, simApp, simCalls, simPlatform, startTestSimulator } from '../helpers/simulator.ts';
import { loginByQr, loginInWeChat } from '../helpers/wechat.ts';
import { deliver, encryptedPush, plainPush, readReply } from '../../src/simulator/platform-pushes.ts';
import { startCompanyServer, type CompanyServer } from '../helpers/company-server.ts';
import { eventually } from '../helpers/wait.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { tempDir } from '../helpers/temp.ts';

const brand = simApp('mp');
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
let env: Record<string, string>;
let company: CompanyServer;

const control = async (path: string, body: unknown) => {
  const response = await fetch(`${simulator.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: response.status === 204 ? {} : await response.json() as Record<string, unknown> };
};

test.before(async () => {
  [browser, rpServer, simulator, redis, company] = await Promise.all([
    launchChromium(), startRpServer(), startTestSimulator([brand, shop, web], [], [platform]), startRedis(), startCompanyServer({ appid: brand.appid, token: TOKEN, aesKey: AES_KEY }),
  ]);
  const dir = tempDir('broker-follow');
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'brand-mp', kind: 'mp', appid: brand.appid, secret_env: 'BRAND_SECRET', name: '品牌服务号', follow_login: true, token_env: 'BRAND_TOKEN', aes_key_env: 'BRAND_AES_KEY', forward_url: company.url },
    { id: 'shop-mp', kind: 'mp', appid: shop.appid, via: 'isv', follow_login: true },
    { id: 'isv', kind: 'component', appid: platform.appid, secret_env: 'ISV_SECRET', token_env: 'ISV_TOKEN', aes_key_env: 'ISV_AES_KEY' },
  ]));
  const pinned = (id: string, apps: string[]) => ({ client_id: id, client_secret: `${id}-secret-0123456789abcdef0123456789`, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: apps });
  env = {
    // One deployment: the instances share their keys, as production requires.
    REDIS_URL: redis.url, COOKIE_KEYS: randomBytes(32).toString('hex'), DATA_KEYS: randomBytes(32).toString('hex'), WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, BRAND_SECRET: brand.secret,
    BRAND_TOKEN: TOKEN, BRAND_AES_KEY: AES_KEY, ISV_SECRET: platform.secret, ISV_TOKEN: platform.token, ISV_AES_KEY: platform.aesKey,
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), pinned('follow', ['brand-mp']), pinned('shop', ['shop-mp']), pinned('both', ['web', 'brand-mp']), pinned('qr-only', ['web'])]),
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  };
  [a, b] = await Promise.all([startBroker(env), startBroker(env)]);
  // B's host too: the scanner's confirmation link is under the instance WeChat pushed the scan to.
  await Promise.all([addCallbackHost(simulator.url, new URL(a.issuer).host), addCallbackHost(simulator.url, new URL(b.issuer).host)]);
  // The account's 服务器配置 points at instance B, in safe mode: the browser never talks to it.
  await control('/_sim/accounts/server', { appid: brand.appid, url: `${b.issuer}/wechat/mp/brand-mp/events`, token: TOKEN, aes_key: AES_KEY });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), a?.stop(), b?.stop(), simulator?.close(), rpServer?.close(), company?.close()]);
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

/** `user` scans the account's newest QR code; the link WeChat shows them in the chat. */
async function scan(appid: string, user: string): Promise<{ event: string; link: string; content: string }> {
  const { status, body } = await control('/_sim/scan', { appid, user });
  const reply = body.reply as { kind: string; content?: string; link?: string };
  if (status !== 200 || reply.kind !== 'text' || !reply.link) throw new Error(`no confirmation link: ${JSON.stringify(body)}`);
  return { event: String(body.event), link: reply.link, content: String(reply.content) };
}

/** The link opened inside WeChat by `user`'s account, after WeChat's silent authorization. */
async function openInWeChat(link: string, user: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await newPerson(browser, 'wechat', 'en');
  await setPhoneUser(context, simulator.url, user);
  await page.goto(link);
  return { page, close: () => context.close() };
}

/** `user` opens the link in WeChat and answers (confirm, or "not me"). */
async function answer(link: string, user: string, button: 'Confirm login' | 'Not me, decline' = 'Confirm login'): Promise<void> {
  const phone = await openInWeChat(link, user);
  try {
    await phone.page.getByRole('button', { name: button }).click();
    await phone.page.getByRole('heading', { name: button === 'Confirm login' ? 'Done' : 'Declined' }).waitFor();
  } finally {
    await phone.close();
  }
}

const stateOf = async (page: Page, uid: string) => ((await (await page.request.get(`${a.issuer}/interaction/${uid}/follow`)).json()) as { state: string }).state;

test.serial('a client with QR login and follow-to-login: the QR page offers following instead, which leads to the follow page', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto((await (await rpFor('both')).start()).url);
  await page.locator('#qr iframe').waitFor();
  await page.getByRole('link', { name: 'Log in by following the Official Account instead' }).click();
  await page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  t.regex(page.url(), /\/interaction\/[^/?]+\?via=follow$/);
  await page.goto((await (await rpFor('qr-only')).start()).url);
  await page.locator('#qr iframe').waitFor();
  t.is(await page.getByRole('link', { name: /following the Official Account/ }).count(), 0, 'not where the client has no follow-to-login');
});

test.serial('a new follower scans, follows and is logged in on the desktop: the same sub as through QR login; no /cgi-bin/token', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  t.is(await at.page.locator('.follow-qr svg').count(), 1, 'the broker draws the QR code itself');
  t.is(await stateOf(at.page, at.uid), 'waiting');
  const match = await at.page.locator('#match').textContent();
  const scanned = await scan(brand.appid, 'alice');
  t.is(scanned.event, 'subscribe');
  t.regex(scanned.content, /asks to log in with your WeChat on Chrome · Linux/, 'the message names the browser that waits, in the desktop\'s language');
  t.true(scanned.link.startsWith(`${b.issuer}/f/`), 'a link under the broker\'s ISSUER');
  await at.page.getByText(`the matching code there is ${match}`).waitFor();
  t.is(await stateOf(at.page, at.uid), 'scanned', 'the scan alone logs nobody in');
  const phone = await openInWeChat(scanned.link, 'alice');
  t.is(await phone.page.locator('#match').textContent(), match, 'the same matching code on the phone');
  await phone.page.getByText('Chrome · Linux').waitFor();
  await phone.page.getByRole('button', { name: 'Confirm login' }).click();
  await phone.page.getByRole('heading', { name: 'Done' }).waitFor();
  await phone.close();
  const landed = await at.rp.landed(at.page);
  const tokens = await at.rp.finish(landed, at.check);
  t.deepEqual(tokens.claims()?.amr, ['wechat_follow']);
  await at.page.goto(`${a.issuer}/account`);
  t.regex(await at.page.locator('section').innerText(), /Your recent logins\n+[^\n]+\n+\d{4}-[^\n]+ · follow \(through 品牌服务号\)\non Chrome · Linux\n/, 'among the person\'s logins, in the desktop browser that waited, not on the phone');
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

test.serial('a follower already (SCAN) logs in too, by confirming the link', async (t) => {
  await control('/_sim/follow', { appid: brand.appid, user: 'bob' });
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const scanned = await scan(brand.appid, 'bob');
  t.is(scanned.event, 'SCAN');
  await answer(scanned.link, 'bob');
  t.truthy((await at.rp.finish(await at.rp.landed(at.page), at.check)).claims()?.sub);
});

test.serial('QR login jacking: a QR code sent to someone else logs nobody in; the link works only for the scanner, once, and "not me" gives the app access_denied', async (t) => {
  // The attacker opens the app's login and sends the QR code to a victim ("scan for a coupon").
  const attacker = await atFollowPage('follow');
  t.teardown(attacker.close);
  const scanned = await scan(brand.appid, 'alice');
  // Someone else opens the victim's link (forwarded, or the attacker's own WeChat): refused.
  const other = await openInWeChat(scanned.link, 'bob');
  await other.page.getByRole('heading', { name: 'Not the WeChat account that scanned' }).waitFor();
  t.is(await other.page.getByRole('button', { name: 'Confirm login' }).count(), 0);
  await other.close();
  t.true(await b.logged((line) => line.msg === 'follow-to-login confirmation opened by another WeChat account than the scanner: refused'));
  // Outside WeChat: a page that says where to open it, nothing else.
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  await page.goto(scanned.link);
  await page.getByRole('heading', { name: 'Open this in WeChat' }).waitFor();
  await context.close();
  t.is(await stateOf(attacker.page, attacker.uid), 'scanned', 'nothing confirmed');
  // A confirm that does not come from the page WeChat vouched for is refused before it counts.
  const forged = await fetch(`${scanned.link}/confirm`, { method: 'POST', headers: { 'user-agent': 'Mozilla/5.0 MicroMessenger/8.0.50', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  t.is(forged.status, 403);
  // The victim sees what they would confirm, and says "not me": the attacker's browser lands at the app with access_denied.
  await answer(scanned.link, 'alice', 'Not me, decline');
  const landed = await attacker.rp.landed(attacker.page);
  t.is(landed.searchParams.get('error'), 'access_denied');
  // The link works once.
  const again = await openInWeChat(scanned.link, 'alice');
  await again.page.getByRole('heading', { name: /Link already used|Link expired/ }).waitFor();
  await again.close();
});

test.serial('a confirmation link after its few minutes: a plain page, and nobody is logged in', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const scanned = await scan(brand.appid, 'alice');
  // The scan's time runs out (its records expire in Redis, as their TTL would make them).
  const keys = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', '*WeChatFollowScan*'], { encoding: 'utf8', timeout: 60_000 }).stdout.split('\n').filter(Boolean);
  t.true(keys.length > 0);
  spawnSync('redis-cli', ['-p', String(redis.port), 'DEL', ...keys], { timeout: 60_000 });
  const late = await openInWeChat(scanned.link, 'alice');
  t.teardown(late.close);
  await late.page.getByRole('heading', { name: 'Link expired' }).waitFor();
  t.is(await late.page.getByRole('button', { name: 'Confirm login' }).count(), 0);
  t.not(await stateOf(at.page, at.uid), 'confirmed');
});

test.serial('forged, foreign and repeated scans change nothing; a repeat gets the first answer; a second scan of the same QR does not log the second person in', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const events = `${b.issuer}/wechat/mp/brand-mp/events`;
  const keys = { appid: brand.appid, token: TOKEN, aesKey: AES_KEY };
  const event = (eventKey: string, openid = 'oForger') => ({ ToUserName: 'gh_x', FromUserName: openid, CreateTime: String(Math.floor(Date.now() / 1000)), MsgType: 'event', Event: 'SCAN', EventKey: eventKey });
  const qr = (await simCalls(simulator.url)).filter((call) => call.path === '/cgi-bin/qrcode/create').length;
  t.true(qr > 0);
  t.is((await deliver(events, encryptedPush({ ...keys, token: 'wrongToken' }, event('anything')))).status, 400, 'a forged signature');
  t.is((await deliver(events, encryptedPush(keys, event('anything'), { appid: 'wx0ther0000000000a' }))).status, 400, 'encrypted for another appid');
  t.is((await deliver(events, plainPush(TOKEN, event('anything')))).status, 400, 'plaintext: the signature does not cover the message');
  t.is((await deliver(events, encryptedPush(keys, event('no-such-scene')))).body, 'success', 'a scene nobody opened: acknowledged, nothing recorded');
  t.is(await stateOf(at.page, at.uid), 'waiting', 'nothing changed');
  t.true(await b.logged((line) => line.msg === 'WeChat push refused' && line.reason === 'bad msg_signature'));
  t.true(await b.logged((line) => line.msg === 'WeChat push refused' && /required/.test(String(line.reason))), 'plaintext has no msg_signature');
  // Two people scan the same QR: the first one counts, and only the first gets a link.
  const first = await scan(brand.appid, 'chen');
  const second = await control('/_sim/scan', { appid: brand.appid, user: 'alice' });
  t.like(second.body, { reply: { kind: 'none' } });
  // WeChat had no answer in time and repeats the first scan's push: the same answer (the same link), nothing more.
  const repeated = await control('/_sim/scan', { appid: brand.appid, user: 'chen', repeat: true });
  t.like(repeated.body, { reply: { kind: 'text', link: first.link } });
  t.true(await b.logged((line) => line.msg === 'WeChat repeated a push: its first answer again'));
  t.true(await b.logged((line) => line.msg === 'follow-to-login scan' && line.outcome === 'taken'));
  await answer(first.link, 'chen');
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
  // The refresh token is kept sealed (DATA_KEYS), never as WeChat gave it.
  const redisCli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8', timeout: 60_000 }).stdout;
  const [kept] = redisCli('--scan', '--pattern', '*WeChatAuthorization*').split('\n').filter(Boolean);
  t.truthy(kept);
  const record = redisCli('HGET', kept!, 'payload');
  t.regex(record, /"refreshToken":"v1\.[\w-]{8}\./);
  t.notRegex(record, /refreshtoken@@@/, 'the simulator\'s refresh token is not in storage as such');
  // Lost (an evicting Redis): fetched again from WeChat before anyone is told to re-authorize.
  redisCli('DEL', kept!);
  const at = await atFollowPage('shop');
  t.teardown(at.close);
  const scanned = await scan(shop.appid, 'alice');
  t.is(scanned.event, 'subscribe', 'delivered to the platform\'s event URL, answered with the link, encrypted by the platform');
  await answer(scanned.link, 'alice');
  t.true(await b.logged((line) => line.msg === 'follow-to-login: the scanner answered in WeChat' && line.app === 'shop-mp'));
  const tokens = await at.rp.finish(await at.rp.landed(at.page), at.check);
  const viaQr = await loginByQr(browser, await createRp(a.issuer, rpServer), /Alice/);
  t.is(tokens.claims()!.sub, viaQr.claims.sub);
  const calls = await simCalls(simulator.url);
  t.true(calls.some((call) => call.path === '/cgi-bin/component/api_authorizer_token' && call.appid === shop.appid));
  t.true(calls.some((call) => call.path === '/cgi-bin/component/api_get_authorizer_info' && call.appid === shop.appid));
  t.true(await a.logged((line) => line.msg === 'authorizer refresh token was not in storage: fetched again from WeChat (api_get_authorizer_info)'));
  t.false(calls.some((call) => call.path === '/cgi-bin/stable_token' && call.appid === shop.appid), 'never the account\'s own token');
  // The owner withdraws the authorization: the next follow-to-login cannot get a token.
  await control('/_sim/platforms/authorize', { appid: platform.appid, account: shop.appid, authorized: false });
  await fetch(`${simulator.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ path: '/cgi-bin/qrcode/create', faults: ['errcode:42001'] }) });
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const response = await page.goto((await (await rpFor('shop')).start()).url);
  t.is(response?.status(), 503);
  t.true(await a.logged((line) => /follow-to-login: the authorization of shop-mp to third-party platform isv lapsed .* must authorize the platform again/.test(String(line.msg))));
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
  await at.page.getByRole('link', { name: 'Refresh the QR code' }).click();
  await at.page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  t.is(await stateOf(at.page, at.uid), 'waiting');
  await answer((await scan(brand.appid, 'alice')).link, 'alice');
  t.truthy((await at.rp.finish(await at.rp.landed(at.page), at.check)).claims()?.sub);
});

test.serial('one QR code per login: a reload shows the same code and WeChat is asked once; past FOLLOW_QR_PER_MINUTE, a clear page, counted', async (t) => {
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const created = async () => (await simCalls(simulator.url)).filter((call) => call.path === '/cgi-bin/qrcode/create').length;
  const before = await created();
  const code = await at.page.locator('.follow-qr svg').innerHTML();
  for (let reload = 0; reload < 3; reload += 1) {
    await at.page.reload();
    await at.page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
    t.is(await at.page.locator('.follow-qr svg').innerHTML(), code, 'the same code');
  }
  t.is(await created(), before, 'WeChat was not asked again');
  // A broker allowed one new code a minute: the second person is told to try again shortly.
  const { REDIS_URL: _shared, ...alone } = env;
  const small = await startBroker({ ...alone, FOLLOW_QR_PER_MINUTE: '1' });
  t.teardown(() => small.stop());
  const rp = await createRp(small.issuer, rpServer, 'follow', 'follow-secret-0123456789abcdef0123456789');
  const first = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => first.context.close());
  await first.page.goto((await rp.start()).url);
  await first.page.getByRole('heading', { name: 'Follow to log in' }).waitFor();
  const second = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => second.context.close());
  const refused = await second.page.goto((await rp.start()).url);
  t.is(refused?.status(), 503);
  await second.page.getByText('Many people are logging in this way right now').waitFor();
  t.is(await created(), before + 1, 'the budget held: one code created');
  const metrics = await (await fetch(`${small.issuer}/metrics`)).text();
  t.regex(metrics, /broker_follow_qr_codes_total\{outcome="budget_spent"\} 1/);
  t.true(await small.logged((line) => line.msg === 'follow-to-login: FOLLOW_QR_PER_MINUTE spent, no QR code created'));
});

test.serial('forward_url: the company\'s own server gets every push as WeChat sent it and answers its followers; a login scan is still the broker\'s to answer', async (t) => {
  const events = `${b.issuer}/wechat/mp/brand-mp/events`;
  const keys = { appid: brand.appid, token: TOKEN, aesKey: AES_KEY };
  const text = (content: string) => encryptedPush(keys, {
    ToUserName: 'gh_brand', FromUserName: 'oFollower1', CreateTime: String(Math.floor(Date.now() / 1000)), MsgType: 'text', Content: content, MsgId: randomBytes(8).readBigUInt64BE().toString(),
  });
  // A follower writes to the account: the company's bot answers, through the broker.
  t.like(readReply(await deliver(events, text('hello')), keys), { kind: 'text', content: 'company bot: hello' });
  const hello = company.received.find((push) => push.fields.Content === 'hello');
  t.true(hello?.signed, 'the company server checked WeChat\'s signature itself, with the same token and key');
  t.regex(hello?.contentType ?? '', /xml/);
  // A login scan reaches the company too (it learns of its new follower), but the reply is the broker's.
  const at = await atFollowPage('follow');
  t.teardown(at.close);
  const before = company.received.length;
  t.regex((await scan(brand.appid, 'bob')).content, /tap here to confirm/);
  t.true(await eventually(() => company.received.slice(before).some((push) => push.fields.Event === 'subscribe' || push.fields.Event === 'SCAN')));
  // The company's server does not answer in time: WeChat gets `success` (never the follower-facing failure notice).
  const slow = text('slow');
  const answer = await fetch(`${events}?${slow.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: slow.body });
  t.is(await answer.text(), 'success');
  t.true(await b.logged((line) => line.msg === 'forward_url did not answer a push: WeChat gets success'));
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

test.serial('any message or event WeChat could push, signed and encrypted as it does, to the account\'s URL and the platform\'s: never a 5xx, always an answer WeChat takes (no failure notice to the follower), nothing logged as the broker\'s error', async (t) => {
  const cdata = fc.string({ maxLength: 60 }).filter((text) => !text.includes(']]>'));
  const fields = fc.record({
    ToUserName: fc.oneof(fc.constant('gh_brand'), cdata),
    FromUserName: fc.oneof(fc.constantFrom('oFollower1', ''), cdata),
    CreateTime: fc.oneof(fc.nat().map(String), cdata),
    MsgType: fc.oneof(fc.constantFrom('event', 'text', 'image', 'location'), cdata),
    Event: fc.oneof(fc.constantFrom('subscribe', 'SCAN', 'unsubscribe', 'CLICK', 'VIEW', 'TEMPLATESENDJOBFINISH'), cdata),
    EventKey: fc.oneof(cdata.map((key) => `qrscene_${key}`), cdata, fc.constant('k'.repeat(3000))),
    Ticket: cdata,
    Content: cdata,
  }, { requiredKeys: [] });
  const targets = [
    { url: `${b.issuer}/wechat/mp/brand-mp/events`, keys: { appid: brand.appid, token: TOKEN, aesKey: AES_KEY } },
    { url: `${b.issuer}/wechat/platform/isv/events/${shop.appid}`, keys: { appid: platform.appid, token: platform.token, aesKey: platform.aesKey } },
  ];
  const since = b.logs().length;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...targets), fields, async ({ url, keys }, pushed) => {
    const delivery = await deliver(url, encryptedPush(keys, pushed as Record<string, string>));
    const ok = delivery.status === 200 && readReply(delivery, keys).kind !== 'failed';
    if (!ok) t.fail(`${JSON.stringify(pushed).slice(0, 300)} to ${url}: ${delivery.status} ${delivery.body.slice(0, 200)}`);
    return ok;
  }), { numRuns: 150, seed: 20261206 });
  t.false(b.logs().slice(since).some((line) => Number(line.level) >= 50), 'nothing logged as an error');
});
