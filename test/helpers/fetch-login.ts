// A QR login driven with plain HTTP requests, as a browser would make them, for tests that
// must see every response's headers (cookies, redirects): the broker in redirect QR mode,
// the code obtained from the simulator as WeChat would give it after a scan.

import { issueCode, weComCode } from './simulator.ts';

export interface Jar {
  /** Every Set-Cookie header the broker sent, in order. */
  readonly setCookies: string[];
  header(): string;
}

export function cookieJar(): Jar & { take(response: Response): void } {
  const values = new Map<string, string>();
  const setCookies: string[] = [];
  return {
    setCookies,
    header: () => [...values].map(([name, value]) => `${name}=${value}`).join('; '),
    take(response) {
      for (const cookie of response.headers.getSetCookie()) {
        setCookies.push(cookie);
        const [pair = ''] = cookie.split(';');
        const [name = '', value = ''] = pair.split('=');
        values.set(name.trim(), value);
      }
    },
  };
}

/** A desktop browser's User-Agent, the default. */
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0';

interface Broker {
  /** The ISSUER's origin, in the URLs the broker writes. */
  readonly issuer: string;
  /** Where its requests really go. */
  readonly direct: string;
}

/**
 * Follows redirects by hand, keeping cookies, as a browser with `userAgent` (a desktop's by
 * default); stops at a response that is not a redirect or leaves the broker.
 */
export async function follow(url: string, jar: ReturnType<typeof cookieJar>, broker: Broker, userAgent = DESKTOP): Promise<{ url: string; response: Response }> {
  let current = url;
  for (;;) {
    const response = await fetch(current.replace(broker.issuer, broker.direct), {
      redirect: 'manual', headers: { cookie: jar.header(), 'user-agent': userAgent },
    });
    jar.take(response);
    const location = response.headers.get('location');
    if (!location || response.status < 300 || response.status >= 400) return { url: current, response };
    current = new URL(location, current).href;
    if (!current.startsWith(broker.issuer)) return { url: current, response };
  }
}

/**
 * The callback WeChat sends the browser to, followed to wherever the login ends (the
 * relying party), or to WeChat again when the broker asks for a broader scope.
 */
export async function deliverCallback(callback: URL, jar: ReturnType<typeof cookieJar>, broker: Broker, userAgent?: string): Promise<string> {
  return (await deliverCallbackToPage(callback, jar, broker, userAgent)).url;
}

/** deliverCallback, with the answer where the browser stopped (a page of the broker's, such as consent, to read once). */
export async function deliverCallbackToPage(callback: URL, jar: ReturnType<typeof cookieJar>, broker: Broker, userAgent?: string): Promise<{ url: string; response: Response }> {
  const page = await follow(callback.href, jar, broker, userAgent);
  if (!page.url.startsWith(broker.issuer)) return page;
  const next = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(await page.response.text())?.[1]?.replaceAll('&amp;', '&');
  if (!next) throw new Error(`the callback did not send the browser on (${page.response.status})`);
  return follow(next, jar, broker, userAgent);
}

/** Submits the consent page the broker showed (its form and page token) as a person's "allow" (or `decision`): where the browser lands. */
export async function allowConsent({ url: page, response }: { url: string; response: Response }, jar: ReturnType<typeof cookieJar>, broker: Broker, userAgent?: string, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
  const html = await response.text();
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const token = /name="page_token" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !token) throw new Error(`no consent form at ${page}: ${html.slice(0, 200)}`);
  const posted = await fetch(new URL(action, page).href.replace(broker.issuer, broker.direct), {
    method: 'POST', redirect: 'manual',
    headers: { cookie: jar.header(), 'user-agent': userAgent ?? DESKTOP, origin: broker.issuer, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ page_token: token, decision }),
  });
  jar.take(posted);
  return (await follow(new URL(posted.headers.get('location')!, page).href, jar, broker, userAgent)).url;
}

/** The callback for WeChat's authorize URL `wechat`: its redirect_uri with the code and state (and `extra`). */
export function callbackOf(wechat: URL, code: string, extra: Record<string, string> = {}): URL {
  const callback = new URL(wechat.searchParams.get('redirect_uri')!);
  callback.searchParams.set('code', code);
  callback.searchParams.set('state', wechat.searchParams.get('state')!);
  for (const [key, value] of Object.entries(extra)) callback.searchParams.set(key, value);
  return callback;
}

/**
 * Logs `user` in by QR at `broker` (its requests go to `direct`, whatever ISSUER says):
 * the authorization URL's answer chain up to WeChat, the code WeChat gives, the callback,
 * and on to the relying party. Returns where the browser ended and the cookie jar.
 */
export async function qrLoginByFetch(authorizeUrl: string, broker: Broker, simulator: string, user = 'alice'): Promise<{ landed: string; jar: ReturnType<typeof cookieJar> }> {
  const jar = cookieJar();
  const wechat = new URL((await follow(authorizeUrl, jar, broker)).url);
  const code = await issueCode(simulator, wechat.searchParams.get('appid')!, user, 'snsapi_login');
  return { landed: await deliverCallback(callbackOf(wechat, code), jar, broker), jar };
}

/**
 * Logs `user` in inside the WeChat browser (`userAgent`) with one silent snsapi_base
 * authorization (so the request must ask for nothing more than `openid`); on an account's
 * behalf when WeChat's URL names a component_appid, as WeChat's own callback would.
 */
export async function webLoginByFetch(authorizeUrl: string, broker: Broker, simulator: string, userAgent: string, user = 'alice'): Promise<string> {
  const jar = cookieJar();
  const wechat = new URL((await follow(authorizeUrl, jar, broker, userAgent)).url);
  const appid = wechat.searchParams.get('appid')!;
  const component = wechat.searchParams.get('component_appid') ?? undefined;
  const code = await issueCode(simulator, appid, user, 'snsapi_base', undefined, component);
  return deliverCallback(callbackOf(wechat, code, component ? { appid } : {}), jar, broker, userAgent);
}

/**
 * Logs `user` in inside the WeChat browser at `broker`, by plain HTTP requests: the
 * authorization URL's answers up to WeChat's authorize page, the code WeChat gives for
 * its scope (snsapi_base, then snsapi_userinfo when the broker asks for more), the
 * callback, on to the relying party. Returns where the browser ended.
 */
export async function inWeChatLoginByFetch(authorizeUrl: string, broker: Broker, simulator: string, user: string, userAgent: string): Promise<string> {
  const jar = cookieJar();
  let wechat = new URL((await follow(authorizeUrl, jar, broker, userAgent)).url);
  for (;;) {
    const scope = wechat.searchParams.get('scope') as 'snsapi_base' | 'snsapi_userinfo';
    const code = await issueCode(simulator, wechat.searchParams.get('appid')!, user, scope);
    const landed = await deliverCallback(callbackOf(wechat, code), jar, broker, userAgent);
    if (!landed.startsWith(simulator)) return landed;
    wechat = new URL(landed);
  }
}

/**
 * Logs `user` in inside the WeCom client (`userAgent`): the authorization URL's answers up
 * to WeCom's authorize page, the code WeCom gives (silent snsapi_base), the callback, on to
 * the relying party. Returns where the browser ended.
 */
export async function weComLoginByFetch(authorizeUrl: string, broker: Broker, simulator: string, userAgent: string, user: string): Promise<string> {
  const jar = cookieJar();
  const wecom = new URL((await follow(authorizeUrl, jar, broker, userAgent)).url);
  const code = await weComCode(simulator, wecom.searchParams.get('appid')!, user);
  return deliverCallback(callbackOf(wecom, code), jar, broker, userAgent);
}
