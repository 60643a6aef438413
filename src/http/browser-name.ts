// A browser as a person would recognize it ("Chrome · Android", "WeChat · iOS"), roughly,
// from its User-Agent: for the pages that ask a person about another browser (the phone
// hand-off, a follow-to-login scan) and the list of browsers and devices they are logged
// in on. Only these fixed words are ever kept or shown, never the User-Agent itself (an
// input anyone can write, and a fingerprint).

/** The browser, first match wins: WeCom's and WeChat's browsers also say Chrome and Safari, Edge says Chrome. */
const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/wxwork\//i, 'WeCom'], [/MicroMessenger\//i, 'WeChat'], [/EdgA?\//, 'Edge'], [/Firefox\//, 'Firefox'], [/UCBrowser/, 'UC'],
  [/QQBrowser/, 'QQ'], [/HuaweiBrowser/, 'Huawei'], [/Chrome\//, 'Chrome'], [/Safari\//, 'Safari'],
];

/** The system, first match wins: HarmonyOS's browsers also say Android, Android's say Linux. */
const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/HarmonyOS/, 'HarmonyOS'], [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
];

/** The fallback for a browser of none of the names above: the pages put it in the person's language. */
export const SOME_BROWSER = 'browser';

const first = (table: typeof BROWSERS, userAgent: string) => table.find(([pattern]) => pattern.test(userAgent))?.[1];

/** "Chrome · Android", "WeChat · iOS", "Edge · Windows", "browser · Linux", or "browser". */
export function browserName(userAgent: string): string {
  const browser = first(BROWSERS, userAgent) ?? SOME_BROWSER;
  const system = first(SYSTEMS, userAgent);
  return system ? `${browser} · ${system}` : browser;
}

/** A browser's name and its system's, each one word of letters, as every name above. */
const NAME_SHAPE = /^[A-Za-z]{1,20}(?: · [A-Za-z]{1,20})?$/;

/**
 * Whether `value` is shaped as a name `browserName` gives (this version's, or another's with
 * other words: a record from elsewhere, a dump): never a User-Agent, which has more in it.
 */
export function isBrowserName(value: unknown): value is string {
  return typeof value === 'string' && NAME_SHAPE.test(value);
}
