// The entries `npm run clients -- new` prints for CLIENTS_FILE: an app that logs people in
// (its redirect URIs, how it authenticates, the APIs it may call), or one of the company's
// APIs (its resource indicator and scopes, RFC 8707). Only the metadata asked for is written.

import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from '../config/config.ts';
import { CLIENT_RESOURCES, RESOURCE, RESOURCE_SCOPES } from '../oidc/api-resources.ts';
import { DISPLAY_LANGUAGES } from '../oidc/client-display.ts';
import { SECURITY_EVENTS_URI } from '../oidc/security-events.ts';
import { UsageError } from './run.ts';

export interface NewOptions {
  readonly id?: string | undefined; readonly name?: string | undefined; readonly 'redirect-uri'?: string[] | undefined; readonly 'post-logout-uri'?: string[] | undefined;
  readonly 'first-party'?: boolean | undefined; readonly public?: boolean | undefined; readonly pairwise?: boolean | undefined;
  readonly dpop?: boolean | undefined;
  readonly 'jwks-uri'?: string | undefined;
  readonly resource?: string[] | undefined;
  readonly api?: string | undefined;
  readonly scope?: string[] | undefined;
  readonly 'backchannel-logout-uri'?: string | undefined;
  readonly 'security-events-uri'?: string | undefined;
}

/** A client_id the broker takes: given, and not one of its own pages' (`_account`, `_console`: config/clients-file.ts). */
function checkId(id: string | undefined): asserts id is string {
  if (!id) throw new UsageError('--id is required');
  if (id.startsWith('_')) throw new UsageError('--id: a client_id beginning with "_" is the broker\'s own');
}

/** A client that logs people in: a strong secret unless public, and only the metadata asked for. */
export function newClient(values: NewOptions): ClientMetadata {
  checkId(values.id);
  if (!values['redirect-uri']?.length) throw new UsageError('at least one --redirect-uri is required');
  if (values.scope?.length) throw new UsageError('--scope declares an API\'s scopes: give it with --api URI');
  return {
    client_id: values.id,
    ...authentication(values),
    ...(values.name ? { client_name: values.name } : {}),
    redirect_uris: values['redirect-uri'],
    ...(values['post-logout-uri']?.length ? { post_logout_redirect_uris: values['post-logout-uri'] } : {}),
    ...(values['first-party'] ? { first_party: true } : {}),
    ...(values.pairwise ? PAIRWISE : {}),
    // RFC 9449 5.2: the token endpoint refuses it a token without a DPoP proof.
    ...(values.dpop ? { dpop_bound_access_tokens: true } : {}),
    // The APIs it may get tokens for (RFC 8707): checked against those the file declares.
    ...(values.resource?.length ? { [CLIENT_RESOURCES]: [...new Set(values.resource)] } : {}),
    ...pushes(values),
  };
}

/**
 * Where its server hears of logouts (OIDC Back-Channel Logout 1.0, with the session's `sid`)
 * and of erased or merged accounts (security events, RFC 8935).
 */
function pushes(values: NewOptions): Partial<ClientMetadata> {
  const logout = values['backchannel-logout-uri'];
  const events = values['security-events-uri'];
  return {
    ...(logout ? { backchannel_logout_uri: logout, backchannel_logout_session_required: true } : {}),
    ...(events ? { [SECURITY_EVENTS_URI]: events } : {}),
  };
}

/** How the client proves itself at the token endpoint: PKCE only (public), its keys (RFC 7523, OIDC Core 9), or a 256-bit secret. */
function authentication(values: NewOptions): Partial<ClientMetadata> {
  if (values.public && values['jwks-uri']) throw new UsageError('--public and --jwks-uri exclude each other: a public client has no keys to authenticate with');
  if (values.public) return { token_endpoint_auth_method: 'none' };
  if (values['jwks-uri']) return { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: values['jwks-uri'] };
  return { client_secret: randomBytes(32).toString('base64url') };
}

/** A pairwise client's metadata (OIDC Core 8.1): every scope but `wechat`, whose unionid is the same for every app. */
const PAIRWISE = { subject_type: 'pairwise', scope: 'openid profile phone email offline_access' };

/** What an API has no use for: it logs nobody in, and calls no other API. */
const NOT_FOR_APIS = ['redirect-uri', 'post-logout-uri', 'first-party', 'public', 'pairwise', 'dpop', 'resource', 'backchannel-logout-uri', 'security-events-uri'] as const;

/**
 * One of the company's APIs: a resource server (it may introspect opaque tokens with its
 * secret or keys) with its resource indicator and scopes, each with what it lets an app do.
 */
export function newApi(values: NewOptions & { api: string }): ClientMetadata {
  checkId(values.id);
  const misplaced = NOT_FOR_APIS.find((option) => values[option] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} is for apps that log people in, not for an API (--api)`);
  if (!values.scope?.length) throw new UsageError('an API needs at least one --scope NAME=TEXT');
  return {
    client_id: values.id,
    ...authentication(values),
    ...(values.name ? { client_name: values.name } : {}),
    grant_types: [], response_types: [], redirect_uris: [],
    resource_server: true,
    [RESOURCE]: values.api,
    [RESOURCE_SCOPES]: scopeTexts(values.scope),
  };
}

/** `NAME=TEXT` (one text), or `NAME[LANG]=TEXT` (one per language). */
const SCOPE_ARG = /^([^=[\]]+)(?:\[([^\]]*)\])?=(.+)$/s;

/** The `--scope` arguments as `resource_scopes`: each scope one text, or one text per language, never both. */
function scopeTexts(args: readonly string[]): Record<string, string | Record<string, string>> {
  const scopes: Record<string, string | Record<string, string>> = {};
  for (const arg of args) {
    const [, name = '', lang, text = ''] = SCOPE_ARG.exec(arg) ?? [];
    if (!name || (lang !== undefined && !(DISPLAY_LANGUAGES as readonly string[]).includes(lang))) {
      throw new UsageError(`--scope ${arg}: write NAME=TEXT, or NAME[LANG]=TEXT for each language (${DISPLAY_LANGUAGES.join(', ')})`);
    }
    const had = scopes[name];
    if (lang === undefined ? had !== undefined : typeof had === 'string' || had?.[lang] !== undefined) {
      throw new UsageError(`--scope ${name}: give it one text, or one text per language, each once`);
    }
    scopes[name] = lang === undefined ? text : { ...(had as Record<string, string> | undefined), [lang]: text };
  }
  return scopes;
}
