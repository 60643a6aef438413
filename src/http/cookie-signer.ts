// Signed cookies' signatures (Koa's `app.keys`), exactly as keygrip makes them (HMAC-SHA1
// of `name=value`, base64 with `+/` as `-_` and no padding), so every cookie signed before
// still verifies; but checked with crypto.timingSafeEqual. keygrip compares through tsscmp,
// which makes two more HMACs with a fresh random key for every comparison: with several
// signed cookies on each request of a login (oidc-provider's and the broker's), that was a
// tenth of the broker's CPU under login load (the bench's profile).

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Koa's keys (the Keygrip interface): the first key signs, every key verifies. */
export class CookieSigner {
  readonly #keys: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('a cookie signer needs at least one key');
    this.#keys = keys;
  }

  sign(data: string): string {
    return CookieSigner.#mac(data, this.#keys[0]!);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The index of the key that made `digest`, or -1. */
  index(data: string, digest: string): number {
    const given = Buffer.from(String(digest));
    return this.#keys.findIndex((key) => {
      const expected = Buffer.from(CookieSigner.#mac(data, key));
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  static #mac(data: string, key: string): string {
    // base64url (RFC 4648 section 5, unpadded) is keygrip's alphabet exactly.
    return createHmac('sha1', key).update(data).digest('base64url');
  }
}
