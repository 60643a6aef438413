// The suite's own rule for a 2-core machine: a test file that drives Chromium runs its tests
// one at a time (ava runs three files at once), so that a run never has dozens of pages
// competing for the cores. A new browser test written with plain `test(` fails here.

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E = fileURLToPath(new URL('../e2e', import.meta.url));
const usesBrowser = (source: string) => /\b(launchChromium|useE2e|newPerson)\b/.test(source);

test('every test in a file that drives Chromium is test.serial', (t) => {
  const files = readdirSync(E2E).filter((name) => name.endsWith('.test.ts'));
  const browserFiles = files.filter((name) => usesBrowser(readFileSync(join(E2E, name), 'utf8')));
  t.true(browserFiles.length > 10, 'the browser files were found');
  const concurrent = browserFiles.flatMap((name) => readFileSync(join(E2E, name), 'utf8').split('\n')
    .map((line, index) => ({ where: `${name}:${index + 1}`, line }))
    .filter(({ line }) => /^\s*test(\.(only|skip|failing))?\(/.test(line)).map(({ where }) => where));
  t.deepEqual(concurrent, [], 'use test.serial( in these places');
});
