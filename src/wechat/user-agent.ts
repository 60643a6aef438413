// Which browser the person is in, as far as WeChat logins are concerned.

/**
 * - `wechat`: WeChat's built-in browser (phone, or WindowsWechat / MacWechat), where
 *   Official Account web authorization works (WeCom, `wxwork`, is another product);
 * - `mobile`: any other phone or tablet browser: no flow completes there;
 * - `desktop`: a desktop browser, where QR login works.
 */
export type BrowserKind = 'wechat' | 'mobile' | 'desktop';

export function browserKind(userAgent: string | undefined): BrowserKind {
  const ua = userAgent ?? '';
  if (/MicroMessenger/i.test(ua) && !/wxwork/i.test(ua)) return 'wechat';
  if (/Mobi|Android|iPhone|iPad|iPod|HarmonyOS/i.test(ua)) return 'mobile';
  return 'desktop';
}

/** The WeCom client (企业微信), on a phone or a desktop: its User-Agent says `wxwork` (and MicroMessenger too). */
export function isWeComClient(userAgent: string | undefined): boolean {
  return /wxwork/i.test(userAgent ?? '');
}
