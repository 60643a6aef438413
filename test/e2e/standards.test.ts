// The OAuth 2.0 Security BCP (RFC 9700) and the OpenID specifications, one test per rule
// the broker is responsible for, as a relying party written by someone else meets them.

import test from 'ava';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { setPhoneUser } from '../helpers/simulator.ts';
import { allowInWeChat } from '../helpers/wechat.ts';

const e2e = useE2e(test, { WECHAT_QR_MODE: 'redirect' });

test("WeChat's #wechat_redirect never reaches the relying party: a silent snsapi_base login, WeChat redirecting straight back", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'chen');
  const { url, check } = await e2e.rp.start({ scope: 'openid' });
  await page.goto(url);
  const landed = await e2e.rp.landed(page);
  t.is(landed.hash, '', 'a redirect would have carried #wechat_redirect over from WeChat\'s authorize URL');
  t.false(page.url().includes('#'));
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});

test("WeChat's #wechat_redirect never reaches the relying party: inside WeChat, through the upgrade to snsapi_userinfo", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'alice');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  await allowInWeChat(page);
  const landed = await e2e.rp.landed(page);
  t.is(landed.hash, '');
  t.false(page.url().includes('#'), 'no fragment at all on the redirect_uri');
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});

test("WeChat's #wechat_redirect never reaches the relying party: QR login on WeChat's own page", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  t.true(page.url().endsWith('#wechat_redirect'), "the person is on WeChat's page, whose URL has the fragment");
  await page.getByRole('button', { name: /Alice/ }).click();
  const landed = await e2e.rp.landed(page);
  t.false(page.url().includes('#'));
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});
