// The operator console (/console): an operator named in CONSOLE_OPERATORS signs in through
// WeChat as anyone does, finds a person by sub, unionid or an app's openid, sees what the
// broker holds (identities, sessions, grants), and, with `write`, unlinks an identity,
// signs the person out everywhere and erases the account after a confirmation; a `read`
// operator only looks; anyone else is told their `sub` and what to ask for. Every view and
// action is an audit line naming the operator. Operators are accounts, so their `sub`s
// come from a first broker on the same Redis, which has no console.

import test from 'ava';
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { violations } from '../helpers/axe.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson, USER_AGENTS } from '../helpers/browser.ts';
import { inWeChatLoginByFetch, qrLoginByFetch } from '../helpers/fetch-login.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, simApp, startTestSimulator, wechatEnv } from '../helpers/simulator.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const APPS = [simApp('mp'), simApp('open')];

let browser: Browser;
let redis: RedisServer;
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;
const subs: Record<'alice' | 'bob' | 'chen', string> = { alice: '', bob: '', chen: '' };
let withoutConsole: number | undefined;

/** A QR login of `person` at the first-party app of `at`: the `sub` it gets. */
async function logIn(at: RunningBroker, person: string): Promise<string> {
  const rp = await createRp(at.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: at.issuer, direct: at.origin }, simulator.url, person);
  return (await rp.finish(new URL(landed), check)).claims()!.sub;
}

/** A broker on the test's Redis and simulator (the same apps each time), WeChat's QR page its own. */
async function brokerWith(env: Record<string, string> = {}): Promise<RunningBroker> {
  const started = await startBroker({
    ...wechatEnv(simulator, APPS), REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect', CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), ...env,
  });
  await addCallbackHost(simulator.url, new URL(started.issuer).host);
  return started;
}

test.before(async () => {
  [browser, redis, rpServer, simulator] = await Promise.all([launchChromium(), startRedis(), startRpServer(), startTestSimulator(APPS)]);
  const first = await brokerWith();
  try {
    for (const person of ['alice', 'bob', 'chen'] as const) subs[person] = await logIn(first, person);
    // Chen also logs in inside WeChat (the Official Account): a second identity, joined by the unionid.
    const rp = await createRp(first.issuer, rpServer);
    await inWeChatLoginByFetch((await rp.start({ scope: 'openid profile' })).url, { issuer: first.issuer, direct: first.origin }, simulator.url, 'chen', USER_AGENTS.wechat);
    withoutConsole = (await fetch(`${first.origin}/console`, { redirect: 'manual' })).status;
  } finally {
    await first.stop();
  }
  // And a sub nobody has (a typo): the doctor's findings say so.
  broker = await brokerWith({ CONSOLE_OPERATORS: `${subs.alice}:write, ${subs.bob}:read, nobody-here:read` });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close(), simulator?.close()]);
  await redis?.stop();
});

/** `person` signs in at the console in a new browser (WeChat's QR login), in `locale`. */
async function operator(t: import('ava').ExecutionContext, person: RegExp, locale = 'en'): Promise<Page> {
  const { context, page } = await newPerson(browser, 'desktop', locale);
  t.teardown(() => context.close());
  await page.goto(`${broker.issuer}/console`);
  // WeChat's QR page (WECHAT_QR_MODE=redirect): the simulator's, a button per person.
  await page.getByRole('button', { name: person }).click();
  await page.waitForURL(/\/console\?/);
  return page;
}

/** The console's search by `sub`. */
async function findBySub(page: Page, sub: string): Promise<void> {
  await page.locator('#consoleFindBySub-sub').fill(sub);
  await page.locator('#consoleFindBySub-sub ~ button').click();
}

const audited = (match: (admin: Record<string, unknown>) => boolean, message = 'admin call') => broker.logged((line) => (
  line.msg === message && typeof line.admin === 'object' && match(line.admin as Record<string, unknown>)));

test.serial('without CONSOLE_OPERATORS there is no console', (t) => {
  t.is(withoutConsole, 404);
});

test.serial('an operator signs in through WeChat, finds a person by sub, unionid and openid, and sees what is held; each view is audited', async (t) => {
  const page = await operator(t, /Alice/);
  t.regex(await page.locator('section').innerText(), new RegExp(`Signed in as ${subs.alice}`));
  t.deepEqual(await violations(page), [], 'the search page');
  await findBySub(page, subs.chen);
  await page.waitForURL(new RegExp(`/console/accounts/${subs.chen}$`));
  const shown = await page.locator('section').innerText();
  t.regex(shown, /陈大文/);
  t.regex(shown, /QR login on the website \(open\)/, 'each identity with its app');
  t.regex(shown, /Last login\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\) · WeChat Official Account \(mp\) · first-party/);
  t.regex(shown, /first-party/, 'the apps\' sessions and grants, by client_id');
  t.regex(shown, /Recent logins \(the latest 20, kept for 180 days\)\s+When\s+App\s+client_id\s+Device\s+Reported not theirs\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+8\)\s+WeChat Official Account \(mp\)\s+first-party\s+WeChat · /, 'his logins, the latest first, each with its device');
  t.is(await page.locator('button', { hasText: 'Unlink' }).count(), 2, 'two identities, each may be unlinked');
  t.deepEqual(await violations(page), [], 'the account page');
  t.true(await audited((admin) => admin.client === '_console' && admin.operator === subs.alice && admin.action === 'show' && admin.sub === subs.chen));
  const unionid = (await page.locator('tr', { hasText: 'unionid' }).locator('td').innerText()).trim();
  await page.goto(`${broker.issuer}/console/find?unionid=${encodeURIComponent(unionid)}`);
  t.regex(page.url(), new RegExp(`/console/accounts/${subs.chen}$`), 'by unionid');
  await page.goto(`${broker.issuer}/console`);
  const mp = APPS[0]!;
  const openid = (await page.request.get(`${broker.issuer}/console/accounts/${subs.chen}/export`).then((answer) => answer.json()) as { account: { identities: Array<{ appid: string; openid: string }> } })
    .account.identities.find((identity) => identity.appid === mp.appid)!.openid;
  await page.locator('#consoleFindByIdentity-appid').selectOption(mp.appid);
  await page.locator('#consoleFindByIdentity-openid').fill(openid);
  await page.locator('#consoleFindByIdentity-openid ~ button').click();
  await page.waitForURL(new RegExp(`/console/accounts/${subs.chen}$`));
  t.true(await audited((admin) => admin.action === 'export' && admin.sub === subs.chen));
  await page.goto(`${broker.issuer}/console`);
  await page.locator('#consoleFindByPhone-phone').fill('12345');
  await page.locator('#consoleFindByPhone-phone ~ button').click();
  t.regex(await page.getByRole('alert').innerText(), /cannot be looked up: phone is not a phone number that can exist/, 'by phone (e2e/phone-number finds one)');
  await page.goto(`${broker.issuer}/console/find?sub=nobody-here`);
  t.regex(await page.getByRole('alert').innerText(), /No account found/);
  t.true(await audited((admin) => admin.action === 'find' && admin.outcome === 'not_found' && admin.operator === subs.alice));
  await page.getByRole('link', { name: 'Run the doctor\'s checks' }).click();
  t.regex(await page.getByRole('status').innerText(), /Some checks failed/);
  const findings = await page.locator('table').innerText();
  t.regex(findings, /redis/, 'the doctor\'s findings, storage among them');
  t.regex(findings, /failed\s+console-operator · nobody-here\s+read: no account has this sub/, 'an operator\'s sub that is no account\'s');
  t.regex(findings, new RegExp(`passed\\s+console-operator · ${subs.alice}\\s+write: an account`));
  t.deepEqual(await violations(page), [], 'the diagnostics page');
  t.true(await audited((admin) => admin.action === 'diagnostics' && admin.operator === subs.alice));
  await page.goto(`${broker.issuer}/account`);
  const own = await page.locator('section').innerText();
  t.regex(own, /Your recent logins[^]* · Operator console \(through QR login on the website\)/, 'signing in to the console was a login with WeChat, among the operator\'s');
  t.notRegex(own.replace(/Your recent logins[^]*WeChat apps you logged in through/, ''), /Operator console/, 'the console is no app on the operator\'s own page');
});

test.serial('an operator\'s hostile input (any identifiers, repeated, any bytes, any path): never a 5xx, nothing reflected unescaped', async (t) => {
  const page = await operator(t, /Alice/);
  const names = ['sub', 'unionid', 'appid', 'openid', 'phone', 'client', 'wecom_corpid', 'wecom_userid', 'wecom_openid', 'done'];
  const value = fc.oneof(fc.constant(subs.chen), fc.constant('<b>"x"</b>'), fc.string({ maxLength: 140 }), fc.constant('%00'), fc.constant('+86 139 1234 5678'));
  const query = fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 4 }).map((pairs) => pairs.map(([key, text]) => `${key}=${encodeURIComponent(text)}`).join('&'));
  const path = fc.oneof(fc.constant('/console/find'), value.map((sub) => `/console/accounts/${encodeURIComponent(sub)}`),
    value.map((sub) => `/console/accounts/${encodeURIComponent(sub)}/export`), value.map((sub) => `/console/accounts/${encodeURIComponent(sub)}/delete`));
  await fc.assert(fc.asyncProperty(path, query, async (route, search) => {
    const answer = await page.request.get(`${broker.issuer}${route}?${search}`, { maxRedirects: 0 });
    const body = await answer.text();
    t.true(answer.status() < 500, `${route}?${search}: ${answer.status()}`);
    return answer.status() < 500 && !body.includes('<b>"x"</b>');
  }), { numRuns: 150, seed: 20261206 });
  t.pass();
});

test.serial('a read operator looks but changes nothing; someone not an operator is told their sub', async (t) => {
  const reader = await operator(t, /Bob/);
  t.regex(await reader.locator('section').innerText(), /may look people up and export$/m);
  await reader.goto(`${broker.issuer}/console/accounts/${subs.chen}`);
  t.is(await reader.locator('form[method="post"]').count(), 0, 'no form that changes anything');
  const refused = await reader.goto(`${broker.issuer}/console/accounts/${subs.chen}/delete`);
  t.is(refused?.status(), 403);
  t.regex(await reader.locator('section').innerText(), /not change accounts/);
  t.true(await audited((admin) => admin.operator === subs.bob && admin.outcome === 'read_only', 'admin call refused'));
  const posted = await reader.evaluate((url) => fetch(url, { method: 'POST' }).then((answer) => answer.status), `/console/accounts/${subs.chen}/logout`);
  t.is(posted, 403, 'a change posted anyway is refused');
  const stranger = await operator(t, /陈大文|Chen/, 'zh-CN');
  t.regex(await stranger.locator('section').innerText(), new RegExp(`${subs.chen}.*CONSOLE_OPERATORS`));
  t.true(await audited((admin) => admin.operator === subs.chen && admin.outcome === 'not_operator', 'admin call refused'));
});

test.serial('the console asks for a login at most 12 hours old; inside WeChat it does not open', async (t) => {
  const signIn = new URL((await fetch(`${broker.origin}/console`, { redirect: 'manual' })).headers.get('location')!);
  t.is(signIn.searchParams.get('client_id'), '_console');
  t.is(signIn.searchParams.get('max_age'), String(12 * 3600), 'OIDC Core 3.1.2.1: an older login logs in again');
  const answer = await fetch(`${broker.origin}/console`, { headers: { 'user-agent': USER_AGENTS.wechat, 'accept-language': 'en' } });
  t.is(answer.status, 400);
  const page = await answer.text();
  t.regex(page, /open it in a computer/);
  t.regex(page, /id="wx-close"/, 'a way to close the page: WeChat\'s browser has no back button');
});

test.serial('a write operator unlinks an identity, signs one browser out, takes an app\'s access away, signs the person out everywhere and erases the account, confirmed', async (t) => {
  const page = await operator(t, /Alice/, 'zh-CN');
  await page.goto(`${broker.issuer}/console/accounts/${subs.chen}`);
  await page.locator('button', { hasText: '解除绑定' }).first().click();
  await page.getByRole('status').waitFor();
  t.regex(await page.getByRole('status').innerText(), /已解除绑定/);
  t.is(await page.locator('button', { hasText: '解除绑定' }).count(), 0, 'the last identity cannot be unlinked');
  // Chen's browsers: the QR login's, WeChat's, and the console's that told Chen they are no operator.
  t.is(await page.getByRole('button', { name: '退出此设备' }).count(), 3, 'each browser may be signed out');
  await page.getByRole('button', { name: '退出此设备' }).first().click();
  t.regex(await page.getByRole('status').innerText(), /已在那台设备上退出登录/);
  t.is(await page.getByRole('button', { name: '退出此设备' }).count(), 2, 'the other browsers stay');
  t.true(await broker.logged((line) => line.msg === 'signed out of one device' && (line.privacy as Record<string, unknown>)?.operator === subs.alice));
  await page.getByRole('button', { name: '撤销访问权限' }).first().click();
  t.regex(await page.getByRole('status').innerText(), /已撤销该应用的访问权限/);
  t.is(await page.getByRole('button', { name: '撤销访问权限' }).count(), 0, 'first-party\'s grants are gone; the console\'s own is nothing to revoke');
  t.true(await audited((admin) => admin.action === 'revoke' && admin.sub === subs.chen && (admin.target as Record<string, string>).client === 'first-party'), 'the audit names the app');
  t.true(await audited((admin) => admin.action === 'logout-session' && typeof (admin.target as Record<string, string>).uid === 'string'), 'and the session');
  await page.getByRole('button', { name: '在所有设备上退出登录' }).click();
  t.regex(await page.getByRole('status').innerText(), /已在所有设备上退出登录/);
  t.regex(await page.locator('section').innerText(), /登录会话\s+无。/, 'no session left');
  t.true(await broker.logged((line) => line.msg === 'signed out everywhere' && (line.privacy as Record<string, unknown>)?.by === 'console' && (line.privacy as Record<string, unknown>)?.operator === subs.alice));
  await page.getByRole('link', { name: '删除账号' }).click();
  t.deepEqual(await violations(page), [], 'the confirmation');
  await page.getByRole('button', { name: '确认删除此账号' }).click();
  t.regex(await page.getByRole('status').innerText(), new RegExp(`${subs.chen}.*已删除`));
  t.true(await audited((admin) => admin.action === 'delete' && admin.outcome === 'ok' && admin.sub === subs.chen));
  await page.getByRole('link', { name: '返回查找' }).click();
  await findBySub(page, subs.chen);
  t.regex(await page.getByRole('alert').innerText(), /没有找到/);
});

test.serial('with the built-in simulator (npm start), anyone who logs in (here a WeCom member) may try the console: its people are nobody real', async (t) => {
  const dev = await startBroker();
  t.teardown(() => dev.stop());
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${dev.issuer}/console`);
  // Dev mode has a WeCom app too: the sign-in offers both; a company's staff sign in with WeCom.
  await page.locator('#pick-wecom').click();
  await page.frameLocator('#ww_login iframe').getByRole('button', { name: /王小爱/ }).click();
  await page.waitForURL(/\/console\?/);
  t.regex(await page.locator('section').innerText(), /may look people up, export and change/);
});

test.serial('a write operator suspends a person for a reason they write: signed out, their next login refused on a page in their language; reinstated, they log in again', async (t) => {
  const page = await operator(t, /Alice/, 'zh-CN');
  await page.goto(`${broker.issuer}/console/accounts/${subs.bob}`);
  t.deepEqual(await violations(page), [], 'the account page with its suspension form');
  // A post that does not come from the page the broker showed (no page token) is refused, and changes nothing.
  const forged = await page.evaluate((url) => fetch(url, { method: 'POST', body: new URLSearchParams({ reason: 'forged' }) }).then((answer) => answer.status), `/console/accounts/${subs.bob}/suspend`);
  t.is(forged, 403);
  await page.reload();
  t.is(await page.getByRole('button', { name: '暂停此账号' }).count(), 1, 'still not suspended');
  await page.getByRole('button', { name: '暂停此账号' }).click();
  t.true(page.url().endsWith(`/console/accounts/${subs.bob}`), 'nothing sent without a reason');
  await page.getByLabel(/暂停原因/).fill('多次恶意退款，工单 4711');
  t.deepEqual(await page.getByLabel('暂停多久').locator('option').allInnerTexts(), ['直到手动恢复', '1天', '7天', '30天', '90天']);
  await page.getByLabel('暂停多久').selectOption('7');
  await page.getByRole('button', { name: '暂停此账号' }).click();
  t.regex(await page.getByRole('status').innerText(), /此账号已暂停/);
  // When, by whom, why, and until when: seven days after it began (minutes on the page).
  const [, from, to] = /(\d{4}-\d\d-\d\d \d\d:\d\d) · console:\S+ · 多次恶意退款，工单 4711 · 截止 (\d{4}-\d\d-\d\d \d\d:\d\d)/.exec(await page.locator('section').innerText()) ?? [];
  const days = (Date.parse(`${to}Z`) - Date.parse(`${from}Z`)) / 86_400_000;
  t.true(Math.abs(days - 7) <= 1 / 1440, `suspended for 7 days (${from} to ${to})`);
  t.true(await audited((admin) => admin.action === 'suspend' && admin.outcome === 'ok' && admin.sub === subs.bob && admin.operator === subs.alice));
  t.true(await broker.logged((line) => line.msg === 'account suspended' && (line.privacy as Record<string, unknown>)?.operator === subs.alice));
  // The list of suspended accounts, from the console's home page, leads back to Bob's.
  await page.getByRole('link', { name: '返回查找' }).click();
  await page.getByRole('link', { name: '查看所有已暂停的账号' }).click();
  t.regex(await page.locator('tbody').innerText(), new RegExp(`${subs.bob}\\s.*console:${subs.alice}\\s+多次恶意退款，工单 4711\\s+${to}`));
  t.deepEqual(await violations(page), [], 'the list');
  await page.getByRole('link', { name: subs.bob }).click();
  await page.getByRole('button', { name: '恢复此账号' }).waitFor();
  // The suspension changed in place (a longer one): the form starts from it as it is.
  t.is(await page.getByLabel(/暂停原因/).inputValue(), '多次恶意退款，工单 4711');
  t.deepEqual(await violations(page), [], 'a suspended account\'s page: its reinstatement and the change');
  await page.getByLabel('暂停多久').selectOption('30');
  await page.getByRole('button', { name: /修改暂停/ }).click();
  t.regex(await page.getByRole('status').innerText(), /此账号已暂停/);
  const [, since, longer] = /(\d{4}-\d\d-\d\d \d\d:\d\d) · console:\S+ · 多次恶意退款，工单 4711 · 截止 (\d{4}-\d\d-\d\d \d\d:\d\d)/.exec(await page.locator('section').innerText()) ?? [];
  t.true(Math.abs((Date.parse(`${longer}Z`) - Date.parse(`${since}Z`)) / 86_400_000 - 30) <= 1 / 1440, `now for 30 days (${since} to ${longer})`);
  t.true(await broker.logged((line) => line.msg === 'suspension replaced' && (line.privacy as Record<string, unknown>)?.operator === subs.alice));
  // A change of the reason alone keeps the end: the form starts from it.
  t.is(await page.getByLabel('暂停多久').inputValue(), 'keep');
  await page.getByLabel(/暂停原因/).fill('多次恶意退款，工单 4711，已核实');
  await page.getByRole('button', { name: /修改暂停/ }).click();
  t.regex(await page.locator('section').innerText(), new RegExp(`多次恶意退款，工单 4711，已核实 · 截止 ${longer}`), 'the same end');

  // Bob, at an app: WeChat's QR page, then the broker's page saying why, in his language; no code for the app.
  const { context, page: bob } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const rp = await createRp(broker.issuer, rpServer);
  await bob.goto((await rp.start()).url);
  await bob.getByRole('button', { name: /Bob/ }).click();
  await bob.getByText(/Your account has been suspended/).waitFor();
  t.false(bob.url().startsWith(rpServer.callback));
  t.deepEqual(await violations(bob), [], 'the suspended page');

  await page.getByRole('button', { name: '恢复此账号' }).click();
  t.regex(await page.getByRole('status').innerText(), /此账号已恢复/);
  // The console names who did what about the person (the person's own page does not).
  const trail = await page.locator('h2:has-text("运营人员对此人的查看和操作") + table tbody tr').allInnerTexts();
  t.regex(trail[0] ?? '', new RegExp(`console\\s+${subs.alice}\\s+reinstate$`));
  t.true(trail.some((row) => new RegExp(`console\\s+${subs.alice}\\s+suspend$`).test(row)));
  t.is(await logIn(broker, 'bob'), subs.bob, 'the same sub again');

  // Bob's own page says who at the company looked at his data and what they did, newest first.
  await bob.goto(`${broker.issuer}/account`);
  await bob.getByRole('button', { name: /Bob/ }).click();
  await bob.getByRole('heading', { name: 'Who looked at your data' }).waitFor();
  const accesses = await bob.locator('h2:has-text("Who looked at your data") ~ ul li').allInnerTexts();
  const looked = 'Support staff (operator console) · looked at your account';
  const suspendedYou = 'Support staff (operator console) · suspended your account';
  t.deepEqual(accesses.slice(0, 10).map((item) => item.replace(/^.* \(UTC\+8\) · /, '')), [
    looked, // the account's page, after the reinstatement
    'Support staff (operator console) · reinstated your account',
    looked, // after the second change
    suspendedYou, // the second change (the reason)
    looked, // after the first change
    suspendedYou, // the first change (30 days)
    looked, // from the list of suspended accounts
    looked, // after the suspension
    suspendedYou,
    looked, // the page the suspension was made on
  ]);
  t.false((await bob.locator('section').innerText()).includes(subs.alice), 'which operator it was is the company\'s');
  t.deepEqual(await violations(bob), [], 'the person\'s page with the list');
});
