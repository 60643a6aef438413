// Inside WeChat, a login session belongs to one WeChat account: a session cookie that
// survives an account switch does not log the next person in as the previous one.

import test from 'ava';
import { newPerson } from '../helpers/browser.ts';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { useE2e } from '../helpers/e2e.ts';
import { createRp } from '../helpers/rp.ts';
import { authorizeScopes, injectFaults, setPhoneUser, simCalls } from '../helpers/simulator.ts';
import { startQrLogin } from '../helpers/wechat.ts';

const e2e = useE2e(test);

/** One login at the first-party RP in `page`, inside WeChat: its claims, and the requests the browser made. */
async function login(page: import('playwright-core').Page, params: Record<string, string> = { scope: 'openid' }) {
  const requests: string[] = [];
  const count = (request: import('playwright-core').Request) => { if (request.isNavigationRequest()) requests.push(request.url()); };
  page.on('request', count);
  const { url, check } = await e2e.rp.start(params);
  await page.goto(url);
  const landed = await e2e.rp.landed(page);
  page.off('request', count);
  return { landed, check, requests };
}

/** A person inside WeChat, logged in once at the first-party RP: their browser and sub. */
async function loggedIn(user: string) {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, user);
  const first = await login(page);
  return { context, page, first, sub: (await e2e.rp.finish(first.landed, first.check)).claims()!.sub };
}

test.serial('the WeChat account switches and the cookie stays: the new person gets their own sub, the old session ends', async (t) => {
  const { context, page, sub: alice } = await loggedIn('alice');

  await setPhoneUser(context, e2e.broker.simulator, 'bob');
  const switched = await login(page);
  const bob = (await e2e.rp.finish(switched.landed, switched.check)).claims()!.sub;
  t.not(bob, alice, 'bob is not logged in as alice');
  t.true(switched.requests.some((url) => url.includes('/session/end/confirm')), 'alice\'s session was ended as a logout would');

  const again = await login(page);
  t.is((await e2e.rp.finish(again.landed, again.check)).claims()!.sub, bob, 'the session is bob\'s now');
  await context.close();
});

test.serial('the same WeChat account: the session is reused after one silent snsapi_base round trip, the same sub', async (t) => {
  const { context, page, first, sub } = await loggedIn('chen');
  const since = (await simCalls(e2e.broker.simulator)).length;
  const second = await login(page);
  t.is((await e2e.rp.finish(second.landed, second.check)).claims()!.sub, sub);
  t.deepEqual(await authorizeScopes(e2e.broker.simulator, since), ['snsapi_base'], 'one silent trip, no WeChat sheet');
  t.log(`single sign-on inside WeChat took ${second.requests.length} navigations (the first login took ${first.requests.length})`);
  console.log(`same-account SSO inside WeChat: ${second.requests.length} navigations: ${second.requests.map((url) => new URL(url).pathname).join(' → ')}`);
  await context.close();
});

test.serial('WeChat failing during the check: temporarily_unavailable, never the old session', async (t) => {
  const { context, page } = await loggedIn('alice');
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', ['busy', 'busy']);
  const failed = await login(page);
  t.is(failed.landed.searchParams.get('error'), 'temporarily_unavailable');
  t.is(failed.landed.searchParams.get('code'), null, 'no code for the old session');
  await context.close();
});

test.serial('prompt=none inside WeChat with a session: still silent, the same sub', async (t) => {
  const { context, page, sub } = await loggedIn('alice');
  const silent = await login(page, { scope: 'openid', prompt: 'none' });
  t.is((await e2e.rp.finish(silent.landed, silent.check)).claims()!.sub, sub);
  await context.close();
});

test.serial('outside WeChat single sign-on is as before: no trip to WeChat', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const check = await startQrLogin(page, e2e.rp);
  const sub = (await e2e.rp.finish(await e2e.rp.landed(page), check)).claims()!.sub;
  const since = (await simCalls(e2e.broker.simulator)).length;
  const again = await login(page);
  t.is((await e2e.rp.finish(again.landed, again.check)).claims()!.sub, sub);
  t.is((await simCalls(e2e.broker.simulator)).length, since, 'WeChat was not asked');
  await context.close();
});

test.serial('a client without an Official Account keeps single sign-on inside WeChat: the session is reused, no QR page it could not scan', async (t) => {
  const secret = 'web-only-secret-0123456789abcdef0123';
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile([
    ...testClients(e2e.rpServer.origin),
    { client_id: 'web-only', client_secret: secret, redirect_uris: [e2e.rpServer.callback], first_party: true, wechat_apps: ['open'] },
  ]) });
  t.teardown(() => broker.stop());
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  t.teardown(() => context.close());
  await setPhoneUser(context, broker.simulator, 'alice');
  // Alice logs in inside WeChat at a client with the Official Account: the broker's session.
  const withMp = await createRp(broker.issuer, e2e.rpServer);
  const first = await withMp.start({ scope: 'openid' });
  await page.goto(first.url);
  const alice = (await withMp.finish(await withMp.landed(page), first.check)).claims()!.sub;
  // The website-app-only client, in the same WeChat browser: signed in from the session.
  const webOnly = await createRp(broker.issuer, e2e.rpServer, 'web-only', secret);
  const since = (await simCalls(broker.simulator)).length;
  const second = await webOnly.start({ scope: 'openid' });
  await page.goto(second.url);
  t.is((await webOnly.finish(await webOnly.landed(page), second.check)).claims()!.sub, alice);
  t.deepEqual((await simCalls(broker.simulator)).slice(since).filter((call) => /authorize|qrconnect/.test(call.path)), [], 'no trip to WeChat');
});
