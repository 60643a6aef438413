// What people and relying parties see when things do not go to plan: refusal, snapshot
// users, tampered or foreign states, repeated callbacks, rejected codes, WeChat busy.
// Tests that inject faults share the simulator's fault queue, so they run serially.

import test from 'ava';
import type { Page } from 'playwright-core';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { deliverTwice, injectFaults, setPhoneUser, simCalls } from '../helpers/simulator.ts';
import type { FaultKind } from '../../src/simulator/world.ts';
import { scanQr } from '../helpers/wechat.ts';

const e2e = useE2e(test);

async function openQr(locale = 'zh-CN') {
  const person = await newPerson(e2e.browser, 'desktop', locale);
  const started = await e2e.rp.start();
  await person.page.goto(started.url);
  return { ...person, ...started, qr: person.page.frameLocator('#qr iframe') };
}

const heading = (page: Page) => page.locator('h1').innerText();

/**
 * `user` logs in inside WeChat (openid only) while WeChat's code exchange answers `faults`
 * first, and (`twice`) WeChat delivers the first callback twice.
 */
async function weChatLoginMeeting(faults: FaultKind[], user = 'alice', locale = 'zh-CN', twice = false) {
  const person = await newPerson(e2e.browser, 'wechat', locale);
  await setPhoneUser(person.context, e2e.broker.simulator, user);
  const started = await e2e.rp.start({ scope: 'openid' });
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', faults);
  if (twice) await deliverTwice(e2e.broker.simulator);
  const response = await person.page.goto(started.url);
  return { ...person, ...started, response };
}

for (const [form, button] of [['code=authdeny', /authdeny/], ['no code', /no code/]] as const) {
  test.serial(`refusal (${form}): the RP gets access_denied with its own state`, async (t) => {
    const { qr, page, check, context } = await openQr();
    await qr.getByRole('button', { name: button }).click();
    const landed = await e2e.rp.landed(page);
    t.is(landed.searchParams.get('error'), 'access_denied');
    t.is(landed.searchParams.get('state'), check.state);
    t.is(landed.searchParams.get('iss'), e2e.broker.issuer);
    await context.close();
  });
}

test.serial('snapshot-page user: a page telling them to use the full service, no login, no account', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'snapshot');
  await page.goto((await e2e.rp.start()).url);
  await page.getByRole('button', { name: /^允许/ }).click();
  await page.waitForURL(/\/wechat\?/);
  t.regex(await page.locator('p').first().innerText(), /使用完整服务/);
  t.true(page.url().startsWith(e2e.broker.issuer));
  t.is(await page.getByRole('link', { name: /重新登录/ }).count(), 1);
  const uid = new URL(page.url()).pathname.split('/')[2];
  t.false(e2e.broker.logs().some((line) => line.msg === 'login succeeded' && line.uid === uid));
  await context.close();
});

test.serial('a snapshot-page user whose callback WeChat delivers twice: the second delivery gets the same page, at once', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'snapshot');
  await page.goto((await e2e.rp.start()).url);
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: /^允许/ }).click();
  await page.waitForURL(/\/wechat\?/);
  t.regex(await page.locator('p').first().innerText(), /使用完整服务/, 'not "link expired": the repeat followed the first answer');
  const uid = new URL(page.url()).pathname.split('/')[2];
  const isRepeat = (line: Record<string, unknown>) => line.msg === 'repeat delivery of a WeChat callback' && line.uid === uid;
  t.true(await e2e.broker.logged(isRepeat));
  const repeat = e2e.broker.logs().find(isRepeat);
  t.like(repeat, { followed: true });
  await context.close();
});

test.serial('tampered state: a clear page, the login is not completed', async (t) => {
  const { page, context } = await openQr('en');
  const wx = JSON.parse(await page.locator('#qr').getAttribute('data-wx') ?? '{}') as { redirect_uri: string; state: string };
  const callback = decodeURIComponent(wx.redirect_uri);
  // One character changed (to another: a state may end in X itself, 1 time in 62).
  const tampered = `${wx.state.slice(0, -1)}${wx.state.endsWith('X') ? 'Y' : 'X'}`;
  const response = await page.goto(`${callback}?code=whatever&state=${tampered}`);
  t.is(response?.status(), 400);
  t.is(await heading(page), 'Login could not be completed');
  t.regex(await page.locator('p').first().innerText(), /expired or was not started in this browser/);
  t.is(await page.locator('pre, code').count(), 0, 'no stack trace');
  await context.close();
});

test.serial('a state from another browser is refused: the callback is bound to the browser that started the login', async (t) => {
  const victim = await openQr();
  const wx = JSON.parse(await victim.page.locator('#qr').getAttribute('data-wx') ?? '{}') as { redirect_uri: string; state: string };
  const attacker = await newPerson(e2e.browser, 'desktop');
  const response = await attacker.page.goto(`${decodeURIComponent(wx.redirect_uri)}?code=stolen&state=${wx.state}`);
  t.is(response?.status(), 400);
  t.is(await heading(attacker.page), '无法完成登录');
  // The victim's own login still works afterwards: the state was not spent by the attacker.
  await scanQr(victim.page);
  const tokens = await e2e.rp.finish(await e2e.rp.landed(victim.page), victim.check);
  t.truthy(tokens.claims()!.sub);
  await Promise.all([victim.context.close(), attacker.context.close()]);
});

test.serial('WeChat delivers the callback twice: the login completes once and the browser lands at the RP', async (t) => {
  const { page, check, context } = await openQr();
  const before = (await simCalls(e2e.broker.simulator)).filter((c) => c.path === '/sns/oauth2/access_token').length;
  await scanQr(page, /Bob/, { twice: true });
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  t.truthy(tokens.claims()!.sub);
  const exchanges = (await simCalls(e2e.broker.simulator)).filter((c) => c.path === '/sns/oauth2/access_token').length - before;
  t.is(exchanges, 1, 'the code was exchanged once, not twice (no 40163)');
  t.true(await e2e.broker.logged((line) => line.msg === 'repeat delivery of a WeChat callback'), 'the second delivery reached the broker');
  await context.close();
});

test.serial('a code WeChat rejects (40029) gets one fresh automatic attempt, and the login succeeds', async (t) => {
  const { context, page, check } = await weChatLoginMeeting(['errcode:40029']);
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  t.truthy(tokens.claims()!.sub);
  await context.close();
});

test.serial('a code rejected twice (40163, 42003) ends on a clear page with a way back', async (t) => {
  const { context, page, response } = await weChatLoginMeeting(['errcode:40163', 'errcode:42003'], 'alice', 'en');
  t.is(response?.status(), 400);
  t.regex(await page.locator('p').first().innerText(), /WeChat did not complete the authorization/);
  t.is(await page.getByRole('link', { name: /log in again/ }).count(), 1);
  await context.close();
});

test.serial('WeChat busy once (-1): retried, the login succeeds', async (t) => {
  const { context, page, check } = await weChatLoginMeeting(['busy'], 'bob');
  t.truthy((await e2e.rp.finish(await e2e.rp.landed(page), check)).claims()!.sub);
  await context.close();
});

// Busy (-1) is tried once more; an unreadable answer is not (WeChat may have spent the code).
// Three failures in a row: five would open the circuit for the tests that follow.
for (const faults of [['busy', 'busy'], ['garbage'], ['huge']] as const) {
  test.serial(`WeChat ${faults.join(' then ')}: the RP gets temporarily_unavailable with its state`, async (t) => {
    const { context, page, check } = await weChatLoginMeeting([...faults], 'bob');
    const landed = await e2e.rp.landed(page);
    t.is(landed.searchParams.get('error'), 'temporarily_unavailable');
    t.is(landed.searchParams.get('state'), check.state);
    const busyWithRid = (line: Record<string, unknown>) => (line.wechat as { errcode?: number; rid?: unknown } | undefined)?.errcode === -1 && typeof (line.wechat as { rid?: unknown }).rid === 'string';
    if (faults[0] === 'busy') t.true(await e2e.broker.logged(busyWithRid), 'the WeChat request id is logged');
    await context.close();
  });
}

/** A repeat delivery of a callback, logged from line `since` on, followed the first one's answer. */
const followed = (since = 0) => e2e.broker.logged((line) => line.msg === 'repeat delivery of a WeChat callback' && line.followed === true, 5000, since);

test.serial('delivered twice, WeChat unavailable: the second delivery gets the same temporarily_unavailable', async (t) => {
  const before = e2e.broker.logs().length;
  const { context, page, check } = await weChatLoginMeeting(['busy', 'busy'], 'bob', 'zh-CN', true);
  const landed = await e2e.rp.landed(page);
  t.is(landed.searchParams.get('error'), 'temporarily_unavailable');
  t.is(landed.searchParams.get('state'), check.state);
  t.true(await followed(before));
  await context.close();
});

test.serial('delivered twice, a rejected code: the second delivery follows the fresh attempt, and the login succeeds', async (t) => {
  const before = e2e.broker.logs().length;
  const { context, page, check } = await weChatLoginMeeting(['errcode:40029'], 'alice', 'zh-CN', true);
  t.truthy((await e2e.rp.finish(await e2e.rp.landed(page), check)).claims()!.sub);
  t.true(await followed(before));
  await context.close();
});

test.serial('delivered twice, the upgrade to snsapi_userinfo: the second delivery follows it to WeChat\'s sheet', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'chen');
  const { url, check } = await e2e.rp.start();
  await deliverTwice(e2e.broker.simulator);
  await page.goto(url);
  await page.getByRole('button', { name: /^允许/ }).click();
  t.truthy((await e2e.rp.finish(await e2e.rp.landed(page), check)).claims()!.sub);
  t.true(await followed());
  await context.close();
});
