// What the OpenID Foundation's basic OP plan (oidcc-basic) checks, mapped onto WeChat
// logins: authorization requests by POST, prompt=login, max_age and auth_time,
// id_token_hint, userinfo by GET and POST, introspection and revocation.

import test from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { freePort } from '../helpers/ports.ts';
import { scanQr, startQrLogin } from '../helpers/wechat.ts';

const e2e = useE2e(test);

/** A QR login at the first-party RP on `page`: its tokens. */
async function loginByQr(page: Page, params: Record<string, string> = {}, user = /Alice/) {
  const check = await startQrLogin(page, e2e.rp, params, user);
  return e2e.rp.finish(await e2e.rp.landed(page), check);
}

test.serial('an authorization request by POST, behind a TLS-terminating proxy (POST needs an https issuer)', async (t) => {
  const port = await freePort();
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(e2e.rpServer.origin)), PORT: String(port), ISSUER: `https://localhost:${port}`,
  });
  try {
    const proxy = { 'x-forwarded-proto': 'https', host: `localhost:${port}` };
    const direct = `http://127.0.0.1:${port}`;
    const { url } = await e2e.rp.start();
    const params = new URL(url).searchParams;
    const posted = await fetch(`${direct}/auth`, { method: 'POST', headers: proxy, body: params, redirect: 'manual' });
    t.is(posted.status, 303);
    const interaction = String(posted.headers.get('location'));
    t.regex(interaction, /^\/interaction\/[\w-]+$/);
    const cookies = posted.headers.getSetCookie();
    t.true(cookies.some((cookie) => /^_interaction=/.test(cookie) && /secure/i.test(cookie)));
    const page = await fetch(`${direct}${interaction}`, {
      headers: { ...proxy, cookie: cookies.map((cookie) => cookie.split(';')[0]).join('; ') },
    });
    t.is(page.status, 200, 'the login continues: the QR page');
    t.regex(await page.text(), /id="qr"/);
    const plain = await fetch(`${e2e.broker.issuer}/auth`, { method: 'POST', body: params, redirect: 'manual' });
    t.is(plain.status, 404, 'an http issuer (dev mode) takes GET only');
  } finally {
    await broker.stop();
  }
});

test.serial('prompt=login: the person logs in again although a session exists', async (t) => {
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const first = await loginByQr(page);
  const { url, check } = await e2e.rp.start({ prompt: 'login' });
  await page.goto(url);
  t.is(await page.locator('#qr iframe').count(), 1, 'the QR is shown again');
  await scanQr(page);
  const again = await e2e.rp.finish(await e2e.rp.landed(page), check);
  t.is(again.claims()!.sub, first.claims()!.sub);
  await context.close();
});

test.serial('max_age: an older login is redone, and auth_time tells when', async (t) => {
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const before = Math.floor(Date.now() / 1000);
  const first = await loginByQr(page, { max_age: '300' });
  const firstAuthTime = Number(first.claims()!.auth_time);
  t.true(firstAuthTime >= before && firstAuthTime <= Date.now() / 1000, 'auth_time is the moment of this login');

  const recent = await e2e.rp.start({ max_age: '300' });
  await page.goto(recent.url);
  const silent = await e2e.rp.finish(await e2e.rp.landed(page), recent.check);
  t.is(silent.claims()!.auth_time, firstAuthTime, 'a login within max_age is reused');

  await new Promise((resolve) => setTimeout(resolve, 2100));
  const stale = await e2e.rp.start({ max_age: '1' });
  await page.goto(stale.url);
  t.is(await page.locator('#qr iframe').count(), 1, 'too old: the QR is shown again');
  await scanQr(page);
  const redone = await e2e.rp.finish(await e2e.rp.landed(page), stale.check);
  t.true(Number(redone.claims()!.auth_time) > firstAuthTime);
  await context.close();
});

test.serial('id_token_hint with prompt=none: the hinted person gets a code; somebody else gets login_required', async (t) => {
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const alice = await loginByQr(page);
  const hinted = await e2e.rp.start({ prompt: 'none', id_token_hint: alice.id_token! });
  await page.goto(hinted.url);
  t.is((await e2e.rp.finish(await e2e.rp.landed(page), hinted.check)).claims()!.sub, alice.claims()!.sub);

  const other = await newPerson(e2e.browser, 'desktop');
  const bob = await loginByQr(other.page, {}, /Bob/);
  const mismatch = await e2e.rp.start({ prompt: 'none', id_token_hint: bob.id_token! });
  await page.goto(mismatch.url);
  t.is((await e2e.rp.landed(page)).searchParams.get('error'), 'login_required');
  await Promise.all([context.close(), other.context.close()]);
});

test.serial('userinfo by GET and POST; introspection, then revocation', async (t) => {
  const { page, context } = await newPerson(e2e.browser, 'desktop');
  const tokens = await loginByQr(page);
  const meta = e2e.rp.config.serverMetadata();
  const get = await fetch(meta.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const post = await fetch(meta.userinfo_endpoint!, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${tokens.access_token}`,
  });
  t.is(get.status, 200);
  t.is(post.status, 200);
  t.deepEqual(await post.json(), await get.json());

  t.true((await oidc.tokenIntrospection(e2e.rp.config, tokens.access_token)).active);
  await oidc.tokenRevocation(e2e.rp.config, tokens.access_token);
  t.false((await oidc.tokenIntrospection(e2e.rp.config, tokens.access_token)).active);
  const revoked = await fetch(meta.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(revoked.status, 401);
  await context.close();
});
