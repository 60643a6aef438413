// CLIENTS_FILE: the relying parties, as a JSON array of OIDC client metadata. The shape is
// checked here; oidc-provider checks each client's metadata in full when the app is built.

import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';

/** OIDC client metadata as written in CLIENTS_FILE. */
export type ClientMetadata = Record<string, unknown> & { client_id: string };

function checkEntry(name: string, client: unknown, index: number, ids: Set<string>): ClientMetadata {
  if (typeof client !== 'object' || client === null || Array.isArray(client)) {
    throw new ConfigError(name, `entry ${index} is not an object`);
  }
  const { client_id: id, first_party: firstParty } = client as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') throw new ConfigError(name, `entry ${index}: client_id is required`);
  if (ids.has(id)) throw new ConfigError(name, `client ${id}: client_id is used twice`);
  if (firstParty !== undefined && typeof firstParty !== 'boolean') throw new ConfigError(name, `client ${id}: first_party must be true or false`);
  ids.add(id);
  return client as ClientMetadata;
}

export function clientsFile(name: string, path: string): ClientMetadata[] {
  const value = readJsonFile(name, path);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(name, `${path}: expected a non-empty JSON array of client metadata`);
  const ids = new Set<string>();
  return value.map((client: unknown, index) => checkEntry(name, client, index, ids));
}
