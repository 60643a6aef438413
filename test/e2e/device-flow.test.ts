// TVs, kiosks and command lines (OAuth 2.0 Device Authorization Grant, RFC 8628):
// openid-client plays the device (it asks for a code and polls), Chromium the person, who
// scans the device's QR code with WeChat (or types the code on a desktop), logs in with
// WeChat, and then confirms on the page that names the app, the device and the code.

import test from 'ava';
import { setTimeout } from 'node:timers/promises';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { startBroker, TEST_API, testClients, writeClientsFile } from '../helpers/broker.ts';
import { newPerson, newPersonWithoutScripts } from '../helpers/browser.ts';
import { deviceClient, pollOnce, startDevice } from '../helpers/device.ts';
import { useE2e } from '../helpers/e2e.ts';
import { setPhoneUser } from '../helpers/simulator.ts';
import { CHILD_ENV, startProcess } from '../helpers/process.ts';
import { fileURLToPath } from 'node:url';
import { scanQr } from '../helpers/wechat.ts';

const e2e = useE2e(test);

/** The person, inside WeChat, opens the link of the device's QR code: WeChat's authorization, then the confirmation page. */
async function scanDeviceQr(user: string, link: string) {
  const person = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(person.context, e2e.broker.simulator, user);
  await person.page.goto(link);
  return person;
}

const text = (page: Page) => page.locator('main').innerText();

/** A counter's value as /metrics says it (0 while it has no such series yet). */
async function counted(series: string): Promise<number> {
  const metrics = await (await fetch(`${e2e.broker.issuer}/metrics`)).text();
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return Number(line?.split(' ')[1] ?? 0);
}
const CONFIRMED = 'broker_device_confirmations_total{outcome="confirmed"}';
const REFUSED = 'broker_device_confirmations_total{outcome="refused"}';

test.serial('scanned with WeChat: WeChat\'s authorization, then the page names the person, the app, the device and the code; confirmed, the device\'s poll gets the person\'s tokens', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const device = await startDevice(client, 'openid', 'Living room TV');
  t.regex(device.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/, '8 letters without vowels or look-alikes, grouped (RFC 8628 6.1)');
  t.is(device.interval, 5);
  t.is(client.serverMetadata().device_authorization_endpoint, `${e2e.broker.issuer}/device/auth`, 'in discovery');
  const polled = oidc.pollDeviceAuthorizationGrant(client, device);
  const { context, page } = await scanDeviceQr('alice', device.verification_uri_complete!);
  try {
    await page.getByRole('heading', { name: '确认登录设备' }).waitFor();
    const asked = await text(page);
    t.true(asked.includes('当前微信账号：'), 'logged in with WeChat (silently: WeChat gives no name) before the person confirms');
    t.regex(asked, /“客厅电视”请求在设备“Living room TV”上登录你的账号/);
    t.like(await pollOnce(client.serverMetadata().token_endpoint!, 'tv', device.device_code), { body: { error: 'authorization_pending' } }, 'nothing for the device before the person confirms');
    t.true(asked.includes(device.user_code), 'the code, to compare with the one on the screen');
    const confirmedBefore = await counted(CONFIRMED);
    await page.getByRole('button', { name: '确认，登录这台设备' }).click();
    await page.getByRole('heading', { name: '设备已登录' }).waitFor();
    t.is(await counted(CONFIRMED), confirmedBefore + 1, 'counted for the company');
    const tokens = await polled;
    const claims = tokens.claims()!;
    t.truthy(claims.sub);
    t.deepEqual(claims.amr, ['wechat_web'], 'WeChat\'s web authorization inside WeChat');
    t.regex(String(claims.acr), /^urn:wechat:app:/);
  } finally {
    await context.close();
  }
});

test.serial('a TV that calls the company\'s API: the device asks with resource, and its poll gets a JWT for that API (RFC 8707, 9068)', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const device = await oidc.initiateDeviceAuthorization(client, { scope: 'openid orders:read', resource: TEST_API });
  const polled = oidc.pollDeviceAuthorizationGrant(client, device);
  const { context, page } = await scanDeviceQr('alice', device.verification_uri_complete!);
  try {
    await page.getByRole('button', { name: '确认，登录这台设备' }).click();
    await page.getByRole('heading', { name: '设备已登录' }).waitFor();
    const tokens = await polled;
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${e2e.broker.issuer}/jwks`)), { issuer: e2e.broker.issuer, audience: TEST_API, typ: 'at+jwt' });
    t.like(payload, { sub: tokens.claims()?.sub, client_id: 'tv', scope: 'orders:read' });
  } finally {
    await context.close();
  }
});

test.serial('"I did not start this": another company\'s kiosk asks consent and the device\'s confirmation on one page; refused, the device gets access_denied, the page says nothing was logged in', async (t) => {
  const client = await deviceClient(e2e.broker.issuer, 'kiosk');
  const device = await startDevice(client, 'openid');
  const polled = oidc.pollDeviceAuthorizationGrant(client, device);
  const { context, page } = await scanDeviceQr('bob', device.verification_uri_complete!);
  try {
    const asked = await text(page);
    t.regex(asked, /“门店自助机”请求在设备“未命名设备”上登录你的账号/);
    t.regex(asked, /“门店自助机”请求获取你的以下信息：\s+你的账号标识/, 'what the kiosk gets, on the same page');
    const refusedBefore = await counted(REFUSED);
    await page.getByRole('button', { name: '不是我发起的' }).click();
    await page.getByText('已取消，设备没有登录。').waitFor();
    t.is(await counted(REFUSED), refusedBefore + 1, 'counted: many refusals, and someone is sending codes around');
    const refused = await t.throwsAsync(polled);
    t.is((refused as { error?: string }).error, 'access_denied');
  } finally {
    await context.close();
  }
});

test.serial('on a desktop: a wrong code says so; the right one, typed in lower case without the dash, leads to QR login and then the confirmation', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const device = await startDevice(client, 'openid', 'CLI');
  const polled = oidc.pollDeviceAuthorizationGrant(client, device);
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  try {
    await page.goto(device.verification_uri);
    await page.getByLabel('Code on the device').fill('BBBB-BBBB');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();
    await page.getByLabel('Code on the device').fill(device.user_code.replace('-', '').toLowerCase());
    await page.getByRole('button', { name: 'Continue' }).click();
    await scanQr(page, /Bob/);
    await page.getByRole('heading', { name: 'Confirm the device' }).waitFor();
    t.regex(await text(page), /"Living Room TV" asks to log your account in on the device "CLI"/);
    await page.getByRole('button', { name: 'Confirm: log in this device' }).click();
    await page.getByRole('heading', { name: 'Device logged in' }).waitFor();
    t.deepEqual((await polled).claims()!.amr, ['wechat_qr']);
  } finally {
    await context.close();
  }
});

test.serial('a code is single use: opened again after the login, the page says it was used', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const device = await startDevice(client, 'openid');
  const polled = oidc.pollDeviceAuthorizationGrant(client, device);
  const first = await scanDeviceQr('alice', device.verification_uri_complete!);
  await first.page.getByRole('button', { name: '确认，登录这台设备' }).click();
  await first.page.getByRole('heading', { name: '设备已登录' }).waitFor();
  await first.context.close();
  await polled;
  const again = await scanDeviceQr('alice', device.verification_uri_complete!);
  try {
    t.regex(await text(again.page), /这个代码已经用过了/);
  } finally {
    await again.context.close();
  }
});

test.serial('the code form is the broker\'s own: a POST to /device from another site is refused before the code is looked at', async (t) => {
  const device = await startDevice(await deviceClient(e2e.broker.issuer), 'openid');
  const forged = await fetch(`${e2e.broker.issuer}/device`, {
    method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: device.user_code, confirm: 'yes' }),
  });
  t.is(forged.status, 403);
  t.true(await e2e.broker.logged((line) => line.msg === 'form refused: not from the page the broker showed' && line.path === '/device'));
});

test.serial('RFC 8628 3.5: a device that polls again within its interval gets slow_down, and its interval grows by 5 seconds', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const device = await startDevice(client, 'openid');
  const endpoint = client.serverMetadata().token_endpoint!;
  t.like(await pollOnce(endpoint, 'tv', device.device_code), { status: 400, body: { error: 'authorization_pending' } });
  const fast = await pollOnce(endpoint, 'tv', device.device_code);
  t.like(fast, { status: 400, body: { error: 'slow_down' } }, 'polled again at once');
  t.regex(String(fast.body.error_description), /wait at least 10 seconds/);
  t.like(await pollOnce(endpoint, 'tv', device.device_code), { status: 400, body: { error: 'slow_down' } }, 'the longer interval counts from the last poll');
});

test.serial('expiry: the device\'s poll gets expired_token, and the link then says the code has expired', async (t) => {
  const short = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(e2e.rpServer.origin)), DEVICE_CODE_TTL_S: '5' });
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  try {
    const client = await deviceClient(short.issuer);
    const device = await startDevice(client, 'openid');
    t.is(device.expires_in, 5);
    // openid-client stops polling by itself when expires_in has passed.
    await t.throwsAsync(oidc.pollDeviceAuthorizationGrant(client, device));
    // The broker says so too, to a device that polls on (at its interval, until the answer changes).
    let answer = await pollOnce(client.serverMetadata().token_endpoint!, 'tv', device.device_code);
    for (let polls = 1; ['authorization_pending', 'slow_down'].includes(String(answer.body.error)) && polls < 20; polls += 1) {
      await setTimeout(5000);
      answer = await pollOnce(client.serverMetadata().token_endpoint!, 'tv', device.device_code);
    }
    t.like(answer, { status: 400, body: { error: 'expired_token' } });
    await setPhoneUser(context, short.simulator, 'alice');
    await page.goto(device.verification_uri_complete!);
    t.regex(await text(page), /这个代码已过期/);
  } finally {
    await Promise.all([context.close(), short.stop()]);
  }
});

test.serial('the README\'s command line (examples/device-login.mjs): it prints the QR code and the link; scanned and confirmed in WeChat, it prints who logged in', async (t) => {
  const cli = await startProcess(process.execPath, ['examples/device-login.mjs', e2e.broker.issuer, 'tv', 'openid'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { ...CHILD_ENV }, what: 'examples/device-login.mjs',
    ready: (printed) => /link: \S+/.test(printed),
  });
  try {
    const link = /link: (\S+)/.exec(cli.output())![1]!;
    t.regex(cli.output(), /▀|█/, 'a QR code drawn in the terminal');
    t.regex(cli.output(), /enter the code [A-Z]{4}-[A-Z]{4}/);
    const { context, page } = await scanDeviceQr('alice', link);
    try {
      t.regex(await text(page), /CLI on /, 'the device named itself after the machine');
      await page.getByRole('button', { name: '确认，登录这台设备' }).click();
      await page.getByRole('heading', { name: '设备已登录' }).waitFor();
    } finally {
      await context.close();
    }
    t.is(await cli.exited, 0);
    t.regex(cli.output(), /logged in: sub \S+ \(wechat_web\)/);
  } finally {
    cli.child.kill();
  }
});

test.serial('logged in here already, with consent given: a second device still waits for the person\'s confirmation, and each device\'s login is on the person\'s list of logins', async (t) => {
  const client = await deviceClient(e2e.broker.issuer);
  const first = await startDevice(client, 'openid', 'Bedroom TV');
  const { context, page } = await scanDeviceQr('chen', first.verification_uri_complete!);
  try {
    await page.getByRole('button', { name: '确认，登录这台设备' }).click();
    await page.getByRole('heading', { name: '设备已登录' }).waitFor();
    const tv = await pollOnce(client.serverMetadata().token_endpoint!, 'tv', first.device_code);
    const userinfo = () => fetch(client.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${String(tv.body.access_token)}` } });
    t.is((await userinfo()).status, 200, 'the first device has its tokens');
    const second = await startDevice(client, 'openid', 'Kitchen TV');
    await page.goto(second.verification_uri_complete!);
    await page.getByRole('heading', { name: '确认登录设备' }).waitFor();
    t.regex(await text(page), /“Kitchen TV”/);
    t.like(await pollOnce(client.serverMetadata().token_endpoint!, 'tv', second.device_code), { body: { error: 'authorization_pending' } });
    await page.getByRole('button', { name: '确认，登录这台设备' }).click();
    await page.getByRole('heading', { name: '设备已登录' }).waitFor();
    // No WeChat login for the second device (the session here did): its confirmation is
    // what the person's recent logins show, so that a code someone else had them enter
    // (device-code phishing) is there to see and disown.
    await page.goto(`${e2e.broker.issuer}/account`);
    const logins = (await page.locator('section').innerText()).split('最近的登录')[1] ?? '';
    const confirmed = logins.match(/ · 客厅电视（通过“[^”]+”）\n设备：用代码登录的设备，代码在微信 · iOS上确认/g) ?? [];
    t.is(confirmed.length, 2, `both devices' logins, confirmed in this browser:\n${logins}`);
    t.regex(logins, / · 客厅电视（通过“[^”]+”）\n设备：微信 · iOS\n/, 'and the WeChat login for the first, on this phone');
    // "Not me" on one: the company hears that a device's code was confirmed, not a WeChat login.
    const disowned = await counted('broker_logins_disowned_total{kind="device"}');
    await page.locator('li', { hasText: '用代码登录的设备' }).first().getByRole('button', { name: /^不是我/ }).click();
    await page.getByRole('heading', { name: /已报告/ }).waitFor();
    t.is(await counted('broker_logins_disowned_total{kind="device"}'), disowned + 1);
    t.is((await userinfo()).status, 401, 'and the device\'s tokens end with every grant');
    t.true(await e2e.broker.logged((line) => line.msg === 'a person says a login was not theirs' && (line.privacy as { login: { deviceFlow?: boolean } }).login.deviceFlow === true));
  } finally {
    await context.close();
  }
});

test.serial('one code shown too often: a browser that never goes on to the login (no script) sees the code page ten times, the eleventh is refused (429)', async (t) => {
  const device = await startDevice(await deviceClient(e2e.broker.issuer), 'openid');
  const { context, page } = await newPersonWithoutScripts(e2e.browser, 'desktop');
  try {
    const show = async () => {
      await page.goto(device.verification_uri_complete!);
      const answer = page.waitForResponse((response) => response.request().method() === 'POST');
      await page.getByRole('button', { name: 'Continue' }).click(); // oidc-provider's form, submitted by hand
      return answer;
    };
    for (let shown = 0; shown < 10; shown += 1) {
      t.is((await show()).status(), 200);
      t.regex(await text(page), /Next: log in with WeChat, then confirm the device/);
    }
    t.is((await show()).status(), 429);
    t.regex(await text(page), /Too many/);
    t.true(await e2e.broker.logged((line) => line.msg === 'rate limit reached' && line.limit === 'device-code-entries'));
  } finally {
    await context.close();
  }
});

test.serial('two tabs: the code sent from the older page (its form token replaced by the newer one\'s) says the page is out of date, not that the code is wrong; the fresh form it shows goes on to the login', async (t) => {
  const device = await startDevice(await deviceClient(e2e.broker.issuer), 'openid');
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  try {
    await page.goto(`${e2e.broker.issuer}/device`);
    const newer = await context.newPage();
    await newer.goto(`${e2e.broker.issuer}/device`);
    await page.getByLabel('Code on the device').fill(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'This page has expired, or was opened in another browser.' }).waitFor();
    t.notRegex(await text(page), /not right/);
    await page.getByLabel('Code on the device').fill(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/interaction\//);
  } finally {
    await context.close();
  }
});

test.serial('a browser without this broker\'s session (cookies gone, or a link opened elsewhere): the code form it sends and a device login\'s resume link answer with the way back to the code page, not a server error', async (t) => {
  const since = e2e.broker.logs().length;
  const posted = await fetch(`${e2e.broker.issuer}/device`, {
    method: 'POST', headers: { origin: e2e.broker.issuer, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: new URLSearchParams({ xsrf: 'from-a-page-this-browser-no-longer-has', user_code: 'BBBB-BBBB' }),
  });
  const resumed = await fetch(`${e2e.broker.issuer}/device/no-such-login`, { headers: { 'accept-language': 'en' } });
  for (const answer of [posted, resumed]) {
    t.is(answer.status, 200);
    const page = await answer.text();
    t.regex(page, /This page has expired, or was opened in another browser\. Enter the code the device shows again\./);
    t.regex(page, /<a class="button" href="\/device">Enter the code again<\/a>/);
    t.notRegex(page, /<form/, 'no form whose token this browser could not send back');
  }
  t.true(await e2e.broker.logged((line) => (line.req as { path?: string } | undefined)?.path === '/device/no-such-login', undefined, since));
  t.false(e2e.broker.logs().slice(since).some((line) => line.level === 50), 'nothing logged as a failure');
});

// Last: it leaves this machine's IP refused at /device for a quarter hour.
test.serial('guessing: after ten wrong codes from one IP (this file\'s wrong codes count too), /device refuses it for a while (429)', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  try {
    await page.goto(`${e2e.broker.issuer}/device`);
    let status = 200;
    let tries = 0;
    while (status !== 429 && tries < 12) {
      tries += 1;
      await page.getByLabel('Code on the device').fill('CCCC-CCCC');
      const answered = page.waitForResponse((response) => response.request().method() === 'POST');
      await page.getByRole('button', { name: 'Continue' }).click();
      status = (await answered).status();
    }
    t.is(status, 429);
    t.true(tries <= 11, `the entry after ten wrong codes is refused (here entry ${tries})`);
    t.regex(await text(page), /Too many tries/);
    t.is(await page.getByLabel('Code on the device').count(), 0, 'no form to try another');
    t.true(await e2e.broker.logged((line) => line.msg === 'rate limit reached' && line.limit === 'device-wrong-codes'));
  } finally {
    await context.close();
  }
});
