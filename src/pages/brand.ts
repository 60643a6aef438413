// The company behind the login pages: its name, logo, colour, policy links and the
// licence numbers Chinese law asks every page to show (ICP 备案号, 公安备案号). Set by
// environment variables (config/); every page reads it from the request (`brandPages`).

import type { Context, Middleware } from 'koa';
import type { Lang } from './i18n.ts';
import { toTraditional } from './traditional.ts';

export interface Brand {
  readonly name: string | undefined;
  /** The name as English and Traditional Chinese pages show it, where it differs (BRAND_NAME_EN, BRAND_NAME_ZH_TW). */
  readonly names: { readonly en?: string | undefined; readonly 'zh-TW'?: string | undefined };
  /** Served by the broker itself at LOGO_PATH. */
  readonly logo: { readonly bytes: Buffer; readonly type: string } | undefined;
  /** The primary colour, and the text colour that keeps WCAG AA contrast (4.5:1) on it. */
  readonly color: { readonly background: string; readonly text: string };
  readonly privacyUrl: string | undefined;
  readonly termsUrl: string | undefined;
  /** ICP licence (ICP 备案号), linked to the MIIT record search. */
  readonly icp: string | undefined;
  /** Public security record (公安备案号) and the record number in it. */
  readonly psb: { readonly text: string; readonly code: string } | undefined;
}

export const LOGO_PATH = '/brand/logo';

/** A dark WeChat green on which white text keeps AA contrast (WeChat's #07c160 does not: 2.4:1). */
export const DEFAULT_COLOR = '#067d3f';

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = Number.parseInt(hex.slice(at, at + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.1 contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Button text on the brand colour, as BRAND_BUTTON_TEXT names it. */
export const BUTTON_TEXTS = { white: '#ffffff', black: '#111111' } as const;
export type ButtonText = keyof typeof BUTTON_TEXTS;

/** WCAG 2.1 AA for normal text (1.4.3). */
export const AA_CONTRAST = 4.5;

/** The text colour for buttons of `background`: white or near-black, whichever reaches 4.5:1 (never both); undefined if neither does. */
export function textColorFor(background: string): string | undefined {
  return [BUTTON_TEXTS.white, BUTTON_TEXTS.black].find((text) => contrast(background, text) >= AA_CONTRAST);
}

/** The nearest darker (for white text) or lighter (for black) shade of `background` on which `text` reaches 4.5:1. */
export function shadeFor(background: string, text: ButtonText): string {
  const channels = [1, 3, 5].map((at) => Number.parseInt(background.slice(at, at + 2), 16));
  for (let step = 1; ; step += 1) {
    const factor = 1 - step / 100;
    const shade = `#${channels.map((value) => Math.round(text === 'white' ? value * factor : 255 - (255 - value) * factor).toString(16).padStart(2, '0')).join('')}`;
    if (contrast(shade, BUTTON_TEXTS[text]) >= AA_CONTRAST) return shade;
  }
}

const NO_BRAND: Brand = {
  name: undefined, names: {}, logo: undefined, color: { background: DEFAULT_COLOR, text: '#ffffff' },
  privacyUrl: undefined, termsUrl: undefined, icp: undefined, psb: undefined,
};

/** The company's name in the page's language: its own there, else BRAND_NAME (converted to Traditional characters for zh-TW). */
export function brandName(brand: Brand, lang: Lang): string | undefined {
  if (lang === 'zh-CN' || !brand.name) return brand.name;
  return brand.names[lang] ?? (lang === 'zh-TW' ? toTraditional(brand.name) : brand.name);
}

/** The brand of the page being rendered. */
export function brandOf(ctx: Context): Brand {
  return (ctx.state.brand as Brand | undefined) ?? NO_BRAND;
}

/** Puts the brand where pages find it, and serves the logo. */
export function brandPages(brand: Brand): Middleware {
  return async (ctx, next) => {
    ctx.state.brand = brand;
    if (ctx.path === LOGO_PATH && brand.logo && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = brand.logo.type;
      ctx.set('cache-control', 'public, max-age=86400');
      ctx.body = brand.logo.bytes;
      return;
    }
    await next();
  };
}
