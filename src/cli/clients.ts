// npm run clients -- <command>: relying parties in CLIENTS_FILE (HELP below, which --help prints).

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig, type ClientMetadata } from '../config/config.ts';
import { LogoutNotices } from '../oidc/logout-notices.ts';
import { offlineProvider } from '../provider.ts';
import { openStores } from '../stores.ts';
import { createLogger } from '../log.ts';
import { newApi, newClient } from './client-entry.ts';
import { runCli, UsageError } from './run.ts';

const SYNOPSIS = 'usage: npm run clients -- new --id ID --redirect-uri URI [...] | new --id ID --api URI --scope NAME=TEXT [...] | check --file CLIENTS_FILE';
export const OPTIONS = {
  id: { type: 'string' },
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-uri': { type: 'string', multiple: true },
  'first-party': { type: 'boolean' },
  public: { type: 'boolean' },
  pairwise: { type: 'boolean' },
  dpop: { type: 'boolean' },
  'jwks-uri': { type: 'string' },
  resource: { type: 'string', multiple: true },
  api: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  'security-events-uri': { type: 'string' },
  file: { type: 'string' },
} as const;
export const HELP = `${SYNOPSIS}

  new --id ID --redirect-uri URI [--redirect-uri URI …] [--name NAME]
      [--post-logout-uri URI …] [--first-party] [--public | --jwks-uri URI] [--pairwise] [--dpop]
      [--resource API … --file F] [--backchannel-logout-uri URI] [--security-events-uri URI]
        prints a client entry (with a strong secret unless --public or --jwks-uri) to add to the file;
        --jwks-uri: the client authenticates with JWTs signed by its keys there (private_key_jwt), no secret;
        --dpop: tokens only bound to a key the client proves (RFC 9449), none as Bearer;
        --pairwise: its own \`sub\` for each person (another company's app), with a scope
        without \`wechat\` (the broker needs PAIRWISE_SECRET then);
        --resource: an API of the file F it may get tokens for (RFC 8707);
        --backchannel-logout-uri, --security-events-uri: where its server hears of logouts
        (with the sid), and of erased or merged accounts
  new --id ID --api URI --scope NAME=TEXT [--scope NAME[LANG]=TEXT …] [--name NAME] [--jwks-uri URI]
        prints one of the company's APIs: its resource indicator, and each scope with what it
        lets an app do (one text, or one per language: zh-CN, zh-TW, en)
  With --file F, \`new\` checks its entry together with F's clients (its client_id not taken).
  check --file F
        checks a clients file exactly as the broker does at start and on SIGHUP

After editing CLIENTS_FILE, send the broker SIGHUP (docker kill -s HUP …): it re-reads
the file without dropping a request, or keeps the running clients if the file is wrong.`;

export async function clientsCommand(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  switch (positionals[0]) {
    case 'new': {
      const client = values.api === undefined ? newClient(values) : newApi({ ...values, api: values.api });
      if (values.resource?.length && !values.file) throw new UsageError('--resource needs --file CLIENTS_FILE, where the API is declared');
      await check(values.file, [client]);
      return JSON.stringify(client, null, 2);
    }
    case 'check': {
      if (!values.file) throw new UsageError('--file is required');
      const count = await check(values.file);
      return `${values.file}: ${count} clients, all valid`;
    }
    default:
      throw new UsageError(SYNOPSIS);
  }
}

/**
 * The broker's own checks, as it makes them at start: the file's shape, the APIs the
 * clients declare, then oidc-provider's metadata validation with the broker's scopes (its
 * admin API's among them) and its own clients. A stand-in PAIRWISE_SECRET lets pairwise
 * clients be checked (no `sub` is made here); nothing is stored (memory).
 */
async function check(clientsFile: string | undefined, extra: ClientMetadata[] = []): Promise<number> {
  const config = await loadConfig({ CLIENTS_FILE: clientsFile, WECHAT_SIMULATOR_PORT: '0', PAIRWISE_SECRET: randomBytes(32).toString('hex') });
  const taken = extra.find(({ client_id: id }) => config.clients?.some((client) => client.client_id === id));
  if (taken) throw new UsageError(`${clientsFile ?? 'CLIENTS_FILE'} already has a client ${taken.client_id}`);
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

if (import.meta.url === `file://${process.argv[1]}`) runCli('clients', HELP, clientsCommand);
