// The import layering README's "How it is built" draws, checked by dependency-cruiser
// (.dependency-cruiser.cjs): the real tree passes, and a tree with one arrow pointing up
// fails with the rule named.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CRUISER = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

function cruise(dir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [CRUISER, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A copy of the project's src/ (and its cruiser config) with `extra` files added. */
function treeWith(extra: Record<string, string>): string {
  const dir = tempDir('broker-layering');
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  cpSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(extra)) writeFileSync(join(dir, path), text);
  return dir;
}

test('every import in src/ points down the layers', (t) => {
  const { status, output } = cruise(ROOT);
  t.is(status, 0, output);
  t.regex(output, /no dependency violations found \((\d{2,}) modules/);
});

test('an import that points up, oidc/ reaching for WeChat, a way in reaching for another or for OIDC: each fails the check by name', (t) => {
  const dir = treeWith({
    'src/wechat/leak.ts': "import type { Interaction } from '../oidc/interactions.ts';\nexport type Leak = Interaction;\n",
    'src/oidc/peek.ts': "import { isWeChatId } from '../wechat/types.ts';\nexport const peek = isWeChatId;\n",
    'src/upstreams/wechat-web/borrow.ts': "import { QrLogin } from '../wechat-qr/qr-login.ts';\nexport const borrow = QrLogin;\n",
    'src/upstreams/wechat-qr/oauth.ts': "import type { Interaction } from '../../oidc/interactions.ts';\nexport type Oauth = Interaction;\n",
  });
  const { status, output } = cruise(dir);
  t.not(status, 0);
  t.regex(output, /layer-14-imports-up: src\/wechat\/leak\.ts → src\/oidc\/interactions\.ts/);
  t.regex(output, /oidc-knows-no-upstream: src\/oidc\/peek\.ts → src\/wechat\/types\.ts/);
  t.regex(output, /ways-in-stand-apart: src\/upstreams\/wechat-web\/borrow\.ts → src\/upstreams\/wechat-qr\/qr-login\.ts/);
  t.regex(output, /upstreams-know-no-oidc: src\/upstreams\/wechat-qr\/oauth\.ts → src\/oidc\/interactions\.ts/);
});

test('only config/ reads the environment', (t) => {
  const grep = spawnSync('grep', ['-rln', 'process\\.env', 'src'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.deepEqual(grep.stdout.split('\n').filter(Boolean).filter((file) => !file.startsWith('src/config/')), []);
});
