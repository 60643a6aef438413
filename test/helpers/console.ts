// The operator console, as a person uses it in a browser (dev mode: anyone who logs in may,
// its people being the simulator's): signing in, and suspending someone.

import type { Browser, Page } from 'playwright-core';
import type { RunningBroker } from './broker.ts';
import { newPerson } from './browser.ts';

/** Logs Alice in at the operator console (a QR login): its search page. */
export async function atConsole(page: Page, broker: RunningBroker): Promise<void> {
  await page.goto(`${broker.issuer}/console`);
  await page.locator('#pick-wechat').click();
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.waitForURL(/\/console\?/);
}

/** Alice, at the console in a browser of her own, suspends the account `sub` for `days` days. */
export async function suspendAtConsole(browser: Browser, broker: RunningBroker, sub: string, days: '1' | '7' | '30' | '90'): Promise<void> {
  const operator = await newPerson(browser, 'desktop');
  try {
    await atConsole(operator.page, broker);
    await operator.page.goto(`${broker.issuer}/console/accounts/${sub}`);
    await operator.page.locator('#reason').fill('多次恶意退款');
    await operator.page.locator('#days').selectOption(days);
    await operator.page.locator('form[action$="/suspend"] button').click();
    await operator.page.locator('form[action$="/reinstate"]').waitFor();
  } finally {
    await operator.context.close();
  }
}
