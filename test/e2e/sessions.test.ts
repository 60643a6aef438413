// Sessions and tokens as relying parties use them: prompt=none both ways, SSO between two
// clients, consent for third parties, refresh token rotation, RP-initiated logout,
// RS256 by default and ES256 on request, PKCE for public clients.

import test from 'ava';
import * as oidc from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import type { Page } from 'playwright-core';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { authorizeScopes, setPhoneUser, simCalls } from '../helpers/simulator.ts';
import { startQrLogin } from '../helpers/wechat.ts';

const e2e = useE2e(test);

/** A desktop person logged in by QR at `rp` (which may show the consent page). */
async function qrLogin(page: Page, rp: Rp, params: Record<string, string> = {}) {
  return { check: await startQrLogin(page, rp, params) };
}

test.serial('prompt=none without a session outside WeChat: login_required at once, nothing shown', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await rp.start({ prompt: 'none' });
  await page.goto(url);
  const landed = await rp.landed(page);
  t.is(landed.searchParams.get('error'), 'login_required');
  t.is(landed.searchParams.get('state'), check.state);
  await context.close();
});

test.serial('prompt=none with a session: a code without any page, the same sub', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const first = await qrLogin(page, rp);
  const sub = (await rp.finish(await rp.landed(page), first.check)).claims()!.sub;
  const { url, check } = await rp.start({ prompt: 'none' });
  await page.goto(url);
  const again = await rp.finish(await rp.landed(page), check);
  t.is(again.claims()!.sub, sub);
  await context.close();
});

test.serial('prompt=none inside WeChat without a broker session: silent snsapi_base logs a known person in', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const known = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(known.context, e2e.broker.simulator, 'chen');
  const first = await rp.start({ scope: 'openid' });
  await known.page.goto(first.url);
  const sub = (await rp.finish(await rp.landed(known.page), first.check)).claims()!.sub;
  await known.context.close();

  // WeChat was killed: the webview lost the broker's cookies, WeChat still knows the person.
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'chen');
  const since = (await simCalls(e2e.broker.simulator)).length;
  const { url, check } = await rp.start({ scope: 'openid', prompt: 'none' });
  await page.goto(url);
  const tokens = await rp.finish(await rp.landed(page), check);
  t.is(tokens.claims()!.sub, sub);
  t.deepEqual(await authorizeScopes(e2e.broker.simulator, since), ['snsapi_base']);
  await context.close();
});

test.serial('prompt=none inside WeChat for somebody without an account: login_required, no account made, nothing shown', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'bob');
  const since = (await simCalls(e2e.broker.simulator)).length;
  const { url, check } = await rp.start({ prompt: 'none' });
  await page.goto(url);
  const landed = await rp.landed(page);
  t.is(landed.searchParams.get('error'), 'login_required');
  t.is(landed.searchParams.get('state'), check.state);
  t.deepEqual(await authorizeScopes(e2e.broker.simulator, since), ['snsapi_base'], 'no snsapi_userinfo sheet');
  await context.close();
});

test.serial('SSO: a second client gets the same person without a second WeChat login; a third party shows consent first', async (t) => {
  const first = await createRp(e2e.broker.issuer, e2e.rpServer);
  const third = await createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const { page, context } = await newPerson(e2e.browser, 'desktop', 'en');
  const login = await qrLogin(page, first);
  const sub = (await first.finish(await first.landed(page), login.check)).claims()!.sub;

  const { url, check } = await third.start({ redirect_uri: e2e.rpServer.callback });
  await page.goto(url);
  t.is(await page.locator('h1').innerText(), 'Allow access');
  t.regex(await page.locator('section > p').first().innerText(), /^Third <Party> App asks for:/);
  await page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await third.finish(await third.landed(page), check);
  t.is(tokens.claims()!.sub, sub);
  t.is(tokens.claims()!.aud, 'third-party');

  // Consent is remembered for the session.
  const again = await third.start({ redirect_uri: e2e.rpServer.callback });
  await page.goto(again.url);
  t.is((await third.finish(await third.landed(page), again.check)).claims()!.sub, sub);
  await context.close();
});

test.serial('consent denied: the third party gets access_denied', async (t) => {
  const third = await createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const { check } = await qrLogin(page, third, { redirect_uri: e2e.rpServer.callback });
  await page.getByRole('button', { name: '拒绝' }).click();
  const landed = await third.landed(page);
  t.is(landed.searchParams.get('error'), 'access_denied');
  t.is(landed.searchParams.get('state'), check.state);
  await context.close();
});

test.serial('a client with several redirect_uris must name one', async (t) => {
  const third = await createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const url = new URL((await third.start()).url);
  url.searchParams.delete('redirect_uri');
  const response = await fetch(url, { redirect: 'manual' });
  t.is(response.status, 400);
  t.regex(await response.text(), /redirect_uri/);
});

test.serial('offline_access: a refresh token that rotates; a replayed one is refused', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const { check } = await qrLogin(page, rp, { scope: 'openid offline_access', prompt: 'consent' });
  await page.getByRole('button', { name: '同意' }).click();
  const tokens = await rp.finish(await rp.landed(page), check);
  t.truthy(tokens.refresh_token);
  const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
  t.truthy(refreshed.access_token);
  t.is(refreshed.claims()!.sub, tokens.claims()!.sub);
  t.not(refreshed.refresh_token, tokens.refresh_token);
  const replay = await t.throwsAsync(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!));
  t.is((replay as oidc.ResponseBodyError).error, 'invalid_grant');
  await context.close();
});

test.serial('a used authorization code is refused', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const { check } = await qrLogin(page, rp);
  const landed = await rp.landed(page);
  await rp.finish(landed, check);
  const reuse = await t.throwsAsync(rp.finish(landed, check));
  t.is((reuse as oidc.ResponseBodyError).error, 'invalid_grant');
  await context.close();
});

async function logout(page: Page, rp: Rp, idToken: string): Promise<void> {
  await page.goto(oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: e2e.rpServer.loggedOut }).href);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL((url) => url.href.startsWith(e2e.rpServer.loggedOut));
}

test.serial('RP-initiated logout: a confirmation page, back to the RP, and the session is gone', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  const { page, context } = await newPerson(e2e.browser, 'desktop', 'en');
  const { check } = await qrLogin(page, rp);
  const tokens = await rp.finish(await rp.landed(page), check);
  await logout(page, rp, tokens.id_token!);
  t.true(page.url().startsWith(e2e.rpServer.loggedOut));
  const { url } = await rp.start({ prompt: 'none' });
  await page.goto(url);
  t.is((await rp.landed(page)).searchParams.get('error'), 'login_required');
  await context.close();
});

test.serial('logging out of one app alone: cancel changes nothing; the other apps keep the login; that app asks for a scan again', async (t) => {
  const app = await createRp(e2e.broker.issuer, e2e.rpServer);
  const other = await createRp(e2e.broker.issuer, e2e.rpServer, 'rs256');
  const { page, context } = await newPerson(e2e.browser, 'desktop', 'en');
  const login = await qrLogin(page, app);
  const tokens = await app.finish(await app.landed(page), login.check);
  const sub = tokens.claims()!.sub;
  const silently = async (rp: Rp) => {
    const { url, check } = await rp.start({ prompt: 'none' });
    await page.goto(url);
    const landed = await rp.landed(page);
    return landed.searchParams.has('code') ? (await rp.finish(landed, check)).claims()!.sub : landed.searchParams.get('error');
  };
  const askToLogOut = () => page.goto(oidc.buildEndSessionUrl(app.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: e2e.rpServer.loggedOut }).href);

  await askToLogOut();
  t.deepEqual(await page.locator('section .button').allInnerTexts(), ['Log out of all apps', 'Log out of First Party only', 'Cancel, stay logged in']);
  await page.getByRole('link', { name: 'Cancel, stay logged in' }).click();
  await page.waitForURL((url) => url.pathname === '/account');
  t.is(await silently(app), sub, 'cancel: still logged in');

  await askToLogOut();
  await page.getByRole('button', { name: 'Log out of First Party only', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(e2e.rpServer.loggedOut));
  t.is(await silently(other), sub, 'the other app keeps the login');
  t.is(await silently(app), 'login_required', 'the app logged out of needs a login');
  const { check } = await qrLogin(page, app);
  t.is((await app.finish(await app.landed(page), check)).claims()!.sub, sub, 'a scan logs the person in again');
  t.is(await silently(app), sub, 'and the app is remembered again');
  await context.close();
});

test.serial('RS256 by default (OIDC Registration 2); a client registered for ES256 gets ES256 ID tokens', async (t) => {
  for (const [clientId, alg] of [['first-party', 'RS256'], ['rs256', 'RS256'], ['es256', 'ES256']] as const) {
    const rp = await createRp(e2e.broker.issuer, e2e.rpServer, clientId);
    const { page, context } = await newPerson(e2e.browser, 'desktop');
    const { check } = await qrLogin(page, rp);
    const tokens = await rp.finish(await rp.landed(page), check);
    t.is(decodeProtectedHeader(tokens.id_token!).alg, alg);
    await context.close();
  }
});

test.serial('a public client must use PKCE', async (t) => {
  const rp = await createRp(e2e.broker.issuer, e2e.rpServer, 'spa');
  const url = new URL((await rp.start()).url);
  url.searchParams.delete('code_challenge');
  url.searchParams.delete('code_challenge_method');
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  await page.goto(url.href);
  const landed = await rp.landed(page);
  t.is(landed.searchParams.get('error'), 'invalid_request');
  t.regex(String(landed.searchParams.get('error_description')), /PKCE/);
  const { check } = await qrLogin(page, rp);
  t.truthy((await rp.finish(await rp.landed(page), check)).claims()!.sub, 'with PKCE it works');
  await context.close();
});
