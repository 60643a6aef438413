// OpenCC (2 to 3.5 MiB of a process's memory, its dictionary and code) loads on the first
// conversion to Traditional Chinese, not when the broker starts: most brokers never name a
// client in Simplified Chinese alone, and their pages never need it.

import test from 'ava';
import { registerHooks } from 'node:module';

test('the pages load without OpenCC; the first conversion loads it, and converts', async (t) => {
  const resolved: string[] = [];
  registerHooks({ resolve: (specifier, context, next) => { resolved.push(specifier); return next(specifier, context); } });
  const { brandName } = await import('../../src/pages/brand.ts');
  const { toTraditional } = await import('../../src/pages/traditional.ts');
  t.is(typeof brandName, 'function');
  t.false(resolved.some((specifier) => specifier.startsWith('opencc-js')), resolved.filter((specifier) => !specifier.startsWith('.')).join(', '));
  t.is(toTraditional('扫码登录你的账号'), '掃碼登入你的帳號');
  t.true(resolved.some((specifier) => specifier.startsWith('opencc-js')));
});
