// The token that ties a form a person submits to the page the broker showed them: an HMAC
// over this browser's id (a random value in a signed cookie), the form's action and the
// moment the page was shown, with a nonce of its own so that each page view has its own
// token. Nothing is stored: any instance that holds the cookie keys checks it.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a page's forms stay good: the longest a login interaction lives. */
export const PAGE_TOKEN_LIFE_S = 60 * 60;

export class PageTokens {
  readonly #keys: readonly string[];
  readonly #now: () => number;

  /** `keys`: the first signs, all verify (the cookie keys, rotated the same way). */
  constructor(keys: readonly string[], now: () => number = Date.now) {
    [this.#keys, this.#now] = [keys, now];
  }

  /** A new browser id, for the browser cookie. */
  static browserId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** The token for a form acting on `action`, shown now to `browser`. */
  issue(browser: string, action: string): string {
    const issuedAt = Math.floor(this.#now() / 1000).toString(36);
    const nonce = randomBytes(9).toString('base64url');
    return `${issuedAt}.${nonce}.${mac(this.#keys[0]!, browser, action, issuedAt, nonce)}`;
  }

  /** Whether `token` was issued to `browser` for `action` within PAGE_TOKEN_LIFE_S. */
  valid(token: string, browser: string, action: string): boolean {
    const [issuedAt, nonce, given, extra] = token.split('.');
    if (!issuedAt || !nonce || !given || extra !== undefined || !/^[0-9a-z]{1,10}$/.test(issuedAt)) return false;
    const age = Math.floor(this.#now() / 1000) - parseInt(issuedAt, 36);
    if (age < -60 || age > PAGE_TOKEN_LIFE_S) return false;
    const actual = Buffer.from(given);
    return this.#keys.some((key) => {
      const expected = Buffer.from(mac(key, browser, action, issuedAt, nonce));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  }
}

/** What a form acts on: its action's path (a form may name it as a full URL), matched as the router matches paths, without regard to case. */
const pathOf = (action: string): string => new URL(action, 'http://broker.invalid').pathname.toLowerCase();

function mac(key: string, browser: string, action: string, issuedAt: string, nonce: string): string {
  return createHmac('sha256', key).update(['page-form', browser, pathOf(action), issuedAt, nonce].join('\n')).digest('base64url');
}
