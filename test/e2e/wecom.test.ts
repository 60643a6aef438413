// WeCom (企业微信) beside WeChat: an employee logs in inside the WeCom client (silent
// snsapi_base) and on a desktop through WeCom's SSO page, with one `sub` both ways, the
// wecom claims, amr ["wecom"] and an acr naming the app; a desktop offers WeCom and WeChat
// side by side; somebody who is not a member is refused with a plain page, and let in (a guest,
// by the openid the company gives them) where the app allows non-members. openid-client is
// the relying party, Chromium the person, the simulator WeCom.

import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowInsecureRequests, clientCredentialsGrant, discovery, fetchUserInfo } from 'openid-client';
import type { Browser } from 'playwright-core';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import { randomCorp } from '../../src/simulator/wecom-corp.ts';
import { MessageCrypto } from '../../src/wechat/message-crypto.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, deliverTwice, injectFaults, setPhoneUser, simApp, simCalls, weComControl } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';

const corp = randomCorp();
/** A second company, whose app lets people in who are not its members (allow_non_members): its guests. */
const guests = randomCorp();
const VISITORS = { client_id: 'visitor-portal', client_secret: 'visitor-portal-secret-0123456789abcdef' };
const web = simApp('open');
let browser: Browser;
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;
const OPS_SECRET = 'ops-secret-0123456789abcdef0123456789ab';

test.before(async () => {
  [browser, rpServer, simulator] = await Promise.all([
    launchChromium(), startRpServer(), startSimulator({ apps: [web], corps: [corp, guests], callbackHosts: [], host: '127.0.0.1', port: 0 }),
  ]);
  const dir = tempDir('broker-wecom');
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    {
      id: 'staff', kind: 'wecom', corpid: corp.corpid, agentid: corp.agentid, secret_env: 'STAFF_SECRET', name: '员工门户', token_env: 'STAFF_TOKEN', aes_key_env: 'STAFF_AES_KEY',
      scope: 'snsapi_privateinfo',
    },
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'visitors', kind: 'wecom', corpid: guests.corpid, agentid: guests.agentid, secret_env: 'VISITORS_SECRET', name: '访客门户', allow_non_members: true },
  ]));
  broker = await startBroker({
    // The staff portal offers WeCom and WeChat (wechat_apps names both); the other clients WeChat alone.
    CLIENTS_FILE: writeClientsFile([
      ...testClients(rpServer.origin).map((client) => client.client_id === 'first-party' ? { ...client, wechat_apps: ['staff', 'web'] } : client),
      { client_id: 'ops', client_secret: OPS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read' },
      { ...VISITORS, redirect_uris: [rpServer.callback], first_party: true, wechat_apps: ['visitors', 'web'] },
    ]),
    WECHAT_APPS_FILE: appsFile, VISITORS_SECRET: guests.secret, STAFF_SECRET: corp.secret, WEB_SECRET: web.secret, STAFF_TOKEN: corp.token, STAFF_AES_KEY: corp.aesKey,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl, WECHAT_MP_URL: simulator.url,
    WECOM_API_URL: simulator.url, WECOM_LOGIN_URL: simulator.url, WECOM_LOGIN_JS_URL: simulator.wecomLoginJsUrl,
  });
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
  // The app's 接收消息服务器 in WeCom's console: where contact changes are pushed.
  await weComControl(simulator.url, corp.corpid, 'server', { url: `${broker.issuer}/wecom/staff/events` });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close(), simulator?.close()]);
});

const SCOPE = 'openid profile wecom';

test.serial('inside the WeCom client: a member logs in without a tap; desktop SSO gives the same sub; the wecom claims, amr and acr', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const inClient = await newPerson(browser, 'wecom');
  await setPhoneUser(inClient.context, simulator.url, 'alice');
  const first = await rp.start({ scope: SCOPE });
  await inClient.page.goto(first.url);
  const tokens = await rp.finish(await rp.landed(inClient.page), first.check);
  await inClient.context.close();
  const claims = tokens.claims()!;
  t.deepEqual(claims.amr, ['wecom']);
  t.is(claims.acr, `urn:wecom:app:${corp.corpid}:${corp.agentid}`);
  t.like(await fetchUserInfo(rp.config, tokens.access_token, claims.sub), {
    sub: claims.sub, name: '王小爱', wecom_corpid: corp.corpid, wecom_userid: 'WangXiaoAi',
  });
  t.false('wechat_unionid' in claims, 'a member has no unionid');

  const desktop = await newPerson(browser, 'desktop');
  const second = await rp.start({ scope: SCOPE });
  await desktop.page.goto(second.url);
  await desktop.page.getByRole('link', { name: /企业微信登录/ }).click();
  // WeCom's panel, drawn by its JS SDK inside the broker's page.
  await desktop.page.frameLocator('#ww_login iframe').getByRole('button', { name: /扫码登录 · 王小爱/ }).click();
  const again = await rp.finish(await rp.landed(desktop.page), second.check);
  await desktop.context.close();
  t.is(again.claims()!.sub, claims.sub, 'one sub across the WeCom client and the desktop');
});

test.serial('WeCom delivers the callback twice, inside the client and from the desktop panel: each login completes once and lands at the app', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const redemptions = async () => (await simCalls(simulator.url)).filter((call) => call.path === '/cgi-bin/auth/getuserinfo').length;
  const inClient = await newPerson(browser, 'wecom');
  const desktop = await newPerson(browser, 'desktop');
  try {
    await setPhoneUser(inClient.context, simulator.url, 'bob');
    const before = await redemptions();
    const isRepeat = (line: Record<string, unknown>) => line.msg === 'repeat delivery of a WeChat callback';
    let since = broker.logs().length;
    const first = await rp.start({ scope: SCOPE });
    await deliverTwice(simulator.url);
    await inClient.page.goto(first.url);
    const sub = (await rp.finish(await rp.landed(inClient.page), first.check)).claims()!.sub;
    t.true(await broker.logged(isRepeat, undefined, since), 'the in-client second delivery reached the broker');

    since = broker.logs().length;
    const second = await rp.start({ scope: SCOPE });
    await desktop.page.goto(second.url);
    await desktop.page.getByRole('link', { name: /企业微信登录/ }).click();
    await deliverTwice(simulator.url);
    await desktop.page.frameLocator('#ww_login iframe').getByRole('button', { name: /扫码登录 · 李博/ }).click();
    t.is((await rp.finish(await rp.landed(desktop.page), second.check)).claims()!.sub, sub);
    t.true(await broker.logged(isRepeat, undefined, since), 'the desktop second delivery reached the broker');
    t.is(await redemptions() - before, 2, 'each code was redeemed once, not twice (no 40029)');
  } finally {
    await Promise.all([inClient.context.close(), desktop.context.close()]);
  }
});

test.serial('snsapi_privateinfo: a login asking for email and phone shows WeCom\'s consent page once; the claims come unverified; the next login is silent, a desktop login gets them too', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const privateinfo = async () => (await simCalls(simulator.url)).filter((call) => call.path === '/connect/oauth2/authorize' && call.scope === 'snsapi_privateinfo').length;
  const asked = await privateinfo();
  const inClient = await newPerson(browser, 'wecom');
  const desktop = await newPerson(browser, 'desktop');
  try {
    await setPhoneUser(inClient.context, simulator.url, 'alice');
    const first = await rp.start({ scope: 'openid email phone' });
    await inClient.page.goto(first.url);
    await inClient.page.getByRole('button', { name: /同意 · 王小爱/ }).click();
    const tokens = await rp.finish(await rp.landed(inClient.page), first.check);
    const contacts = { email: 'xiaoai.wang@example.com', email_verified: false, phone_number: '+8613800138000', phone_number_verified: false };
    t.like(await userinfoOf(rp, tokens), contacts);
    t.is(await privateinfo() - asked, 1);

    const second = await rp.start({ scope: 'openid email phone' });
    await inClient.page.goto(second.url);
    t.like(await userinfoOf(rp, await rp.finish(await rp.landed(inClient.page), second.check)), contacts);
    t.is(await privateinfo() - asked, 1, 'the account has both now: no consent page again');

    const third = await rp.start({ scope: 'openid email phone' });
    await desktop.page.goto(third.url);
    await desktop.page.getByRole('link', { name: /企业微信登录/ }).click();
    await desktop.page.frameLocator('#ww_login iframe').getByRole('button', { name: /扫码登录 · 王小爱/ }).click();
    t.like(await userinfoOf(rp, await rp.finish(await rp.landed(desktop.page), third.check)), contacts, 'what the member gave inside WeCom');
  } finally {
    await Promise.all([inClient.context.close(), desktop.context.close()]);
  }
});

test.serial('snsapi_privateinfo refused on WeCom\'s consent page: access_denied at the app; with prompt=none: login_required and no page', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'wecom');
  try {
    await setPhoneUser(context, simulator.url, 'bob');
    const refused = await rp.start({ scope: 'openid email' });
    await page.goto(refused.url);
    await page.getByRole('button', { name: '拒绝' }).click();
    t.is((await rp.landed(page)).searchParams.get('error'), 'access_denied');
    const silent = await rp.start({ scope: 'openid email', prompt: 'none' });
    await page.goto(silent.url);
    t.is((await rp.landed(page)).searchParams.get('error'), 'login_required');
  } finally {
    await context.close();
  }
});

test.serial('a desktop offers WeCom and WeChat side by side; WeChat leads to its QR login', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  try {
    await page.goto((await rp.start({ scope: SCOPE })).url);
    t.is(await page.locator('h1').innerText(), 'Choose how to log in');
    await page.getByRole('link', { name: 'Log in with WeChat' }).click();
    await page.locator('#qr iframe').waitFor();
    t.pass();
  } finally {
    await context.close();
  }
});

test.serial('WeCom\'s panel does not draw (its script fails to load): the page says so, and WeCom\'s SSO page is one click away', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  try {
    await page.route('**/wecom/jssdk.js', (route) => route.fulfill({ status: 404, body: '' }));
    const { url, check } = await rp.start({ scope: SCOPE });
    await page.goto(url);
    await page.getByRole('link', { name: /Log in with WeCom/ }).click();
    await page.getByRole('alert').filter({ hasText: 'WeCom\'s login panel did not load.' }).waitFor();
    await page.getByRole('link', { name: 'Open WeCom\'s login page' }).click();
    await page.getByRole('button', { name: /扫码登录 · 王小爱/ }).click();
    t.truthy((await rp.finish(await rp.landed(page), check)).claims()!.sub);
  } finally {
    await context.close();
  }
});

test.serial('a client that names no WeCom app in wechat_apps never offers it: a desktop goes straight to WeChat\'s QR login', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'third-party');
  const { context, page } = await newPerson(browser, 'desktop');
  try {
    await page.goto((await rp.start({ redirect_uri: rpServer.callback, scope: 'openid' })).url);
    await page.locator('#qr iframe').waitFor();
    t.is(await page.getByRole('link', { name: /企业微信登录/ }).count(), 0);
  } finally {
    await context.close();
  }
});

test.serial('somebody who is not a member of the company: a plain page, no login', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'desktop');
  try {
    await page.goto((await rp.start({ scope: SCOPE })).url);
    await page.getByRole('link', { name: /企业微信登录/ }).click();
    const refused = page.waitForResponse((response) => response.url().includes('/wechat?'));
    await page.frameLocator('#ww_login iframe').getByRole('button', { name: /非企业成员/ }).click();
    t.is((await refused).status(), 403);
    t.regex(await page.locator('main, body').first().innerText(), /只有本企业的成员可以登录这个应用/);
    t.not(new URL(page.url()).origin, rpServer.origin);
  } finally {
    await context.close();
  }
});

test.serial('where the app lets non-members in: a guest logs in with WeCom, again as the same sub, and the admin API finds them by wecom_corpid and wecom_openid', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, VISITORS.client_id, VISITORS.client_secret);
  const loginAsGuest = async () => {
    const { context, page } = await newPerson(browser, 'desktop');
    try {
      const { url, check } = await rp.start({ scope: SCOPE });
      await page.goto(url);
      await page.getByRole('link', { name: /企业微信登录/ }).click();
      await page.frameLocator('#ww_login iframe').getByRole('button', { name: /陈大文（非企业成员）/ }).click();
      return (await rp.finish(await rp.landed(page), check)).claims()!;
    } finally {
      await context.close();
    }
  };
  const first = await loginAsGuest();
  t.is(first.acr, `urn:wecom:app:${guests.corpid}:${guests.agentid}`, 'the acr names the company and its app');
  t.is(first.wecom_userid, undefined, 'no userid: they are no member');
  t.is((await loginAsGuest()).sub, first.sub, 'the company\'s openid for them finds their account again');
  const ops = await discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [allowInsecureRequests] });
  const token = (await clientCredentialsGrant(ops, { scope: 'accounts:read' })).access_token;
  const lookup = async (query: string) => {
    const response = await fetch(`${broker.issuer}/admin/accounts?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json() as { sub?: string; identities?: Array<Record<string, string>> } };
  };
  const shown = await lookup(`sub=${first.sub}`);
  const identity = shown.body.identities?.[0];
  t.like(identity, { appid: `wecom-guest:${guests.corpid}`, wecom_corpid: guests.corpid });
  t.is(identity?.wecom_openid, identity?.openid);
  t.like(await lookup(`wecom_corpid=${guests.corpid}&wecom_openid=${identity?.wecom_openid}`), { status: 200, body: { sub: first.sub } });
  t.like(await lookup(`wecom_corpid=${corp.corpid}&wecom_openid=${identity?.wecom_openid}`), { status: 404 }, 'the openid is the company\'s own: another company\'s is somebody else');
});

test.serial('discovery names the wecom, email and phone scopes, their claims and the WeCom app\'s acr', async (t) => {
  const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, string[]>;
  t.true(discovery.scopes_supported!.includes('wecom'));
  t.true(['wecom_corpid', 'wecom_userid', 'email', 'email_verified', 'phone_number', 'phone_number_verified'].every((claim) => discovery.claims_supported!.includes(claim)));
  t.true(['email', 'phone'].every((scope) => discovery.scopes_supported!.includes(scope)));
  t.true(discovery.acr_values_supported!.includes(`urn:wecom:app:${corp.corpid}:${corp.agentid}`));
});

test.serial('refused on WeCom\'s page: access_denied at the app, with its state', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'desktop');
  try {
    const { url, check } = await rp.start({ scope: SCOPE });
    await page.goto(url);
    await page.getByRole('link', { name: /企业微信登录/ }).click();
    await page.frameLocator('#ww_login iframe').getByRole('button', { name: '拒绝' }).click();
    const landed = await rp.landed(page);
    t.is(landed.searchParams.get('error'), 'access_denied');
    t.is(landed.searchParams.get('state'), check.state);
  } finally {
    await context.close();
  }
});

test.serial('WeCom refuses the server\'s IP (60020): the misconfigured page, and one log line naming the IP and 企业可信IP', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'wecom');
  try {
    await setPhoneUser(context, simulator.url, 'alice');
    await injectFaults(simulator.url, '/cgi-bin/auth/getuserinfo', ['errcode:60020']);
    const since = broker.logs().length;
    const answered = page.waitForResponse((response) => response.url().includes('/wechat?'));
    await page.goto((await rp.start({ scope: SCOPE })).url);
    t.is((await answered).status(), 503);
    t.regex(await page.locator('body').innerText(), /服务配置有误/);
    t.true(await broker.logged((line) => /WeCom refused this server's IP 127\.0\.0\.1 \(60020\): add it to 企业可信IP of app staff/.test(String(line.msg)), undefined, since));
  } finally {
    await context.close();
  }
});

test.serial('the admin API finds a WeCom member by wecom_corpid and wecom_userid, and shows the identity as one, with the contact details and their source', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'wecom');
  await setPhoneUser(context, simulator.url, 'bob');
  const { url, check } = await rp.start({ scope: SCOPE });
  await page.goto(url);
  const { sub } = (await rp.finish(await rp.landed(page), check)).claims()!;
  await context.close();
  const ops = await discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [allowInsecureRequests] });
  const token = (await clientCredentialsGrant(ops, { scope: 'accounts:read' })).access_token;
  const lookup = (query: string) => fetch(`${broker.issuer}/admin/accounts?${query}`, { headers: { authorization: `Bearer ${token}` } });
  const found = await lookup(`wecom_corpid=${corp.corpid}&wecom_userid=bob.li`);
  t.is(found.status, 200);
  t.like(await found.json(), { sub, unionid: null, identities: [{ wecom_corpid: corp.corpid, wecom_userid: 'bob.li' }] });
  t.is((await lookup(`wecom_corpid=${corp.corpid}&wecom_userid=nobody`)).status, 404);
  t.is((await lookup(`wecom_corpid=not-a-corpid&wecom_userid=bob.li`)).status, 400);
  // Alice gave her email and mobile on WeCom's consent page (the privateinfo test above).
  const alice = await (await lookup(`wecom_corpid=${corp.corpid}&wecom_userid=WangXiaoAi`)).json() as { contacts: Record<string, { at: string }> };
  t.like(alice.contacts, {
    phone: { value: '+8613800138000', verified: false, source: `wecom:${corp.corpid}` }, email: { value: 'xiaoai.wang@example.com', verified: false, source: `wecom:${corp.corpid}` },
  });
  t.false(Number.isNaN(Date.parse(alice.contacts.phone!.at)), 'with the time it was given');
  const byPhone = await lookup(`phone=${encodeURIComponent('138 0013 8000')}`);
  t.is(byPhone.status, 200, 'the mobile a member shared finds them, as a mini program\'s phone button\'s does');
  t.like(await byPhone.json(), { identities: [{ wecom_corpid: corp.corpid, wecom_userid: 'WangXiaoAi' }] });
});

test.serial('a member signs in to their own page (/account) with WeCom on the desktop and sees what is kept: their name and the email and mobile they shared', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  try {
    await page.goto(`${broker.issuer}/account`);
    await page.getByRole('link', { name: /Log in with WeCom/ }).click();
    await page.frameLocator('#ww_login iframe').getByRole('button', { name: /扫码登录 · 王小爱/ }).click();
    await page.waitForURL(`${broker.issuer}/account**`);
    const text = await page.locator('main').innerText();
    t.regex(text, /王小爱/);
    t.regex(text, /Phone number: \+8613800138000 \(from WeCom\)/);
    t.regex(text, /Email: xiaoai\.wang@example\.com \(from WeCom\)/);
  } finally {
    await context.close();
  }
});

/** Logs `user` in inside the WeCom client: the ID token's claims and the userinfo. */
async function inWeCom(user: string) {
  const rp = await createRp(broker.issuer, rpServer);
  const { context, page } = await newPerson(browser, 'wecom');
  try {
    await setPhoneUser(context, simulator.url, user);
    const { url, check } = await rp.start({ scope: SCOPE });
    await page.goto(url);
    const tokens = await rp.finish(await rp.landed(page), check);
    return fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
  } finally {
    await context.close();
  }
}

test.serial('an admin changes a member\'s userid: WeCom\'s update_user event reaches the broker, and the member keeps their sub', async (t) => {
  const before = await inWeCom('bob');
  t.is(before.wecom_userid, 'bob.li');
  const pushed = await weComControl(simulator.url, corp.corpid, 'rename', { user: 'bob', userid: 'li.bo' });
  t.like(await pushed.json(), { status: 200 }, 'the broker took the encrypted event');
  const after = await inWeCom('bob');
  t.is(after.sub, before.sub, 'the same person, not a new account');
  t.is(after.wecom_userid, 'li.bo');
});

test.serial('WeCom\'s URL check is answered with the decrypted echostr; a push with a bad signature is refused', async (t) => {
  const crypto = new MessageCrypto(corp.token, corp.aesKey);
  const echostr = crypto.encrypt('1234567890', corp.corpid);
  const [timestamp, nonce] = [String(Math.floor(Date.now() / 1000)), 'n0nce'];
  const check = await fetch(`${broker.issuer}/wecom/staff/events?${new URLSearchParams({ msg_signature: crypto.signature(timestamp, nonce, echostr), timestamp, nonce, echostr })}`);
  t.is(check.status, 200);
  t.is(await check.text(), '1234567890');
  const forged = await fetch(`${broker.issuer}/wecom/staff/events?${new URLSearchParams({ msg_signature: 'f'.repeat(40), timestamp, nonce, echostr })}`);
  t.is(forged.status, 400);
  const push = await fetch(`${broker.issuer}/wecom/staff/events?${new URLSearchParams({ msg_signature: 'f'.repeat(40), timestamp, nonce })}`, {
    method: 'POST', body: `<xml><Encrypt><![CDATA[${crypto.encrypt('<xml><Event>change_contact</Event></xml>', corp.corpid)}]]></Encrypt></xml>`,
  });
  t.is(push.status, 400);
  t.is((await fetch(`${broker.issuer}/wecom/nobody/events`)).status, 404);
});

/** The userinfo for the tokens the relying party `rp` got. */
async function userinfoOf(rp: Rp, tokens: Awaited<ReturnType<Rp['finish']>>) {
  return fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
}

test.serial('any event WeCom could push, signed and encrypted as it does (a contact change naming nobody the broker knows, odd fields, none): never a 5xx, always the empty 200 WeCom waits for, nothing logged as the broker\'s error', async (t) => {
  const crypto = new MessageCrypto(corp.token, corp.aesKey);
  const cdata = fc.string({ maxLength: 60 }).filter((text) => !text.includes(']]>'));
  const fields = fc.record({
    ToUserName: fc.oneof(fc.constant(corp.corpid), cdata),
    FromUserName: fc.oneof(fc.constant('sys'), cdata),
    CreateTime: fc.oneof(fc.nat().map(String), cdata),
    MsgType: fc.oneof(fc.constantFrom('event', 'text'), cdata),
    Event: fc.oneof(fc.constantFrom('change_contact', 'enter_agent', 'subscribe'), cdata),
    ChangeType: fc.oneof(fc.constantFrom('update_user', 'create_user', 'delete_user', 'update_party'), cdata),
    // Never a member the other tests log in: a contact change about them would be real.
    UserID: cdata.map((id) => `fuzz-${id}`),
    NewUserID: fc.oneof(cdata, fc.constant('n'.repeat(200))),
  }, { requiredKeys: [] });
  const since = broker.logs().length;
  await fc.assert(fc.asyncProperty(fields, async (pushed) => {
    const inner = `<xml>${Object.entries(pushed).map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`).join('')}</xml>`;
    const encrypted = crypto.encrypt(inner, corp.corpid);
    const [timestamp, nonce] = [String(Math.floor(Date.now() / 1000)), randomBytes(6).toString('hex')];
    const response = await fetch(`${broker.issuer}/wecom/staff/events?${new URLSearchParams({ msg_signature: crypto.signature(timestamp, nonce, encrypted), timestamp, nonce })}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' }, body: `<xml><ToUserName><![CDATA[${corp.corpid}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${corp.agentid}]]></AgentID></xml>`,
    });
    const body = await response.text();
    const ok = response.status === 200 && body === '';
    if (!ok) t.fail(`${JSON.stringify(pushed).slice(0, 300)}: ${response.status} ${body.slice(0, 200)}`);
    return ok;
  }), { numRuns: 120, seed: 20261206 });
  t.false(broker.logs().slice(since).some((line) => Number(line.level) >= 50), 'nothing logged as an error');
});
