// The brand of the pages, from BRAND_* and the licence variables: the logo read and
// checked at start, the colour checked for contrast.

import { readFileSync } from 'node:fs';
import { AA_CONTRAST, BUTTON_TEXTS, contrast, DEFAULT_COLOR, shadeFor, textColorFor, type Brand } from '../pages/brand.ts';
import { ConfigError } from './errors.ts';
import type { Settings } from './variables.ts';

const MAX_LOGO_BYTES = 256 * 1024;

/** The logo's type, from its first bytes (a file name says nothing). */
function imageType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(bytes.subarray(0, 1024).toString('utf8'))) return 'image/svg+xml';
  return undefined;
}

function logo(path: string | undefined): Brand['logo'] {
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ConfigError('BRAND_LOGO_FILE', `${path}: cannot be read`);
  }
  if (bytes.length > MAX_LOGO_BYTES) throw new ConfigError('BRAND_LOGO_FILE', `${path}: ${bytes.length} bytes, at most ${MAX_LOGO_BYTES}`);
  const type = imageType(bytes);
  if (!type) throw new ConfigError('BRAND_LOGO_FILE', `${path}: not a PNG, JPEG, WebP or SVG image`);
  return { bytes, type };
}

/** The button colours: the brand colour, and the text BRAND_BUTTON_TEXT asks for where it keeps WCAG AA contrast. */
function colors(settings: Settings): Brand['color'] {
  const background = settings.BRAND_COLOR ?? DEFAULT_COLOR;
  const wanted = settings.BRAND_BUTTON_TEXT;
  if (wanted === 'auto') {
    const text = textColorFor(background);
    if (!text) throw new ConfigError('BRAND_COLOR', `${background} keeps neither white nor near-black text at the ${AA_CONTRAST}:1 contrast WCAG AA asks: choose a lighter or a darker colour`);
    return { background, text };
  }
  const text = BUTTON_TEXTS[wanted];
  const ratio = contrast(background, text);
  if (ratio < AA_CONTRAST) {
    throw new ConfigError('BRAND_BUTTON_TEXT', `${wanted} text on ${background} has a contrast of ${ratio.toFixed(2)}:1, under the ${AA_CONTRAST}:1 WCAG AA asks; ${shadeFor(background, wanted)} is the nearest shade that keeps it, or leave BRAND_BUTTON_TEXT unset`);
  }
  return { background, text };
}

export function brand(settings: Settings): Brand {
  const psbCode = settings.PSB_LICENSE && /\d{10,}/.exec(settings.PSB_LICENSE)?.[0];
  return {
    name: settings.BRAND_NAME,
    names: { en: settings.BRAND_NAME_EN, 'zh-TW': settings.BRAND_NAME_ZH_TW },
    logo: logo(settings.BRAND_LOGO_FILE),
    color: colors(settings),
    privacyUrl: settings.BRAND_PRIVACY_URL,
    termsUrl: settings.BRAND_TERMS_URL,
    icp: settings.ICP_LICENSE,
    psb: settings.PSB_LICENSE && psbCode ? { text: settings.PSB_LICENSE, code: psbCode } : undefined,
  };
}
