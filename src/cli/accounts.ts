// npm run accounts -- <command>: the accounts in the broker's stores, for an operator at a
// shell (the broker may be down), as the same JSON the admin API answers, through the same
// code (privacy/). HELP below is what --help prints.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type Provider from 'oidc-provider';
import { isAccountId, REASON_MAX, suspensionEnd, suspensionReason, type Account, type AccountId } from '../accounts/account.ts';
import { erasedLine, type Imported } from '../accounts/import.ts';
import { PHONE_HOLDER_MODEL, PhoneHolders } from '../accounts/phone-holders.ts';
import { UnlinkRefusedError } from '../accounts/store.ts';
import { offlineProvider } from '../provider.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { createLogger, type Logger } from '../log.ts';
import { LogoutNotices } from '../oidc/logout-notices.ts';
import { ACCESS_LOG_MODEL, AccessLog } from '../privacy/access-log.ts';
import { dumpLines, importLine, type MoveParts } from '../privacy/account-moves.ts';
import { accessesView, accountView, findAccount, loginsView, lookupsOf, requestTarget, signedOutView, suspendedView } from '../privacy/account-view.ts';
import { LOGIN_HISTORY_MODEL, LoginHistory } from '../privacy/login-history.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import { openStores, type Stores } from '../stores.ts';
import { runCli, UsageError } from './run.ts';

const COMMANDS = ['show', 'find', 'export', 'accesses', 'logins', 'delete', 'unlink', 'logout', 'suspend', 'reinstate', 'suspended', 'import', 'dump'] as const;
type Command = (typeof COMMANDS)[number];
const USAGE = 'usage: npm run accounts -- show <sub> | find --unionid U | find --appid A --openid O | find --wecom-corpid C --wecom-userid U | find --wecom-corpid C --wecom-openid O | find --phone N | find --client C --sub=S | export <sub> | accesses <sub> | logins <sub> | delete <sub> | unlink <sub> --appid A | logout <sub> | suspend <sub> --reason R [--until T] | reinstate <sub> | suspended | import <file> | dump <file>';
export const OPTIONS = {
  unionid: { type: 'string' }, appid: { type: 'string' }, openid: { type: 'string' }, 'wecom-corpid': { type: 'string' }, 'wecom-userid': { type: 'string' }, 'wecom-openid': { type: 'string' },
  client: { type: 'string' }, sub: { type: 'string' }, phone: { type: 'string' }, reason: { type: 'string' }, until: { type: 'string' },
} as const;
export const HELP = `${USAGE}

  show <sub>                                the account (a merged-away sub shows the survivor)
  find --unionid U | --appid A --openid O   lookup
  find --wecom-corpid C --wecom-userid U    a WeCom member (--wecom-openid O: someone outside the company)
  find --phone N                            the account that holds phone number N (a phone button's, a WeCom member's)
  find --client C --sub=S                   the account behind pairwise client C's sub S (with \`=\`: it may begin with \`-\`)
                                            (one-way: a pass over every account)
  export <sub>                              everything held about the person (PIPL art. 45)
  accesses <sub>                            the operators' audited calls about the person, with who
  logins <sub>                              the person's recent logins (when, app, client, device; any disowned)
  delete <sub>                              erasure (PIPL art. 47); relying parties are told
  unlink <sub> --appid A                    take one identity out; it logs in as a new account
  logout <sub>                              sign the person out everywhere: every session and
                                            grant ends (their tokens too); relying parties are told
  suspend <sub> --reason R [--until T]      suspend the person: signed out everywhere, and no login
                                            or token until reinstated (R: why, one line), or until
                                            T (RFC 3339 with its offset) when given
  reinstate <sub>                           lift the suspension
  suspended                                 every suspended account, the latest first
  import <file>                             accounts from a company's earlier WeChat login, one
                                            JSON object a line, with the subs its apps know (the
                                            README's "Moving from an earlier WeChat login"); exit 1
                                            when a line was refused (- : stdin)
  dump <file>                               every account as such a line, into a new file, with
                                            what is kept beside it (logins, accesses, phone
                                            numbers): a backup, or the way to another store or
                                            broker (import reads it; - : stdout, the counts then
                                            on stderr)

It reads REDIS_URL and MONGODB_URI as the broker does (and the rest of its environment:
the apps' ids, the clients to tell and the keys to sign their logout tokens). Each
command is audited on stderr as the admin API's calls are.`;

/** A CLI waits for its logout deliveries before it exits: fewer, quicker retries than the broker's. */
const CLI_NOTICE_DELAYS_MS = [0, 1_000, 5_000];

type Options = { unionid?: string; appid?: string; openid?: string; wecom_corpid?: string; wecom_userid?: string; wecom_openid?: string; client?: string; sub?: string; phone?: string; reason?: string; until?: string };

/** What a command works with: the person's rights, the provider (its clients), the stores, the configuration. */
interface Parts { readonly data: PersonalData; readonly provider: Provider; readonly stores: Stores; readonly config: Config }

/** find: by WeChat's or WeCom's identifiers, a phone number, or a pairwise client's sub, as the admin API finds. */
async function find({ data, provider, stores, config }: Parts, values: Options): Promise<{ sub?: string; out?: unknown }> {
  const found = await findAccount(stores.accounts, values, lookupsOf(provider, config.pairwiseSecret, stores.accounts, data));
  if (typeof found === 'string') throw new UsageError(found);
  return found ? { sub: found.id, out: accountView(found, config.apps) } : {};
}

/** The stores the broker uses, connected; a memory store holds nothing outside the broker. */
async function connect(config: Config): Promise<Stores> {
  if (!config.storage.redis && !config.storage.mongodbUri) {
    throw new UsageError('accounts live in memory inside a running broker: set REDIS_URL or MONGODB_URI as the broker has them');
  }
  let fatal: string | undefined;
  const stores = await openStores(config.storage, { log: createLogger('silent'), observe: () => undefined, fatal: (message) => { fatal = message; } });
  if (!await stores.ready(config.storage.timeoutMs * 2) || fatal) {
    await stores.close();
    throw new UsageError(fatal ?? 'storage is not reachable');
  }
  return stores;
}

/** The command's answer (JSON), and the account's sub for the audit line (undefined: no such account). */
async function run(parts: Parts, command: Command, positionals: string[], values: Options): Promise<{ sub?: string; out?: unknown }> {
  const { data, config } = parts;
  if (command === 'find') return find(parts, values);
  const sub = positionals[1];
  const suspending = command === 'suspend';
  if (!isAccountId(sub) || (command === 'unlink') !== (values.appid !== undefined) || suspending !== (values.reason !== undefined) || (!suspending && values.until !== undefined)) throw new UsageError(USAGE);
  if (command === 'delete') {
    // Straight to the erasure, which also finishes one that was interrupted.
    const erased = await data.erase(sub as AccountId, { by: 'cli' });
    return erased ? { sub: erased.id, out: { erased: erased.id } } : {};
  }
  const account = await data.account(sub as AccountId);
  if (!account) return {};
  switch (command) {
    case 'show': return { sub: account.id, out: accountView(account, config.apps) };
    case 'export': return { sub: account.id, out: await data.export(account.id, config.issuer) };
    case 'accesses': return { sub: account.id, out: accessesView(account, await data.accessesOf(account.id)) };
    case 'logins': return { sub: account.id, out: loginsView(account, await data.loginsOf(account.id), config.apps) };
    case 'logout': {
      const done = await data.logout(account.id, { by: 'cli' });
      return done ? { sub: done.account.id, out: signedOutView(done.account, done.held) } : {};
    }
    case 'suspend': return suspend(data, account, values, config);
    case 'reinstate': {
      const reinstated = await data.reinstate(account.id, { by: 'cli' });
      return reinstated ? { sub: reinstated.id, out: accountView(reinstated, config.apps) } : {};
    }
    default: return unlink(data, account, values.appid!, config);
  }
}

async function suspend(data: PersonalData, account: Account, values: Options, config: Config): Promise<{ sub?: string; out?: unknown }> {
  const reason = suspensionReason(values.reason);
  if (!reason) throw new UsageError(`--reason: why, on one line, in 1 to ${REASON_MAX} characters`);
  const until = values.until === undefined ? undefined : suspensionEnd(values.until, Date.now());
  if (values.until !== undefined && until === undefined) throw new UsageError('--until: a date-time to come, in RFC 3339 with its offset (2027-01-31T00:00:00+08:00)');
  const done = await data.suspend(account.id, { reason, until }, { by: 'cli' });
  return done ? { sub: done.account.id, out: accountView(done.account, config.apps) } : {};
}

async function unlink(data: PersonalData, account: Account, appid: string, config: Config): Promise<{ sub?: string; out?: unknown }> {
  const identity = account.identities.find((known) => known.appid === appid);
  if (!identity) throw new UsageError(`the account has no identity in app ${appid}`);
  try {
    const unlinked = await data.unlink(account.id, identity, { by: 'cli' });
    return unlinked ? { sub: unlinked.id, out: accountView(unlinked, config.apps) } : {};
  } catch (error) {
    if (error instanceof UnlinkRefusedError) throw new UsageError(error.message);
    throw error;
  }
}

/** Lines imported at once: a store's round trips overlap, and a refusal is still about its own line. */
const IMPORT_BATCH = 16;

/** import <file>: each line's account (accounts/import.ts), a batch at a time; the counts, each refused line with why; exit 1 if any. */
async function importFile(parts: MoveParts, file: string, audit: Logger): Promise<string> {
  const counts = { created: 0, present: 0, refused: 0 };
  const refusals: Array<{ line: number; reason: string }> = [];
  let batch: Array<Promise<Imported>> = [];
  const settle = async () => {
    for (const done of await Promise.all(batch)) {
      counts[done.outcome] += 1;
      if (done.outcome === 'refused') refusals.push({ line: done.line, reason: done.reason });
    }
    batch = [];
  };
  let number = 0;
  for await (const text of createInterface({ input: file === STDIO ? process.stdin : createReadStream(file), crlfDelay: Infinity })) {
    number += 1;
    if (text.trim() !== '') batch.push(importLine(parts, text, number));
    if (batch.length >= IMPORT_BATCH) await settle();
  }
  await settle();
  audit.info({ admin: { client: 'cli', action: 'import', target: { file: basename(file) }, outcome: counts.refused ? 'partly' : 'ok', ...counts } }, 'admin call');
  if (counts.refused > 0) process.exitCode = 1;
  return JSON.stringify({ ...counts, refusals }, null, 2);
}

/** `-` for a file: standard input for an import, standard output for a dump (a container whose file system is read-only, `kubectl exec`). */
const STDIO = '-';

/** Where a dump writes: a new file (readable by its owner only), or standard output. */
async function dumpTo(file: string): Promise<Writable> {
  if (file === STDIO) return process.stdout;
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  await once(out, 'open');
  return out;
}

/**
 * Writes `text`, waiting while the output is full. An output that ended (a reader gone:
 * `dump - | head`; a full disk) is the operator's to know, in one line, not a crash.
 */
async function writeOut(out: Writable, text: string): Promise<void> {
  try {
    if (out.errored) throw out.errored;
    if (!out.write(text)) await once(out, 'drain');
  } catch (error) {
    throw new UsageError(`the output ended before the dump did: ${(error as Error).message}`);
  }
}

/**
 * dump <file>: every account as an import line, then every erased sub, written as read (none
 * is held in memory) into a file that must not exist yet, or to standard output; the counts
 * (on standard error with `-`, where they would mix with the lines).
 */
async function dump(parts: MoveParts, file: string, audit: Logger): Promise<string> {
  const out = await dumpTo(file);
  const counts = { accounts: 0, erased: 0 };
  // Its failure is the next write's to report (writeOut): never an unhandled 'error' event.
  out.on('error', () => {});
  const write = (line: object) => writeOut(out, `${JSON.stringify(line)}\n`);
  let outcome = 'failed';
  try {
    for await (const line of dumpLines(parts, parts.accounts.idleSince(Number.MAX_SAFE_INTEGER))) {
      await write(line);
      counts.accounts += 1;
    }
    // Each erased sub, so that wherever the file goes none is given again.
    for await (const id of parts.accounts.erased()) {
      await write(erasedLine(id));
      counts.erased += 1;
    }
    outcome = 'ok';
  } finally {
    if (out !== process.stdout) await new Promise((resolve) => out.end(resolve));
    // Audited however it ended: what was written had been read out of the store.
    audit.info({ admin: { client: 'cli', action: 'dump', target: { file: basename(file) }, outcome, ...counts } }, 'admin call');
  }
  const answer = JSON.stringify({ ...counts, file }, null, 2);
  if (file !== STDIO) return answer;
  process.stderr.write(`${answer}\n`);
  return '';
}

/** suspended: every suspended account, the latest first, as the admin API's list (audited as its `suspensions`). */
async function suspendedList(data: PersonalData, audit: Logger): Promise<string> {
  const suspended = suspendedView(await data.suspended());
  audit.info({ admin: { client: 'cli', action: 'suspensions', target: {}, outcome: 'ok', accounts: suspended.length } }, 'admin call');
  return JSON.stringify({ suspended }, null, 2);
}

/** The identifiers the command names, as given: what the call was about, as the admin API's audit has it. */
const targetOf = (positionals: readonly string[], values: Options) => requestTarget({ sub: positionals[1], ...values });

async function audited(audit: Logger, data: PersonalData, command: Command, target: Record<string, string>, answer: () => Promise<{ sub?: string; out?: unknown }>): Promise<string> {
  const { sub, out } = await answer();
  const outcome = sub ? 'ok' : 'not_found';
  audit.info({ admin: { client: 'cli', action: command, target, outcome, ...(sub ? { sub } : {}) } }, 'admin call');
  await data.accessed({ sub, outcome, action: command, by: 'cli' });
  if (!sub) throw new UsageError('no such account');
  return JSON.stringify(out, null, 2);
}

export async function accountsCommand(argv: string[]): Promise<string> {
  const { positionals, values: given } = parseArgs({
    args: argv, allowPositionals: true,
    options: OPTIONS,
  });
  // Named as the admin API names them (--wecom-corpid: wecom_corpid).
  const values: Options = Object.fromEntries(Object.entries(given).map(([name, value]) => [name.replaceAll('-', '_'), value]));
  const command = positionals[0] as Command;
  if (!COMMANDS.includes(command)) throw new UsageError(USAGE);
  if ((command === 'import' || command === 'dump') && positionals.length !== 2) throw new UsageError(USAGE);
  if (command === 'suspended' && positionals.length !== 1) throw new UsageError(USAGE);
  const config = await loadConfig();
  const stores = await connect(config);
  const audit = createLogger('info', process.stderr);
  if (command === 'import' || command === 'dump') {
    // The account and what is kept beside it (privacy/account-moves.ts), where the broker keeps them.
    const { durable } = stores;
    const parts = {
      accounts: stores.accounts, logins: new LoginHistory(durable.adapter(LOGIN_HISTORY_MODEL)),
      accesses: new AccessLog(durable.adapter(ACCESS_LOG_MODEL)), holders: new PhoneHolders(durable.adapter(PHONE_HOLDER_MODEL)),
    };
    return (command === 'import' ? importFile : dump)(parts, positionals[1]!, audit).finally(() => stores.close());
  }
  const notices = new LogoutNotices(audit, undefined, CLI_NOTICE_DELAYS_MS);
  try {
    const { provider, personalData: data } = await offlineProvider(config, stores, notices, audit);
    if (command === 'suspended') return await suspendedList(data, audit);
    return await audited(audit, data, command, targetOf(positionals, values), () => run({ data, provider, stores, config }, command, positionals, values));
  } finally {
    await notices.settled();
    await stores.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('accounts', HELP, accountsCommand);
