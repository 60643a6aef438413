// npm run screenshots — every page a person can meet, in Simplified Chinese and English,
// at desktop and phone sizes and on the phone in dark mode, as PNG files in screenshots/
// for a reviewer to look at (they are not compared pixel by pixel). Starts its own broker
// (with a sample brand), relying party server and Chromium, and stops them.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, testClients, writeClientsFile } from '../test/helpers/broker.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { startRpServer } from '../test/helpers/rp-server.ts';
import { staffPortal, tour, visit } from '../test/helpers/tour.ts';

const OUT = join(process.cwd(), 'screenshots');
mkdirSync(OUT, { recursive: true });
const rpServer = await startRpServer();
const [browser, broker] = await Promise.all([launchChromium(), startBroker({
  CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), staffPortal(rpServer.origin)]),
  BRAND_NAME: '示例科技', BRAND_PRIVACY_URL: 'https://www.example.com/privacy', BRAND_TERMS_URL: 'https://www.example.com/terms',
  ICP_LICENSE: '京ICP备12345678号-1', PSB_LICENSE: '京公网安备11010502030000号',
})]);
let written = 0;
try {
  for (const [name, stop] of Object.entries(tour(() => ({ broker, rpServer })))) {
    await visit(browser, stop, async (page, { locale, size, scheme }) => {
      await page.screenshot({ path: join(OUT, `${name.replace(/\W+/g, '-')}.${locale}.${size}${scheme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
      written += 1;
    });
  }
  process.stdout.write(`wrote ${written} screenshots to ${OUT}\n`);
} finally {
  await Promise.all([browser.close(), broker.stop(), rpServer.close()]);
}
