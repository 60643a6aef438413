// The phone hand-off: a phone browser outside WeChat gets a short link; WeChat on the same
// phone opens it, shows the app and the matching code, the person confirms, and the login
// lands in the original browser, where the relying party accepts its code.

import test from 'ava';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { createRp } from '../helpers/rp.ts';
import { injectFaults, setPhoneUser, whileHeld } from '../helpers/simulator.ts';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { allowInWeChat, handOff } from '../helpers/wechat.ts';
import { suspendAtConsole } from '../helpers/console.ts';

// A WeChat call held by a test waits as long as the test needs (not the 5 s of production).
const e2e = useE2e(test, { WECHAT_TIMEOUT_MS: '60000' });

/** An Android browser starts a login at the branded app: its page, the link and the matching code it shows. */
async function onAndroid() {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer, 'branded');
  const android = await newPerson(e2e.browser, 'mobile', 'en');
  const started = await rp.start();
  await android.page.goto(started.url);
  const link = await android.page.locator('#link').innerText();
  const match = await android.page.locator('#match').innerText();
  return { rp, android, started, link, match };
}

/** WeChat on the same phone opens the link, as `user`. */
async function inWeChat(link: string, user = 'alice') {
  const wechat = await newPerson(e2e.browser, 'wechat', 'en');
  await setPhoneUser(wechat.context, e2e.broker.simulator, user);
  await wechat.page.goto(link);
  return wechat;
}

test.serial('confirmed in WeChat: the original browser lands at the relying party with a code it accepts', async (t) => {
  const { rp, android, started, link, match } = await onAndroid();
  t.regex(link, new RegExp(`^${e2e.broker.issuer}/h/[A-Za-z2-9]{10}$`), 'a short broker link, not the authorization request');
  t.regex(match, /^\d{4}$/);
  const wechat = await inWeChat(link);
  t.is(await wechat.page.locator('.app strong').innerText(), 'Example Shop', 'which app asks');
  t.regex(await wechat.page.locator('section > p').first().innerText(), /Chrome · Android/, 'which browser asks');
  t.is(await wechat.page.locator('#match').innerText(), match, 'the same matching code on both sides');
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  await allowInWeChat(wechat.page);
  await wechat.page.getByRole('heading', { name: 'Done' }).waitFor();
  // Back in the original browser: logged in, so the (third-party) app's consent comes next.
  await android.page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await rp.finish(await rp.landed(android.page), started.check);
  t.truthy(tokens.claims()!.sub);
  const userinfo = await (await import('openid-client')).fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
  t.is(userinfo.sub, tokens.claims()!.sub);
  await android.page.goto(`${e2e.broker.issuer}/account`);
  t.regex(await android.page.locator('section').innerText(), /Your recent logins\n+[^\n]+\n+\d{4}-[^\n]+ · Example Shop \(through [^\n]+\)\non Chrome · Android\n/, 'among the person\'s logins, in the browser that waited, not in WeChat');
  await wechat.page.goto(link);
  t.is(await wechat.page.locator('h1').innerText(), 'Link already used', 'used once');
  t.false(e2e.broker.output().includes(new URL(link).pathname.slice(3)), 'the link\'s code stays out of the log (its requests are logged as /h/…)');
  t.true(await e2e.broker.logged((line) => (line.req as { path?: string } | undefined)?.path === '/h/…'));
  await Promise.all([android.context.close(), wechat.context.close()]);
});

test.serial('the phone page: the short link to copy, the app\'s own login link as a second copy button (never printed), a QR for another phone', async (t) => {
  const clients = testClients(e2e.rpServer.origin).map((client) => (client.client_id === 'branded' ? { ...client, initiate_login_uri: 'https://shop.example/wechat-login' } : client));
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(clients) });
  t.teardown(() => broker.stop());
  const rp = await createRp(broker.issuer, e2e.rpServer, 'branded');
  const android = await newPerson(e2e.browser, 'mobile', 'en');
  t.teardown(() => android.context.close());
  await android.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: broker.issuer });
  await android.page.goto((await rp.start()).url);
  const section = await android.page.locator('section').innerText();
  t.notRegex(section, /wechat-login|iss=/, 'the app\'s login link is not printed');
  t.deepEqual(await android.page.locator('section .button').allInnerTexts(), [
    'Copy link', 'Copy Example Shop\'s own login link (to open in WeChat)', 'Show a QR code to scan with WeChat on another phone', 'Back to Example Shop',
  ]);
  await android.page.getByRole('button', { name: 'Copy Example Shop\'s own login link (to open in WeChat)' }).click();
  await android.page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  t.is(await android.page.evaluate(() => navigator.clipboard.readText()), `https://shop.example/wechat-login?iss=${encodeURIComponent(broker.issuer)}`);
});

test.serial('declined in WeChat: the original browser gets access_denied at the app, with its state', async (t) => {
  const { rp, android, started, link } = await onAndroid();
  const wechat = await inWeChat(link, 'bob');
  await wechat.page.getByRole('button', { name: 'Not me, decline' }).click();
  t.is(await wechat.page.locator('h1').innerText(), 'Declined');
  const landed = await rp.landed(android.page);
  t.is(landed.searchParams.get('error'), 'access_denied');
  t.is(landed.searchParams.get('state'), started.check.state);
  await Promise.all([android.context.close(), wechat.context.close()]);
});

test.serial('refused in one tab while another tab\'s WeChat authorization finishes: the first answer counts; the other tab says the link was used, never "Done"', async (t) => {
  const { rp, android, started, link } = await onAndroid();
  t.teardown(() => android.context.close());
  const wechat = await inWeChat(link, 'person-7303');
  t.teardown(() => wechat.context.close());
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', ['hold']);
  const callback = wechat.page.waitForRequest((request) => /\/h\/[A-Za-z2-9]{10}\/wechat\?/.test(request.url()));
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  // WeChat's sheet allowed: its callback hangs on the held code exchange, so the click is not waited for here.
  const allowed = allowInWeChat(wechat.page);
  const url = new URL((await callback).url());
  await whileHeld(e2e.broker.simulator, '/sns/oauth2/access_token', async () => {
    // The same link's callback in another tab, where the person refused WeChat's sheet.
    const other = await wechat.context.newPage();
    url.searchParams.set('code', 'authdeny');
    await other.goto(url.href);
    t.is(await other.locator('h1').innerText(), 'Declined');
  });
  await allowed;
  await wechat.page.getByRole('heading', { name: 'Link already used' }).waitFor();
  const landed = await rp.landed(android.page);
  t.is(landed.searchParams.get('error'), 'access_denied', 'the waiting browser follows the answer that counted');
  t.is(landed.searchParams.get('state'), started.check.state);
  t.true(await e2e.broker.logged((line) => line.msg === 'hand-off confirmed in WeChat after it had ended: not used'));
});

test.serial('refusals: the link opened outside WeChat, opened twice, or unknown (expired)', async (t) => {
  const { android, link } = await onAndroid();
  const desktop = await newPerson(e2e.browser, 'desktop', 'en');
  await desktop.page.goto(link);
  t.is(await desktop.page.locator('h1').innerText(), 'Open this in WeChat');
  const first = await inWeChat(link);
  await first.page.getByRole('button', { name: 'Confirm login' }).click();
  const second = await inWeChat(link, 'bob');
  t.is(await second.page.locator('h1').innerText(), 'Link already used', 'a second WeChat cannot take it over');
  await second.page.goto(`${e2e.broker.issuer}/h/AAAAAAAAAA`);
  t.is(await second.page.locator('h1').innerText(), 'Link expired');
  // WeChat's browser has no back button: the page closes itself through WeChat's JS bridge,
  // which WeChat injects (played here by the test: the simulator is a plain browser).
  t.false(await second.page.locator('#wx-close').isVisible(), 'no close button before the bridge is there');
  await second.page.evaluate(() => {
    Object.assign(window, { WeixinJSBridge: { call: (name: string) => Object.assign(window, { bridgeCalled: name }) } });
    document.dispatchEvent(new Event('WeixinJSBridgeReady'));
  });
  await second.page.getByRole('button', { name: 'Close this page' }).click();
  t.is(await second.page.evaluate(() => (window as unknown as { bridgeCalled?: string }).bridgeCalled), 'closeWindow');
  t.is(await desktop.page.locator('#wx-close').count(), 0, 'outside WeChat there is nothing to close');
  await Promise.all([android.context.close(), desktop.context.close(), first.context.close(), second.context.close()]);
});

/** A page on another site that posts a form to `action` as soon as it loads (the attacker's). */
async function autoSubmitting(context: import('playwright-core').BrowserContext, action: string, referrer: 'no-referrer' | 'origin') {
  await context.route('http://attacker.example/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><meta name="referrer" content="${referrer}"><form method="post" action="${action}"></form><script>document.forms[0].submit()</script>`,
  }));
  return 'http://attacker.example/coupon';
}

test.serial('the one-click takeover: a page elsewhere that posts the confirmation for the victim changes nothing, and the attacker stays logged out', async (t) => {
  // The attacker starts a login in a phone browser and gets the short link; the victim,
  // inside WeChat, opens the attacker's page, which posts the link's confirmation.
  const { android, link } = await onAndroid();
  const victim = await newPerson(e2e.browser, 'wechat', 'en');
  await setPhoneUser(victim.context, e2e.broker.simulator, 'alice');
  for (const referrer of ['origin', 'no-referrer'] as const) {
    await victim.page.goto(await autoSubmitting(victim.context, `${link}/confirm`, referrer));
    await victim.page.waitForURL(`${link}/confirm`);
    t.is(await victim.page.locator('h1').innerText(), 'Login could not be completed', `refused (${referrer})`);
    t.regex(await victim.page.locator('section p').first().innerText(), /did not come from this page/);
  }
  // Even from the broker's own origin, a POST without the page's token is refused.
  const tokenless = await victim.page.request.post(`${link}/confirm`, { maxRedirects: 0 });
  t.is(tokenless.status(), 403);
  t.is(await android.page.locator('#handoff-status').innerText(), 'Waiting for you to confirm in WeChat…', 'the attacker\'s browser still waits');
  t.false(android.page.url().startsWith(e2e.rpServer.origin), 'and is not logged in');
  // Nothing changed: the link still asks its question, and only its own page can answer it.
  await victim.page.goto(link);
  t.is(await victim.page.locator('h1').innerText(), 'Confirm a login in another browser');
  await Promise.all([android.context.close(), victim.context.close()]);
});

test.serial('the hand-off uses the client\'s Official Account: pinned to the one reached through the platform, WeChat authorizes there (component_appid) and wechat_openid is that account\'s', async (t) => {
  const secret = 'shop-app-secret-0123456789abcdef0123';
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile([{ client_id: 'shop-app', client_secret: secret, redirect_uris: [e2e.rpServer.callback], first_party: true, wechat_apps: ['shop-mp'] }]) });
  t.teardown(() => broker.stop());
  // The platform can act once WeChat has pushed its first ticket.
  t.true(await broker.logged((line) => line.msg === 'component_verify_ticket received'));
  const { calls, userinfo } = await handOff(e2e.browser, await createRp(broker.issuer, e2e.rpServer, 'shop-app', secret), broker.simulator, 'alice');
  const authorize = calls.find((call) => call.path === '/connect/oauth2/authorize');
  t.truthy(authorize?.component, 'web authorization on the account\'s behalf, through the platform');
  const exchanged = calls.find((call) => call.path === '/sns/oauth2/component/access_token');
  t.is(exchanged?.appid, authorize?.appid, 'the code exchanged with the component token, for the same account');
  t.regex(String(userinfo.wechat_openid), /^o/, 'the openid of the account the client uses');
});

test.serial('WeChat refuses the app secret during a hand-off: the misconfigured page (as everywhere), not "unavailable"; the operator is told which variable', async (t) => {
  const { android, link } = await onAndroid();
  t.teardown(() => android.context.close());
  // Chen has not allowed this account's authorization before in this file: WeChat shows its sheet.
  const wechat = await inWeChat(link, 'chen');
  t.teardown(() => wechat.context.close());
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', ['errcode:40125']);
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  await allowInWeChat(wechat.page);
  await wechat.page.getByText('The service is misconfigured').waitFor();
  t.true(await e2e.broker.logged((line) => /^hand-off: WeChat refused the app credentials: check /.test(String(line.msg)) && line.level === 50));
});

test.serial('WeChat fails during a hand-off: the waiting browser says so at its next look, and a retry in WeChat still logs the person in', async (t) => {
  const { rp, android, started, link } = await onAndroid();
  t.teardown(() => android.context.close());
  // Chen allowed this account's authorization in the test above: WeChat shows no sheet now.
  const wechat = await inWeChat(link, 'chen');
  t.teardown(() => wechat.context.close());
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', ['busy', 'busy']);
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  await wechat.page.getByRole('link', { name: 'Back to log in again' }).waitFor();
  await android.page.getByRole('status').filter({ hasText: 'The login in WeChat did not complete. You can try again in WeChat' }).waitFor();

  await wechat.page.getByRole('link', { name: 'Back to log in again' }).click();
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  await wechat.page.getByRole('heading', { name: 'Done' }).waitFor();
  await android.page.getByRole('button', { name: 'Allow' }).click();
  t.truthy((await rp.finish(await rp.landed(android.page), started.check)).claims()!.sub);
});

test.serial('a suspended person confirms in WeChat: the waiting browser says until when, as the phone\'s page does, not "try again in WeChat"', async (t) => {
  const { sub } = (await handOff(e2e.browser, e2e.rp, e2e.broker.simulator, 'person-7301')).claims;
  await suspendAtConsole(e2e.browser, e2e.broker, sub, '7');
  const { android, link } = await onAndroid();
  t.teardown(() => android.context.close());
  const wechat = await inWeChat(link, 'person-7301');
  t.teardown(() => wechat.context.close());
  await wechat.page.getByRole('button', { name: 'Confirm login' }).click();
  const suspended = /^Your account has been suspended until \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\), so you cannot log in before then\./;
  await wechat.page.getByText(suspended).waitFor();
  await android.page.getByRole('status').filter({ hasText: suspended }).waitFor();
  t.is(await android.page.locator('#handoff-status').innerText(), await wechat.page.getByText(suspended).innerText(), 'the same sentence, the same end');
});
