// npm run clients -- <command>: relying parties in CLIENTS_FILE.
//
//   new --id ID --redirect-uri URI [--redirect-uri URI …] [--name NAME]
//       [--post-logout-uri URI …] [--first-party] [--public | --jwks-uri URI] [--pairwise] [--dpop]
//         prints a client entry (with a strong secret unless --public or --jwks-uri) to add to the file;
//         --jwks-uri: the client authenticates with JWTs signed by its keys there (private_key_jwt), no secret;
//         --dpop: tokens only bound to a key the client proves (RFC 9449), none as Bearer;
//         --pairwise: its own `sub` for each person (another company's app), with a scope
//         without `wechat` (the broker needs PAIRWISE_SECRET then)
//   check --file F
//         checks a clients file exactly as the broker does at start and on SIGHUP
//
// After editing CLIENTS_FILE, send the broker SIGHUP (docker kill -s HUP …): it re-reads
// the file without dropping a request, or keeps the running clients if the file is wrong.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig, type ClientMetadata } from '../config/config.ts';
import { LogoutNotices } from '../oidc/logout-notices.ts';
import { offlineProvider } from '../provider.ts';
import { openStores } from '../stores.ts';
import { createLogger } from '../log.ts';
import { runCli, UsageError } from './run.ts';

export async function clientsCommand(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-uri': { type: 'string', multiple: true },
      'first-party': { type: 'boolean' },
      public: { type: 'boolean' },
      pairwise: { type: 'boolean' },
      dpop: { type: 'boolean' },
      'jwks-uri': { type: 'string' },
      file: { type: 'string' },
    },
  });
  switch (positionals[0]) {
    case 'new': {
      const client = newClient(values);
      await check(undefined, [client]);
      return JSON.stringify(client, null, 2);
    }
    case 'check': {
      if (!values.file) throw new UsageError('--file is required');
      const count = await check(values.file);
      return `${values.file}: ${count} clients, all valid`;
    }
    default:
      throw new UsageError('usage: npm run clients -- new --id ID --redirect-uri URI [...] | check --file CLIENTS_FILE');
  }
}

interface NewOptions {
  readonly id?: string | undefined; readonly name?: string | undefined; readonly 'redirect-uri'?: string[] | undefined; readonly 'post-logout-uri'?: string[] | undefined;
  readonly 'first-party'?: boolean | undefined; readonly public?: boolean | undefined; readonly pairwise?: boolean | undefined;
  readonly dpop?: boolean | undefined;
  readonly 'jwks-uri'?: string | undefined;
}

/** The entry `new` prints: a strong secret unless public, and only the metadata asked for. */
function newClient(values: NewOptions): ClientMetadata {
  if (!values.id) throw new UsageError('--id is required');
  if (!values['redirect-uri']?.length) throw new UsageError('at least one --redirect-uri is required');
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

/**
 * The broker's own checks, as it makes them at start: the file's shape, the APIs the
 * clients declare, then oidc-provider's metadata validation with the broker's scopes (its
 * admin API's among them) and its own clients. A stand-in PAIRWISE_SECRET lets pairwise
 * clients be checked (no `sub` is made here); nothing is stored (memory).
 */
async function check(clientsFile: string | undefined, extra: ClientMetadata[] = []): Promise<number> {
  const config = await loadConfig({ CLIENTS_FILE: clientsFile, WECHAT_SIMULATOR_PORT: '0', PAIRWISE_SECRET: randomBytes(32).toString('hex') });
  const clients = [...(config.clients ?? []), ...extra];
  const log = createLogger('silent');
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  try {
    await offlineProvider({ ...config, clients }, stores, new LogoutNotices(log), log);
  } finally {
    await stores.close();
  }
  return clients.length;
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('clients', clientsCommand);
