// The person's own page (issue: account administration): in their browser, what the
// broker keeps about them and who has access, "revoke this app's access" per relying
// party (it is told by back-channel logout and its tokens stop working), "log out on every
// device", their recent logins with WeChat, their data to download, and "delete my
// account", confirmed, then the same erasure as the admin API.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { setPhoneUser } from '../helpers/simulator.ts';
import { loginInWeChat, startQrLogin } from '../helpers/wechat.ts';
import { eventually } from '../helpers/wait.ts';

let browser: Browser;
let rpServer: RpServer;
let broker: RunningBroker;
const SECRET = 'listening-secret-0123456789abcdef0123456789';
const METRICS = 'metrics-token-0123456789abcdef';

test.before(async () => {
  [browser, rpServer] = await Promise.all([launchChromium(), startRpServer()]);
  const listening = {
    client_id: 'listening', client_secret: SECRET, client_name: 'Listening App', first_party: true,
    redirect_uris: [rpServer.callback], grant_types: ['authorization_code', 'refresh_token'], backchannel_logout_uri: rpServer.backchannel,
  };
  broker = await startBroker({ CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), listening]), METRICS_TOKEN: METRICS });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close()]);
});

/** Whether the RP server receives a logout token about `sub` (after the first `since` it had). */
function toldAbout(sub: string, since: number): Promise<boolean> {
  return eventually(() => rpServer.logoutTokens().slice(since).some((token) => decodeJwt(token).sub === sub));
}

/** A QR login at `rp` in `page`'s browser, which keeps its session at the broker. */
async function logIn(page: Page, rp: Rp, user: RegExp, params: Record<string, string> = {}) {
  const check = await startQrLogin(page, rp, params, user);
  if (params.prompt === 'consent') await page.getByRole('button', { name: /Allow/ }).click();
  return rp.finish(await rp.landed(page), check);
}

test.serial('signed out, /account goes through a WeChat login and back to the page', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${broker.issuer}/account`);
  // Dev mode's broker has a WeCom app too: the page offers both, for members and for everyone else.
  await page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Bob/ }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  t.regex(await page.locator('section').innerText(), /Bob <b>&amp; "quotes"/, 'the nickname, escaped');
  t.is(await page.getByText('No app has access to your information.').count(), 1, 'the page\'s own sign-in is not listed as an app');
  // ...but it is a login with WeChat, and the person's recent logins say so.
  t.regex(await page.locator('section').innerText(), /Your recent logins\n+[^\n]+\n+\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\) · Your account \(through QR login on the website\)\non Chrome · Linux\n/);
});

test.serial('the page lists the apps with access; revoking one tells it, and its tokens stop working', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const listening = await createRp(broker.issuer, rpServer, 'listening', SECRET);
  const tokens = await logIn(page, listening, /Alice/, { scope: 'openid profile offline_access', prompt: 'consent' });
  // Logged in at the broker already: the second app asks only for consent.
  const thirdParty = await createRp(broker.issuer, rpServer, 'third-party');
  const { url, check } = await thirdParty.start({ prompt: 'consent' });
  await page.goto(url);
  await page.getByRole('button', { name: /Allow/ }).click();
  await thirdParty.finish(await thirdParty.landed(page), check);
  await page.goto(`${broker.issuer}/account`);
  const section = await page.locator('section').innerText();
  t.regex(section, /小爱 Alice/);
  t.regex(section, /Listening App/);
  t.regex(section, /Third <Party> App/);
  t.regex(section, /your WeChat nickname/, 'what each app may have, in the consent page\'s words');
  t.regex(section, /WeChat apps you logged in through\s+QR login on the website/, 'apps by name or kind, never by id');
  t.regex(section, /Last login: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\), through QR login on the website/);
  // The login with WeChat is listed; going on to the second app in the same browser was no new one.
  const logins = /Your recent logins\n+[^\n]+\n+((?:(?:\d{4}-|on )[^\n]+\n)+)/.exec(section)?.[1] ?? '';
  t.regex(logins, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\) · Listening App \(through QR login on the website\)\non Chrome · Linux\n/, 'the latest first, the app by its name, the browser it completed in');
  t.notRegex(logins, /Third <Party> App/);
  const received = rpServer.logoutTokens().length;
  await page.getByRole('button', { name: 'Revoke Listening App\'s access' }).click();
  await page.getByRole('status').filter({ hasText: 'Listening App no longer has access' }).waitFor();
  t.regex(await page.locator('section').innerText(), /Third <Party> App/, 'the other app keeps its access');
  t.is(await page.getByRole('button', { name: 'Revoke Listening App\'s access' }).count(), 0);
  const refused = await t.throwsAsync(oidc.refreshTokenGrant(listening.config, tokens.refresh_token!));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
  t.false((await oidc.tokenIntrospection(listening.config, tokens.access_token)).active);
  t.true(await toldAbout(tokens.claims()!.sub, received), 'the app received a logout token for the person');
});

test.serial('log out on every device: every browser\'s session ends, every app is told and its tokens stop working; the account stays', async (t) => {
  const [here, there] = [await newPerson(browser, 'desktop', 'en'), await newPerson(browser, 'desktop', 'en')];
  t.teardown(() => Promise.all([here.context.close(), there.context.close()]));
  const listening = await createRp(broker.issuer, rpServer, 'listening', SECRET);
  const scope = { scope: 'openid profile offline_access', prompt: 'consent' };
  const [tokensHere, tokensThere] = [await logIn(here.page, listening, /陈大文/, scope), await logIn(there.page, listening, /陈大文/, scope)];
  // Nobody else in this file has logged 陈大文 in before: these two browsers are all his sessions.
  const sub = tokensHere.claims()!.sub;
  t.is(tokensThere.claims()!.sub, sub);
  await here.page.goto(`${broker.issuer}/account`);
  t.regex(await here.page.locator('section').innerText(), /Devices you are logged in on: 2/);
  const received = rpServer.logoutTokens().length;
  await here.page.getByRole('button', { name: 'Log out on every device' }).click();
  await here.page.getByRole('heading', { name: 'Logged out on every device' }).waitFor();
  for (const tokens of [tokensHere, tokensThere]) {
    t.false((await oidc.tokenIntrospection(listening.config, tokens.access_token)).active);
    t.is((await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(listening.config, tokens.refresh_token!)))?.error, 'invalid_grant');
  }
  t.true(await eventually(() => rpServer.logoutTokens().slice(received).filter((token) => decodeJwt(token).sub === sub).length >= 2), 'the app is told for each browser');
  await there.page.goto(`${broker.issuer}/account`);
  await there.page.getByRole('link', { name: 'Log in with WeChat' }).waitFor();
  t.true(await broker.logged((line) => line.msg === 'signed out everywhere' && (line.privacy as { by?: string; sub?: string }).by === 'self' && (line.privacy as { sub?: string }).sub === sub));
  t.is((await logIn(there.page, listening, /陈大文/)).claims()!.sub, sub, 'the account stays: the next login is the same sub');
});

test.serial('the page lists each browser the person is logged in on, by name, with its apps; logging out another one ends it alone (its app told once), this one stays', async (t) => {
  const [here, there] = [await newPerson(browser, 'desktop', 'en'), await newPerson(browser, 'windows', 'en')];
  t.teardown(() => Promise.all([here.context.close(), there.context.close()]));
  const listening = await createRp(broker.issuer, rpServer, 'listening', SECRET);
  const scope = { scope: 'openid profile offline_access', prompt: 'consent' };
  const tokensHere = await logIn(here.page, listening, /陈大文/, scope);
  const tokensThere = await logIn(there.page, listening, /陈大文/, scope);
  await here.page.goto(`${broker.issuer}/account`);
  const section = await here.page.locator('section').innerText();
  t.regex(section, /Chrome · Linux \(this device\)\s+Logged in \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\)(, last used [^\n]+)?\s+Apps: Listening App/);
  t.regex(section, /Edge · Windows\s+Logged in \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\)(, last used [^\n]+)?\s+Apps: Listening App/);
  t.is(await here.page.locator('li', { hasText: '(this device)' }).getByRole('button').count(), 0, 'this browser has no button of its own');
  const received = rpServer.logoutTokens().length;
  await here.page.getByRole('button', { name: /^Log out Edge · Windows \(logged in / }).click();
  await here.page.getByRole('status').filter({ hasText: 'That device is logged out' }).waitFor();
  // The devices list; the recent logins below it still say where each login was.
  t.notRegex((await here.page.locator('section').innerText()).split('Your recent logins')[0]!, /Edge · Windows/, 'it is gone from the list');
  t.false((await oidc.tokenIntrospection(listening.config, tokensThere.access_token)).active, 'that browser\'s tokens end');
  t.is((await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(listening.config, tokensThere.refresh_token!)))?.error, 'invalid_grant');
  t.true((await oidc.tokenIntrospection(listening.config, tokensHere.access_token)).active, 'this browser\'s do not');
  t.truthy((await oidc.refreshTokenGrant(listening.config, tokensHere.refresh_token!)).access_token);
  t.true(await eventually(() => rpServer.logoutTokens().length > received));
  t.is(rpServer.logoutTokens().length, received + 1, 'the app told once, for that browser\'s session');
  await there.page.goto(`${broker.issuer}/account`);
  await there.page.getByRole('link', { name: 'Log in with WeChat' }).waitFor();
  await here.page.goto(`${broker.issuer}/account`);
  await here.page.getByRole('heading', { name: 'Your account' }).waitFor();
  t.true(await broker.logged((line) => line.msg === 'signed out of one device' && (line.privacy as { by?: string }).by === 'self'));
  const forged = await here.page.request.post(`${broker.issuer}/account/logout-device`, { form: { session: 'x', page_token: 'forged' } });
  t.is(forged.status(), 403, 'a form from elsewhere');
});

test.serial('a form from elsewhere (no token of the page the broker showed) is refused and changes nothing', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await logIn(page, await createRp(broker.issuer, rpServer, 'third-party'), /Alice/, { prompt: 'consent' });
  const forged = await page.request.post(`${broker.issuer}/account/revoke`, { form: { client: 'third-party', page_token: 'forged' } });
  t.is(forged.status(), 403);
  const deleted = await page.request.post(`${broker.issuer}/account/delete`, { form: {} });
  t.is(deleted.status(), 403);
  t.is((await page.request.post(`${broker.issuer}/account/logout`, { form: { page_token: 'forged' } })).status(), 403);
  await page.goto(`${broker.issuer}/account`);
  t.regex(await page.locator('section').innerText(), /Third <Party> App/);
});

test.serial('download my data, then delete my account: confirmed, erased, every app told, a later login is a new account', async (t) => {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const listening = await createRp(broker.issuer, rpServer, 'listening', SECRET);
  // max_age: the ID token says when the person logged in (OIDC Core 3.1.2.1), which finds this browser's session below.
  const tokens = await logIn(page, listening, /陈大文/, { max_age: '3600' });
  const sub = tokens.claims()!.sub;
  const exportNow = async () => {
    await page.goto(`${broker.issuer}/account`);
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export my personal information' }).click();
    return JSON.parse(readFileSync(await (await download).path(), 'utf8')) as { account: { sub: string }; grants: Array<{ client: string }>; sessions: Array<{ device: string; logged_in_at: string; last_used_at: string }> };
  };
  const exported = await exportNow();
  t.is(exported.account.sub, sub);
  t.true(exported.grants.some((grant) => grant.client === 'listening'));
  // This browser's session: the one this login opened (the person has others from earlier tests).
  const thisSession = (sessions: typeof exported.sessions) => sessions.find((session) => Date.parse(session.logged_in_at) / 1000 === tokens.claims()!.auth_time)!;
  t.like(thisSession(exported.sessions), { device: 'Chrome · Linux' }, 'the browser, in the page\'s words (never its User-Agent)');
  // The app again in this browser: single sign-on, no new login; the session was used later.
  const sso = await listening.start();
  await page.goto(sso.url);
  await listening.finish(await listening.landed(page), sso.check);
  t.true(Date.parse(thisSession((await exportNow()).sessions).last_used_at) > Date.parse(thisSession(exported.sessions).last_used_at), 'used since');
  const received = rpServer.logoutTokens().length;
  await page.getByRole('link', { name: 'Delete my account' }).click();
  await page.getByRole('link', { name: 'Keep my account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.getByRole('link', { name: 'Delete my account' }).click();
  const background = await page.getByRole('button', { name: 'Yes, delete my account' }).evaluate((button) => getComputedStyle(button).backgroundColor);
  t.is(background, 'rgb(179, 38, 30)', 'deleting looks destructive (red), not like the brand\'s primary button');
  await page.getByRole('button', { name: 'Yes, delete my account' }).click();
  await page.getByRole('heading', { name: 'Account deleted' }).waitFor();
  t.false((await oidc.tokenIntrospection(listening.config, tokens.access_token)).active);
  t.true(await toldAbout(sub, received), 'the app received a logout token for the person');
  t.true(await broker.logged((line) => line.msg === 'account erased' && (line.privacy as { by?: string; sub?: string }).by === 'self' && (line.privacy as { sub?: string }).sub === sub));
  const again = await logIn(page, listening, /陈大文/);
  t.not(again.claims()!.sub, sub);
});

test.serial('response_type=none is the account page\'s alone: a relying party registered for code that asks for it is refused', async (t) => {
  const auth = new URL(`${broker.issuer}/auth`);
  auth.search = new URLSearchParams({ client_id: 'first-party', response_type: 'none', scope: 'openid', redirect_uri: rpServer.callback, state: 's1' }).toString();
  const answer = await fetch(auth, { redirect: 'manual' });
  const landed = new URL(answer.headers.get('location') ?? '', broker.issuer);
  t.is(landed.origin + landed.pathname, rpServer.callback);
  // oidc-provider's answer for a response_type the client is not registered for.
  t.is(landed.searchParams.get('error'), 'invalid_request');
  t.regex(String(landed.searchParams.get('error_description')), /response_type is not allowed for this client/);
  t.is(landed.searchParams.get('state'), 's1');
});

/** "Export my personal information" followed to its end (inside WeChat, through WeChat's check first): the `sub` in the file. */
async function exportedSub(page: Page): Promise<string> {
  const download = page.waitForEvent('download');
  // A download, not a page: the navigation itself reports it as aborted.
  await page.goto(`${broker.issuer}/account/export`).catch(() => undefined);
  return (JSON.parse(readFileSync(await (await download).path(), 'utf8')) as { account: { sub: string } }).account.sub;
}

test.serial('inside WeChat the page belongs to the WeChat account present: on a shared phone switched to Bob, the page, the export and the forms are Bob\'s, never Alice\'s', async (t) => {
  // Both have used the broker inside WeChat before, so WeChat's check is silent for each.
  const rp = await createRp(broker.issuer, rpServer);
  const alice = (await loginInWeChat(browser, rp, broker.simulator, 'alice', { allow: true })).claims.sub;
  const bob = (await loginInWeChat(browser, rp, broker.simulator, 'bob', { allow: true })).claims.sub;
  const { context, page } = await newPerson(browser, 'wechat', 'en');
  t.teardown(() => context.close());
  await setPhoneUser(context, broker.simulator, 'alice');
  await page.goto(`${broker.issuer}/account`);
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  t.regex(await page.locator('section').innerText(), /小爱 Alice/);
  t.is(await exportedSub(page), alice);
  // The phone switches to Bob's WeChat account; the broker's cookie is still Alice's session.
  await setPhoneUser(context, broker.simulator, 'bob');
  const stale = await page.request.post(`${broker.issuer}/account/delete`, { form: { page_token: 'x' }, maxRedirects: 0 });
  t.is(stale.status(), 403, 'no form acts without the page\'s token');
  await page.goto(`${broker.issuer}/account`);
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  const shown = await page.locator('section').innerText();
  t.notRegex(shown, /小爱 Alice/, 'never the previous person\'s page');
  t.regex(shown, /Bob/);
  t.is(await exportedSub(page), bob, 'the export is the present person\'s, after WeChat said who it is');
  // A form acts only for the account WeChat confirmed for this page, and only for a few minutes.
  await page.goto(`${broker.issuer}/account`);
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await context.clearCookies({ name: 'account_confirmed' });
  await page.getByRole('button', { name: /^Revoke / }).first().click();
  await page.getByText('WeChat has not confirmed who is present for this page').waitFor();
  await page.goto(`${broker.issuer}/account`);
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  t.true(await page.getByRole('button', { name: /^Revoke / }).first().isVisible(), 'nothing was revoked');
});

test.serial('"not me" on a login: the person is logged out everywhere, the company is told (a warning line, a metric), and the login shows as reported', async (t) => {
  const [here, there] = [await newPerson(browser, 'desktop', 'en'), await newPerson(browser, 'windows', 'en')];
  t.teardown(() => Promise.all([here.context.close(), there.context.close()]));
  const listening = await createRp(broker.issuer, rpServer, 'listening', SECRET);
  const scope = { scope: 'openid profile offline_access', prompt: 'consent' };
  await logIn(here.page, listening, /陈大文/, scope);
  // Someone else, in another browser, as him.
  const theirs = await logIn(there.page, listening, /陈大文/, scope);
  const disownedBefore = await disownedCount();
  await here.page.goto(`${broker.issuer}/account`);
  await here.page.getByRole('button', { name: /^Not me \(/ }).first().click();
  await here.page.getByRole('heading', { name: 'Reported: not you' }).waitFor();
  const said = await here.page.locator('section').innerText();
  t.regex(said, /You are logged out on every device, and the company has been told that this login was not yours:\s+\d{4}-[^\n]+ · Listening App \(through QR login on the website\)\non Edge · Windows/, 'which login it was');
  t.regex(said, /secure it in WeChat first/);
  t.true(await broker.logged((line) => line.msg === 'a person says a login was not theirs'
    && (line.privacy as { sub?: string; login?: { device?: string; client?: string } }).sub === theirs.claims()!.sub
    && (line.privacy as { login: { device?: string; client?: string } }).login.device === 'Edge · Windows'), 'a warning for the company\'s security people');
  t.is(await disownedCount(), disownedBefore + 1, 'and a metric to alert on');
  t.false((await oidc.tokenIntrospection(listening.config, theirs.access_token)).active, 'the other browser\'s tokens end');
  await there.page.goto(`${broker.issuer}/account`);
  await there.page.getByRole('link', { name: 'Log in with WeChat' }).waitFor();
  // Logged in again, the person sees it reported, with no second button.
  await logIn(here.page, listening, /陈大文/);
  await here.page.goto(`${broker.issuer}/account`);
  const logins = (await here.page.locator('section').innerText()).split('Your recent logins')[1]!;
  t.regex(logins, /on Edge · Windows\nReported: not you\n/);
  t.is(await here.page.locator('li', { hasText: 'Reported: not you' }).getByRole('button').count(), 0);
  const forged = await here.page.request.post(`${broker.issuer}/account/not-me`, { form: { login: '1', page_token: 'forged' } });
  t.is(forged.status(), 403, 'a form from elsewhere');
});

/** broker_logins_disowned_total, as /metrics says it. */
async function disownedCount(): Promise<number> {
  const text = await (await fetch(`${broker.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
  return Number(/^broker_logins_disowned_total\{kind="login"\} (\d+)$/m.exec(text)?.[1] ?? '0');
}
