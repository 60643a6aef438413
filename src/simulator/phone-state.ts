// The simulated phone-number button's state: each simulated person's number, and the codes
// taps gave (single use, 5 minutes; ../shared/wecom-and-phone.md part 2). The API that
// redeems them is phone-numbers.ts.

import { randomToken } from './tokens.ts';

const CODE_TTL_MS = 5 * 60_000;

interface SimNumber {
  readonly countryCode: number;
  /** Without the country code. */
  readonly pure: string;
}

interface PhoneCode {
  readonly appid: string;
  readonly userId: string;
  readonly expiresAt: number;
  readonly watermarkAppid: string;
  used: boolean;
}

export class SimPhoneCodes {
  readonly #codes = new Map<string, PhoneCode>();
  /** Each simulated person's number. */
  readonly numbers = new Map<string, SimNumber>([
    ['alice', { countryCode: 86, pure: '13912345678' }],
    ['bob', { countryCode: 852, pure: '61234567' }],
    ['chen', { countryCode: 86, pure: '15800001111' }],
  ]);

  /** The code of a tap by the person `userId` in the mini program `appid`; WeChat's answer for it names `watermarkAppid`. */
  issue(appid: string, userId: string, watermarkAppid = appid): string {
    const code = randomToken(32);
    this.#codes.set(code, { appid, userId, expiresAt: Date.now() + CODE_TTL_MS, watermarkAppid, used: false });
    return code;
  }

  /** The code's tap, spent; undefined for a code unknown, used or expired. */
  take(code: string): PhoneCode | undefined {
    const found = this.#codes.get(code);
    if (!found || found.used || found.expiresAt <= Date.now()) return undefined;
    found.used = true;
    return found;
  }
}
