// zh-CN → zh-TW for text written only in Simplified Chinese (a client's `client_name#zh-CN`):
// OpenCC's Taiwan phrasing (opencc-js, `cn` → `twp`), then the forms Taiwanese readers
// expect where OpenCC's choice differs. The zh-TW catalogue (i18n.ts) is held to the same
// table by test/unit/traditional.test.ts.

import { createRequire } from 'node:module';
import type { Converter as MakeConverter } from 'opencc-js/cn2t';

/** OpenCC's choice → what a Taiwanese reader expects (帳號, not 賬號; 「」, not “”). */
export const TAIWAN_FORMS: ReadonlyArray<readonly [string, string]> = [
  ['賬號', '帳號'], ['賬戶', '帳戶'], ['另一臺', '另一台'], ['二維碼', 'QR Code'], ['響應', '回應'],
  ['退出登入', '登出'], ['“', '「'], ['”', '」'], ['‘', '『'], ['’', '』'],
];

/**
 * Loaded and built on the first conversion: OpenCC's module is 1.1 MB of source with its
 * dictionary (about 2 MiB of memory as it is held) and its tables take ~0.4 CPU-s to build,
 * which a broker whose pages never need them should not pay at start. Loaded with require
 * (its UMD build, the same code) so that a page renders synchronously.
 */
let convert: ((text: string) => string) | undefined;
const load = () => (createRequire(import.meta.url)('opencc-js/cn2t') as { Converter: typeof MakeConverter }).Converter({ from: 'cn', to: 'twp' });
const converted = new Map<string, string>();

export function toTraditional(text: string): string {
  const known = converted.get(text);
  if (known !== undefined) return known;
  const opencc = convert ??= load();
  const done = TAIWAN_FORMS.reduce((result, [from, to]) => result.replaceAll(from, to), opencc(text));
  if (converted.size < 1000) converted.set(text, done);
  return done;
}
