// Official Account web authorization inside the WeChat browser: snsapi_base whenever it is
// enough, snsapi_userinfo otherwise, and one `sub` per person across both upstreams.

import test from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { authorizeScopes, setPhoneUser, simCalls } from '../helpers/simulator.ts';

const e2e = useE2e(test);

/** One login of `user` inside WeChat; clicks "allow" when WeChat shows its sheet. */
async function loginInWeChat(user: string, params: Record<string, string> = {}, onPage?: (page: Page) => Promise<void>) {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, user);
  const since = (await simCalls(e2e.broker.simulator)).length;
  const { url, check } = await e2e.rp.start(params);
  await page.goto(url);
  if (onPage) await onPage(page);
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  const claims = tokens.claims()!;
  const userinfo = await oidc.fetchUserInfo(e2e.rp.config, tokens.access_token, claims.sub);
  await context.close();
  return { claims, userinfo, scopes: await authorizeScopes(e2e.broker.simulator, since) };
}

const allow = async (page: Page) => {
  await page.getByRole('button', { name: /^允许/ }).click();
};

async function loginByQr(user: RegExp) {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  await page.frameLocator('#qr iframe').getByRole('button', { name: user }).click();
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  const claims = tokens.claims()!;
  const userinfo = await oidc.fetchUserInfo(e2e.rp.config, tokens.access_token, claims.sub);
  await context.close();
  return { claims, userinfo };
}

test.serial('only openid asked: silent snsapi_base, no WeChat sheet, and an account with the openid only', async (t) => {
  const { claims, userinfo, scopes } = await loginInWeChat('chen', { scope: 'openid' });
  t.deepEqual(scopes, ['snsapi_base']);
  t.truthy(claims.sub);
  t.is(userinfo.nickname, undefined);
});

test.serial('profile asked of a new person: snsapi_base first, then snsapi_userinfo with WeChat\'s sheet', async (t) => {
  const { userinfo, scopes } = await loginInWeChat('alice', {}, allow);
  t.deepEqual(scopes, ['snsapi_base', 'snsapi_userinfo']);
  t.is(userinfo.nickname, '小爱 Alice 🌸');
  t.truthy(userinfo.wechat_unionid);
});

test.serial('a returning person whose account has what is asked: snsapi_base only', async (t) => {
  const first = await loginInWeChat('alice', {}, async () => {});
  t.deepEqual(first.scopes, ['snsapi_base'], 'alice already has a profile and a unionid');
  t.is(first.userinfo.nickname, '小爱 Alice 🌸');
});

test.serial('one person, one sub: QR login on the desktop and web authorization in WeChat', async (t) => {
  const inWeChat = await loginInWeChat('alice');
  const byQr = await loginByQr(/Alice/);
  t.is(byQr.claims.sub, inWeChat.claims.sub);
  t.is(byQr.userinfo.wechat_unionid, inWeChat.userinfo.wechat_unionid);
  t.not(byQr.userinfo.wechat_openid, inWeChat.userinfo.wechat_openid, 'each login reports the openid of its own app');
});

test.serial('an openid-only account and a QR account of the same person merge into the older, and the younger sub still works', async (t) => {
  const older = await loginInWeChat('chen', { scope: 'openid' });
  const younger = await loginByQr(/陈大文/);
  t.not(younger.claims.sub, older.claims.sub, 'nothing ties them together yet: no unionid on the openid-only account');
  const youngerToken = await (async () => {
    const { context, page } = await newPerson(e2e.browser, 'desktop');
    const { url, check } = await e2e.rp.start();
    await page.goto(url);
    await page.frameLocator('#qr iframe').getByRole('button', { name: /陈大文/ }).click();
    const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
    await context.close();
    return tokens;
  })();
  const merged = await loginInWeChat('chen', {}, allow);
  t.is(merged.claims.sub, older.claims.sub, 'the unionid links both: the older account wins');
  t.is(merged.userinfo.nickname, '陈大文');
  const afterMerge = await loginByQr(/陈大文/);
  t.is(afterMerge.claims.sub, older.claims.sub);
  const stillWorks = await oidc.fetchUserInfo(e2e.rp.config, youngerToken.access_token, younger.claims.sub);
  t.is(stillWorks.sub, younger.claims.sub);
  t.is(stillWorks.nickname, '陈大文');
});
