// WCAG 2.1 AA on every page a person can meet, checked by axe-core in Chromium, in
// Simplified Chinese and English, at desktop and phone sizes, and on the phone in dark mode.
// Any serious or critical violation fails the test.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { staffPortal, tour, visit } from '../helpers/tour.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now (axe is loaded once per page). */
async function violations(page: Page): Promise<Violation[]> {
  if (!await page.evaluate(() => 'axe' in globalThis)) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.filter((found) => found.impact === 'serious' || found.impact === 'critical')
      .map((found) => ({ id: found.id, impact: found.impact, help: found.help, nodes: found.nodes.length }));
  });
}

for (const [name, stop] of Object.entries(tour(() => ({ broker, rpServer })))) {
  test.serial(`${name}: no serious or critical WCAG 2.1 AA violation, zh-CN and en, desktop and phone, light and dark`, async (t) => {
    await visit(browser, stop, async (page, { locale, size, scheme }) => {
      t.deepEqual(await violations(page), [], `${name}, ${locale}, ${size}, ${scheme}`);
    });
  });
}
