// No dead code (knip, knip.jsonc): the real tree has no file, export, type or dependency
// that nothing uses, and a tree with one of each fails the check naming them.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNIP = join(ROOT, 'node_modules', 'knip', 'bin', 'knip.js');

function knip(dir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [KNIP, '--no-progress', '--no-config-hints'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A copy of the project's code, tests and manifests with `edit` applied. */
function treeWith(edit: (dir: string) => void): string {
  const dir = tempDir('broker-dead-code');
  for (const part of ['src', 'scripts', 'test', 'package.json', 'tsconfig.json', 'knip.jsonc']) {
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  edit(dir);
  return dir;
}

test('nothing in src/, scripts/ or test/ is unused: no file, export, type or dependency', (t) => {
  const { status, output } = knip(ROOT);
  t.is(status, 0, output);
});

test('a file nothing imports, an export nobody uses and a dependency nobody imports each fail the check by name', (t) => {
  const dir = treeWith((root) => {
    writeFileSync(join(root, 'src/wechat/forgotten.ts'), 'export const forgotten = 1;\n');
    writeFileSync(join(root, 'src/wechat/avatar.ts'), "export const leftOver = 'nobody asks';\n", { flag: 'a' });
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['left-pad'] = '^1.3.0';
    writeFileSync(join(root, 'package.json'), JSON.stringify(manifest, null, 2));
  });
  const { status, output } = knip(dir);
  t.not(status, 0, output);
  t.regex(output, /src\/wechat\/forgotten\.ts/);
  t.regex(output, /leftOver\s+src\/wechat\/avatar\.ts/);
  t.regex(output, /left-pad/);
});
