// Phone numbers as WeChat and WeCom hand them over, made E.164 (`+8613800138000`): the
// form OIDC's `phone_number` claim recommends (OIDC Core 5.1). Google's libphonenumber
// metadata (libphonenumber-js, its full "max" set) decides whether a number can exist, so a
// garbled field is refused rather than passed to relying parties. A number without a
// country code is China's: WeChat writes the country code only for numbers of other
// countries (../shared/wecom-and-phone.md part 2), WeCom writes `+852 …` for them.

// The metadata loads with the first number (about 19 MiB of memory a broker that never
// sees one does not need).

export type E164 = string & { readonly __brand: 'E164' };

/** `text` as E.164, or undefined when it is no phone number that can exist. */
export async function e164(text: string): Promise<E164 | undefined> {
  if (text.length > 32) return undefined;
  const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
  const parsed = parsePhoneNumberFromString(text, 'CN');
  return parsed?.isValid() ? parsed.number as E164 : undefined;
}
