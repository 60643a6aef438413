// The configuration is documented where operators look, and nowhere differently: README's
// configuration table (and README.zh-CN's) and .env.example list exactly the variables of config/variables.ts,
// and the README gives each fixed default as the table has it.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VARIABLES } from '../../src/config/variables.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const names = Object.keys(VARIABLES).sort();

/** A README's configuration table (the section under `heading`): variable → its row's default cell. */
function readmeRows(file = 'README.md', heading = '## Configuration'): Map<string, string> {
  const readme = readFileSync(`${ROOT}${file}`, 'utf8');
  const section = readme.slice(readme.indexOf(heading), readme.indexOf('\n## ', readme.indexOf(heading) + 5));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((row) => row.startsWith('| `'))) {
    const [, first = '', defaults = ''] = line.split('|');
    for (const [, name] of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) rows.set(name!, defaults.trim());
  }
  return rows;
}

test('README\'s configuration table lists exactly the variables the broker reads', (t) => {
  t.deepEqual([...readmeRows().keys()].sort(), names);
});

test('README gives every fixed default as the configuration table has it', (t) => {
  const rows = readmeRows();
  for (const [name, row] of Object.entries(VARIABLES)) {
    if ('default' in row && row.default !== undefined) t.true(rows.get(name)?.includes(`\`${row.default}\``), `${name} defaults to ${row.default}`);
  }
});

test('README.zh-CN\'s configuration table lists the same variables, with the same fixed defaults', (t) => {
  const rows = readmeRows('README.zh-CN.md', '## 配置项');
  t.deepEqual([...rows.keys()].sort(), names);
  for (const [name, row] of Object.entries(VARIABLES)) {
    if ('default' in row && row.default !== undefined) t.true(rows.get(name)?.includes(`\`${row.default}\``), `${name} defaults to ${row.default}`);
  }
});

test('.env.example lists exactly the variables the broker reads', (t) => {
  const example = readFileSync(`${ROOT}.env.example`, 'utf8');
  const listed = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map(([, name]) => name!);
  t.deepEqual([...new Set(listed)].sort(), names);
});
