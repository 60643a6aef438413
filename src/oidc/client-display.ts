// How a relying party presents itself on the broker's pages, from standard client
// metadata (OIDC Dynamic Client Registration 1.0 §2): client_name, logo_uri, client_uri,
// policy_uri, tos_uri, each optionally language-tagged (`client_name#zh-CN`, §2.1).

import type Provider from 'oidc-provider';
import { toTraditional } from '../pages/traditional.ts';

type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** The language tags client metadata may carry, and the fields that may carry them. */
export const DISPLAY_LANGUAGES = ['zh-CN', 'zh-TW', 'en'] as const;
const LOCALIZABLE = ['client_name', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;

/** The language-tagged metadata names the provider must accept (`client_name#zh-CN`, …). */
export const LOCALIZED_METADATA: readonly string[] = LOCALIZABLE.flatMap((field) => DISPLAY_LANGUAGES.map((lang) => `${field}#${lang}`));

export interface ClientDisplay {
  readonly name: string;
  readonly logo: string | undefined;
  readonly home: string | undefined;
  readonly policy: string | undefined;
  readonly terms: string | undefined;
  /** The host of `home`, for "you are logging in to …". */
  readonly domain: string | undefined;
}

const STANDARD: Record<(typeof LOCALIZABLE)[number], 'clientName' | 'logoUri' | 'clientUri' | 'policyUri' | 'tosUri'> = {
  client_name: 'clientName', logo_uri: 'logoUri', client_uri: 'clientUri', policy_uri: 'policyUri', tos_uri: 'tosUri',
};

function tagged(client: Client, name: (typeof LOCALIZABLE)[number], lang: string): string | undefined {
  const value = (client as unknown as Record<string, unknown>)[`${name}#${lang}`];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The field in the page's language, else (for zh-TW) the zh-CN one, a name converted to
 * Traditional characters, else the untagged one (§2.1). A Taiwanese reader is better
 * served by the Chinese name than by the English one.
 */
function field(client: Client, name: (typeof LOCALIZABLE)[number], lang: string): string | undefined {
  const simplified = lang === 'zh-TW' ? tagged(client, name, 'zh-CN') : undefined;
  const value = tagged(client, name, lang)
    ?? (simplified !== undefined && name === 'client_name' ? toTraditional(simplified) : simplified)
    ?? client[STANDARD[name]];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function clientDisplay(client: Client, lang: string): ClientDisplay {
  const home = field(client, 'client_uri', lang);
  return {
    name: field(client, 'client_name', lang) ?? client.clientId,
    logo: field(client, 'logo_uri', lang),
    home,
    policy: field(client, 'policy_uri', lang),
    terms: field(client, 'tos_uri', lang),
    domain: home ? new URL(home).host : undefined,
  };
}

/**
 * Where the app itself starts a fresh login (third-party initiated login, OIDC Core 4):
 * its `initiate_login_uri` with `iss`, which that section requires. Undefined when the
 * client registered none.
 */
export function initiateLoginLink(client: Client, issuer: string): string | undefined {
  if (!client.initiateLoginUri) return undefined;
  const url = new URL(client.initiateLoginUri);
  url.searchParams.set('iss', issuer);
  return url.href;
}

/** The client as the page of a login that cannot go on shows it: with the app's own fresh start. */
export function displayWithRestart(client: Client, lang: string, issuer: string): ClientDisplay & { readonly restart: string | undefined } {
  return { ...clientDisplay(client, lang), restart: initiateLoginLink(client, issuer) };
}

/** Checks a language-tagged metadata value as the untagged one would be. */
export function localizedProblem(key: string, value: unknown): string | undefined {
  if (!LOCALIZED_METADATA.includes(key) || value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') return `${key} must be a non-empty string`;
  if (!key.startsWith('client_name')) {
    try {
      if (new URL(value).protocol !== 'https:') return `${key} must be an https URL`;
    } catch {
      return `${key} must be a URL`;
    }
  }
  return undefined;
}
