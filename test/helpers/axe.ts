// axe-core in Chromium: the serious and critical WCAG 2.1 A/AA violations on a page.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now (axe is loaded once per page). */
export async function violations(page: Page): Promise<Violation[]> {
  if (!await page.evaluate(() => 'axe' in globalThis)) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.filter((found) => found.impact === 'serious' || found.impact === 'critical')
      .map((found) => ({ id: found.id, impact: found.impact, help: found.help, nodes: found.nodes.length }));
  });
}
