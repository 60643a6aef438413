// npm run accounts -- <command>: the accounts in the broker's stores, for an operator at a
// shell (the broker may be down), as the same JSON the admin API answers.
//
//   show <sub>                                the account (a merged-away sub shows the survivor)
//   find --unionid U | --appid A --openid O   lookup
//   export <sub>                              everything held about the person (PIPL art. 45)
//
// It reads REDIS_URL and MONGODB_URI as the broker does (and the rest of its environment,
// for the apps' ids). Each command is audited on stderr as the admin API's calls are.

import { parseArgs } from 'node:util';
import type { Account, AccountId } from '../accounts/account.ts';
import { accountView, findAccount } from '../admin/account-view.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { createLogger } from '../log.ts';
import { openStores, type Stores } from '../stores.ts';
import { runCli, UsageError } from './run.ts';

const SUB = /^[A-Za-z0-9_-]{1,128}$/;
const USAGE = 'usage: accounts show <sub> | find --unionid U | find --appid A --openid O | export <sub>';

/** The stores the broker uses, connected; a memory store holds nothing outside the broker. */
async function connect(): Promise<{ stores: Stores; apps: Config['apps'] }> {
  const config = await loadConfig();
  if (!config.storage.redis && !config.storage.mongodbUri) {
    throw new UsageError('accounts live in memory inside a running broker: set REDIS_URL or MONGODB_URI as the broker has them');
  }
  let fatal: string | undefined;
  const stores = openStores(config.storage, { log: createLogger('silent'), observe: () => undefined, fatal: (message) => { fatal = message; } });
  if (!await stores.ready(config.storage.timeoutMs * 2) || fatal) {
    await stores.close();
    throw new UsageError(fatal ?? 'storage is not reachable');
  }
  return { stores, apps: config.apps };
}

async function run(stores: Stores, command: string, positionals: string[], values: { unionid?: string; appid?: string; openid?: string }): Promise<Account | undefined> {
  if (command === 'find') {
    const found = await findAccount(stores.accounts, values);
    if (typeof found === 'string') throw new UsageError(found);
    return found;
  }
  const sub = positionals[1];
  if ((command !== 'show' && command !== 'export') || !sub || !SUB.test(sub)) throw new UsageError(USAGE);
  return stores.accounts.findById(sub as AccountId);
}

export async function accountsCommand(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true, options: { unionid: { type: 'string' }, appid: { type: 'string' }, openid: { type: 'string' } },
  });
  const command = positionals[0] ?? '';
  if (!['show', 'find', 'export'].includes(command)) throw new UsageError(USAGE);
  const { stores, apps } = await connect();
  const audit = createLogger('info', process.stderr);
  try {
    const account = await run(stores, command, positionals, values);
    audit.info({ admin: { client: 'cli', action: command, outcome: account ? 'ok' : 'not_found', ...(account ? { sub: account.id } : {}) } }, 'admin call');
    if (!account) throw new UsageError('no such account');
    const view = accountView(account, apps);
    return JSON.stringify(command === 'export' ? { exported_at: new Date().toISOString(), account: view } : view, null, 2);
  } finally {
    await stores.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('accounts', accountsCommand);
