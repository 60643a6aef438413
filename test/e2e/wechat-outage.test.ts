// WeChat keeps failing: after five failed logins in a row the broker stops sending people
// to WeChat and says so at once, then lets logins through again once WeChat answers.
// A broker of its own: the open circuit must not reach other tests.

import test from 'ava';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { injectFaults, setPhoneUser, simCalls } from '../helpers/simulator.ts';

const e2e = useE2e(test);

test.serial('five failed logins in a row: the next person gets a clear page at once, without a trip to WeChat', async (t) => {
  await injectFaults(e2e.broker.simulator, '/sns/oauth2/access_token', Array.from({ length: 10 }, () => 'busy' as const));
  for (let i = 0; i < 5; i += 1) {
    const { context, page } = await newPerson(e2e.browser, 'wechat');
    await setPhoneUser(context, e2e.broker.simulator, 'alice');
    await page.goto((await e2e.rp.start({ scope: 'openid' })).url);
    t.is((await e2e.rp.landed(page)).searchParams.get('error'), 'temporarily_unavailable');
    await context.close();
  }
  const before = (await simCalls(e2e.broker.simulator)).length;
  const { context, page } = await newPerson(e2e.browser, 'wechat', 'en');
  await setPhoneUser(context, e2e.broker.simulator, 'alice');
  const response = await page.goto((await e2e.rp.start({ scope: 'openid' })).url);
  t.is(response?.status(), 503);
  t.regex(await page.locator('p').first().innerText(), /WeChat is not answering/);
  t.is(await page.getByRole('link', { name: /log in again/ }).count(), 1, 'a way to try again');
  t.is((await simCalls(e2e.broker.simulator)).length, before, 'nobody was sent to WeChat');
  await context.close();
});
