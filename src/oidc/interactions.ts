// The provider's interaction API as the login layer uses it: find the live interaction of
// this browser, end it with a result, read its client, record consent. Nothing here
// decides anything; it only speaks oidc-provider.

import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { DeviceOnPage } from '../pages/device-pages.ts';
import { askedLanguages } from '../pages/html.ts';
import type { Lang } from '../pages/i18n.ts';
import { describeApis, type ApiDescribed, type ApiResources } from './api-resources.ts';
import { clientDisplay, displayWithRestart } from './client-display.ts';
import { grouped } from './device-flow.ts';
import { updateGrant } from './grants.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
export type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** The prompt (OIDC Core 3.1.2.1) asking the person to choose an account: for the broker, to log in upstream again. */
export const SELECT_ACCOUNT = 'select_account';

/** The OAuth error an interaction can end with (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6). */
export interface InteractionError {
  readonly error: 'access_denied' | 'login_required' | 'consent_required' | 'temporarily_unavailable';
  readonly error_description: string;
}

export class Interactions {
  readonly #provider: Provider;
  readonly #apis: ApiResources;

  constructor(provider: Provider, apis: ApiResources) {
    this.#provider = provider;
    this.#apis = apis;
  }

  /**
   * The interaction `uid` when it is live in this browser (its signed cookie proves the
   * browser started it); undefined otherwise. Its pages speak the languages its relying
   * party asked for (`ui_locales`), unless the person chose one.
   */
  async find(ctx: Context, uid: string): Promise<Interaction | undefined> {
    const interaction = await this.#live(ctx);
    if (interaction?.uid !== uid) return undefined;
    askedLanguages(ctx, interaction.params.ui_locales);
    return interaction;
  }

  async #live(ctx: Context): Promise<Interaction | undefined> {
    try {
      return await this.#provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      // no interaction cookie in this browser, or the interaction expired
      return undefined;
    }
  }

  /**
   * Ends the interaction with `result`: the URL the browser goes to next. A login is the
   * person's choice of account, so it resolves `prompt=select_account` too.
   */
  finish(ctx: Context, result: InteractionResults | InteractionError, merge = false): Promise<string> {
    const resolved = 'login' in result && result.login ? { ...result, [SELECT_ACCOUNT]: {} } : result;
    return this.#provider.interactionResult(ctx.req, ctx.res, resolved as InteractionResults, { mergeWithLastSubmission: merge });
  }

  async client(interaction: Interaction): Promise<Client | undefined> {
    return this.#provider.Client.find(String(interaction.params.client_id));
  }

  /** The client of interaction `uid`, read from storage (for another browser than the one it lives in). */
  async clientOf(uid: string): Promise<Client | undefined> {
    const interaction = await this.#provider.Interaction.find(uid);
    const clientId = interaction?.params.client_id;
    return typeof clientId === 'string' ? this.#provider.Client.find(clientId) : undefined;
  }

  /** The name of the app the interaction `uid` logs in to, in `lang` (its `client_name#<lang>`). */
  async appName(uid: string, lang: Lang): Promise<string | undefined> {
    const client = await this.clientOf(uid);
    return client && clientDisplay(client, lang).name;
  }

  /**
   * Client `clientId` as pages show it, with the link where it starts a fresh login of its
   * own (for a person whose login here can no longer go on); undefined for no such client.
   */
  async display(clientId: string, lang: Lang): Promise<ReturnType<typeof displayWithRestart> | undefined> {
    const client = await this.#provider.Client.find(clientId);
    return client && displayWithRestart(client, lang, this.#provider.issuer);
  }

  /** The device this interaction logs in, when it is a device's login (RFC 8628); else undefined. */
  async device(interaction: Interaction): Promise<DeviceOnPage | undefined> {
    const code = interaction.deviceCode ? await this.#provider.DeviceCode.find(interaction.deviceCode, { ignoreExpiration: true }) : undefined;
    if (!code?.userCode) return undefined;
    const info = (code.deviceInfo ?? {}) as { name?: unknown; ip?: unknown };
    return { userCode: grouped(code.userCode), name: typeof info.name === 'string' ? info.name : undefined, ip: typeof info.ip === 'string' ? info.ip : undefined };
  }

  /** The company's APIs the consent prompt asks access to (oidc-provider's rs_scopes_missing), in `lang`. */
  apisAsked(interaction: Interaction, lang: Lang): Promise<ApiDescribed[]> {
    return describeApis(this.#provider, this.#apis, Object.entries(consentDetails(interaction).missingResourceScopes ?? {}), lang);
  }

  /** Grants what the consent prompt asks for; the grant's id. */
  async grantConsent(interaction: Interaction, accountId: string): Promise<string> {
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = consentDetails(interaction);
    return this.#grant(interaction, accountId, missingOIDCScope ?? [], missingOIDCClaims ?? [], missingResourceScopes);
  }

  /** Grants `scopes` to the interaction's client for `accountId` (consent given elsewhere); the grant's id. */
  grantScopes(interaction: Interaction, accountId: string, scopes: readonly string[]): Promise<string> {
    return this.#grant(interaction, accountId, scopes, []);
  }

  /** The interaction's grant when it is this account's (else a new one), with `scopes`, `claims` and the APIs' scopes added. */
  async #grant(interaction: Interaction, accountId: string, scopes: readonly string[], claims: readonly string[], apiScopes: Readonly<Record<string, readonly string[]>> = {}): Promise<string> {
    const { Grant } = this.#provider;
    const clientId = String(interaction.params.client_id);
    const existing = interaction.grantId ? await Grant.find(interaction.grantId) : undefined;
    const grant = existing?.accountId === accountId ? existing : new Grant({ accountId, clientId });
    return updateGrant(grant, scopes.join(' '), claims, apiScopes);
  }
}

/** What the consent prompt found missing from the grant (oidc-provider's op_scopes_missing, op_claims_missing and rs_scopes_missing checks). */
export function consentDetails(interaction: Interaction): {
  missingOIDCScope?: readonly string[]; missingOIDCClaims?: readonly string[]; missingResourceScopes?: Readonly<Record<string, readonly string[]>>;
} {
  return interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
}

/** The scopes the relying party asked for. */
export function requestedScopes(interaction: Interaction): Set<string> {
  return new Set(String(interaction.params.scope ?? '').split(' ').filter(Boolean));
}
