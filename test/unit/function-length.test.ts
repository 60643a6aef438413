// No function in src/ is longer than 40 lines: an endpoint is a list of small named
// steps. Configuration literals are the one exception, each named here with its reason.

import test from 'ava';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINES = 40;
/** Functions that only return one configuration object literal. */
const CONFIGURATION_LITERALS = new Set([
  'src/oidc/provider.ts:configuration', // oidc-provider's whole configuration, one option per line
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

type FunctionNode = acorn.Node & { id?: { name: string } | null; loc: acorn.SourceLocation };

function longFunctions(file: string): string[] {
  // Type stripping keeps every position, so the lines are the source's.
  const js = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' });
  const ast = acorn.parse(js, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  const found: string[] = [];
  walk.full(ast, (node) => {
    if (!/Function/.test(node.type)) return;
    const { loc, id } = node as FunctionNode;
    const lines = loc.end.line - loc.start.line + 1;
    const name = `${relative(ROOT, file)}:${id?.name ?? `line ${loc.start.line}`}`;
    if (lines > MAX_LINES && !CONFIGURATION_LITERALS.has(name)) found.push(`${name} (${lines} lines)`);
  });
  return found;
}

test(`no function in src/ is over ${MAX_LINES} lines, configuration literals aside`, (t) => {
  const files = sources(join(ROOT, 'src'));
  t.true(files.length > 50);
  t.deepEqual(files.flatMap(longFunctions), []);
});
