// WCAG 2.1 AA on every page a person can meet, checked by axe-core in Chromium, in
// Simplified Chinese and English, at desktop and phone sizes, and on the phone in dark mode.
// Any serious or critical violation fails the test.

import test from 'ava';
import type { Browser } from 'playwright-core';
import { violations } from '../helpers/axe.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { staffPortal, tour, visit } from '../helpers/tour.ts';

let browser: Browser;
let rpServer: RpServer;
let broker: RunningBroker;

test.before(async () => {
  rpServer = await startRpServer();
  [browser, broker] = await Promise.all([launchChromium(), startBroker({
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), staffPortal(rpServer.origin)]),
    BRAND_NAME: '示例科技', BRAND_PRIVACY_URL: 'https://www.example.com/privacy', ICP_LICENSE: '京ICP备12345678号-1',
  })]);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close()]);
});

for (const [name, stop] of Object.entries(tour(() => ({ broker, rpServer })))) {
  test.serial(`${name}: no serious or critical WCAG 2.1 AA violation, zh-CN and en, desktop and phone, light and dark`, async (t) => {
    await visit(browser, stop, async (page, { locale, size, scheme }) => {
      t.deepEqual(await violations(page), [], `${name}, ${locale}, ${size}, ${scheme}`);
    });
  });
}
