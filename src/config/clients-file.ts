// CLIENTS_FILE: the relying parties, as a JSON array of OIDC client metadata. The shape is
// checked here; oidc-provider checks each client's metadata in full when the app is built.

import { ConfigError } from './errors.ts';
import { secretBits } from './strength.ts';
import { readJsonFile } from './files.ts';

/** OIDC client metadata as written in CLIENTS_FILE. */
export type ClientMetadata = Record<string, unknown> & { client_id: string };

function checkEntry(name: string, client: unknown, index: number, ids: Set<string>): ClientMetadata {
  if (typeof client !== 'object' || client === null || Array.isArray(client)) {
    throw new ConfigError(name, `entry ${index} is not an object`);
  }
  const { client_id: id, first_party: firstParty, resource_server: resourceServer } = client as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') throw new ConfigError(name, `entry ${index}: client_id is required`);
  if (ids.has(id)) throw new ConfigError(name, `client ${id}: client_id is used twice`);
  // The broker's own pages (the person's page, the operator console) sign in as clients `_account` and `_console`.
  if (id.startsWith('_')) throw new ConfigError(name, `client ${id}: a client_id beginning with "_" is the broker's own (its pages sign in as _account and _console)`);
  if (firstParty !== undefined && typeof firstParty !== 'boolean') throw new ConfigError(name, `client ${id}: first_party must be true or false`);
  if (resourceServer !== undefined && typeof resourceServer !== 'boolean') throw new ConfigError(name, `client ${id}: resource_server must be true or false`);
  ids.add(id);
  return client as ClientMetadata;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);


/**
 * What production asks more of a client: a secret that cannot be guessed (at least 32
 * characters and about 128 bits; client_secret_jwt also needs 32 bytes for HS256), and
 * redirect URIs over https, loopback ones aside (native apps, RFC 8252 7.3).
 */
function checkProduction(name: string, client: ClientMetadata): void {
  const secret = client.client_secret;
  if (typeof secret === 'string' && (secret.length < 32 || secretBits(secret) < 128)) {
    throw new ConfigError(name, `client ${client.client_id}: client_secret is too short or too predictable for production (npm run clients -- new makes one)`);
  }
  const uris = [client.redirect_uris, client.post_logout_redirect_uris].flatMap((list) => (Array.isArray(list) ? list : []));
  const plain = uris.find((uri) => typeof uri === 'string' && uri.startsWith('http:') && !LOOPBACK.has(new URL(uri).host.replace(/:\d+$/, '')));
  if (plain) throw new ConfigError(name, `client ${client.client_id}: ${String(plain)} is not https (production sends codes only over TLS)`);
}

/** The scope whose claims (WeChat's unionid, and the openid in the app a login went through) are the same whichever client asks. */
const CROSS_CLIENT_SCOPE = 'wechat';

/**
 * Pairwise subjects (OIDC Core 8.1): the `sub` such a client sees is made from
 * PAIRWISE_SECRET, so it must be set; and the client must register a `scope` without
 * `wechat`, whose claims would tie its people to every other app's all the same.
 */
function checkSubjectType(name: string, client: ClientMetadata, pairwiseSecret: string | undefined): void {
  const { client_id: id, subject_type: type, scope } = client;
  if (type === undefined || type === 'public') return;
  if (type !== 'pairwise') throw new ConfigError(name, `client ${id}: subject_type must be "public" or "pairwise"`);
  if (!pairwiseSecret) throw new ConfigError('PAIRWISE_SECRET', `required: client ${id} has subject_type "pairwise" (openssl rand -hex 32; never change it, or every pairwise sub changes)`);
  if (typeof scope !== 'string' || scope.split(' ').includes(CROSS_CLIENT_SCOPE)) {
    throw new ConfigError(name, `client ${id}: a pairwise client must register a scope without ${CROSS_CLIENT_SCOPE} (WeChat's unionid and openid are the same for every app)`);
  }
}

export function clientsFile(name: string, path: string, options: { production: boolean; pairwiseSecret: string | undefined }): ClientMetadata[] {
  const value = readJsonFile(name, path);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(name, `${path}: expected a non-empty JSON array of client metadata`);
  const ids = new Set<string>();
  const clients = value.map((client: unknown, index) => checkEntry(name, client, index, ids));
  for (const client of clients) checkSubjectType(name, client, options.pairwiseSecret);
  if (options.production) for (const client of clients) checkProduction(name, client);
  return clients;
}
