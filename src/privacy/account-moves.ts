// An account moved whole (`npm run accounts -- dump` and `import`): the account's own line
// (accounts/import.ts), and beside it what the broker keeps of the person outside the
// account, keyed by its `sub`: their recent logins (login-history.ts) and the operators'
// accesses to their data (access-log.ts; PIPL art. 44: what they see on their page). Both
// are in durable storage, where the accounts are, so a move of the accounts to another store
// (from Redis to MongoDB) would leave them behind if the dump did not carry them. The note of
// which account a phone number was last given to (accounts/phone-holders.ts: how `find
// --phone` finds someone) is made again from the accounts' own contact details.

import { z } from 'zod';
import { CLIENT_ID, DATE_TIME, importAccount, isErasedLine, LOGIN_APPID, lineOf, reasonOf, type Imported, type WrittenLine } from '../accounts/import.ts';
import type { Account, AccountId } from '../accounts/account.ts';
import type { PhoneHolders } from '../accounts/phone-holders.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { AppId } from '../wechat/types.ts';
import { isBrowserName } from '../http/browser-name.ts';
import { ACCESSES_KEPT, type Access, type AccessLog } from './access-log.ts';
import { LOGINS_KEPT, type LoginEntry, type LoginHistory } from './login-history.ts';
import { Turns } from './turns.ts';

/** Where an account's line is read from and written to. */
export interface MoveParts {
  readonly accounts: AccountStore;
  readonly logins: LoginHistory;
  readonly accesses: AccessLog;
  readonly holders: PhoneHolders;
}

const LOGIN = z.strictObject({
  at: DATE_TIME,
  appid: LOGIN_APPID,
  client: CLIENT_ID.optional(),
  device: z.string().refine(isBrowserName, { error: 'expected a browser\'s name as the broker gives it ("Chrome · Android")' }).optional(),
  device_flow: z.literal(true).optional(),
  disowned_at: DATE_TIME.optional(),
});

const ACCESS = z.strictObject({
  at: DATE_TIME,
  action: z.string().regex(/^[a-z][a-z_-]{0,39}$/, { error: 'expected an audited action (show, export, …)' }),
  by: z.enum(['admin', 'console', 'cli']),
  who: CLIENT_ID.optional(),
});

/** What a line carries beside the account, named as the export names it. */
const BESIDE = z.strictObject({
  recent_logins: z.array(LOGIN).max(LOGINS_KEPT).optional(),
  operator_accesses: z.array(ACCESS).max(ACCESSES_KEPT).optional(),
});
type Beside = z.infer<typeof BESIDE>;

const iso = (ms: number) => new Date(ms).toISOString();

function loginLine({ at, appid, client, device, deviceFlow, disowned }: LoginEntry): z.input<typeof LOGIN> {
  return {
    at: iso(at), appid, ...(client === undefined ? {} : { client }), ...(device === undefined ? {} : { device }),
    ...(deviceFlow ? { device_flow: true as const } : {}), ...(disowned === undefined ? {} : { disowned_at: iso(disowned) }),
  };
}

/** A login of a line as the history keeps it; a time to come (which would keep the list for good) is `now`. */
function loginOfLine({ at, appid, client, device, device_flow: deviceFlow, disowned_at: disowned }: NonNullable<Beside['recent_logins']>[number], now: number): LoginEntry {
  return {
    at: Math.min(now, Date.parse(at)), appid: appid as AppId, ...(client === undefined ? {} : { client }), ...(device === undefined ? {} : { device }),
    ...(deviceFlow ? { deviceFlow } : {}), ...(disowned === undefined ? {} : { disowned: Date.parse(disowned) }),
  };
}

/** Accounts whose lists a dump reads at once: their round trips overlap, a batch at a time (as the scan's own reads). */
const DUMP_BATCH = 64;

type DumpedLine = WrittenLine & z.input<typeof BESIDE>;

/** Each account as a line of a dump, in the order given; the lists of a batch of them read at once. */
export async function* dumpLines(parts: MoveParts, accounts: AsyncIterable<Account>): AsyncIterable<DumpedLine> {
  let batch: Account[] = [];
  for await (const account of accounts) {
    batch.push(account);
    if (batch.length < DUMP_BATCH) continue;
    yield* await Promise.all(batch.map((each) => dumpLine(parts, each)));
    batch = [];
  }
  yield* await Promise.all(batch.map((each) => dumpLine(parts, each)));
}

/** The account as one line of a dump: its own fields, then its recent logins and operators' accesses (when it has any). */
async function dumpLine(parts: MoveParts, account: Account): Promise<DumpedLine> {
  const [logins, accesses] = await Promise.all([parts.logins.of(account.id), parts.accesses.of(account.id)]);
  return {
    ...lineOf(account),
    ...(logins.length ? { recent_logins: logins.map(loginLine) } : {}),
    ...(accesses.length ? { operator_accesses: accesses.map(({ at, ...access }) => ({ at: iso(at), ...access })) } : {}),
  };
}

/**
 * Imports one line (numbered from 1): what it carries beside the account is checked first,
 * then the account is imported (accounts/import.ts), and once it is there (made now, or by
 * an earlier run) the entries join the person's lists, none twice: a run can be repeated.
 */
export async function importLine(parts: MoveParts, text: string, number: number, now = Date.now()): Promise<Imported> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { line: number, outcome: 'refused', reason: 'not JSON' };
  }
  if (isErasedLine(json)) return importAccount(parts.accounts, json, number, now);
  const record = typeof json === 'object' && json !== null && !Array.isArray(json) ? json as Record<string, unknown> : undefined;
  const { recent_logins: logins, operator_accesses: accesses, ...account } = record ?? {};
  const beside = BESIDE.safeParse({ recent_logins: logins, operator_accesses: accesses });
  if (!beside.success) return { line: number, outcome: 'refused', reason: reasonOf(beside.error) };
  const done = await importAccount(parts.accounts, record ? account : json, number, now);
  if (done.outcome === 'refused') return done;
  await parts.logins.restore(done.sub, (beside.data.recent_logins ?? []).map((login) => loginOfLine(login, now)), now);
  await parts.accesses.restore(done.sub, (beside.data.operator_accesses ?? []).map(({ at, ...access }): Access => ({ at: Math.min(now, Date.parse(at)), ...access })), now);
  await notePhone(parts, done.sub as AccountId, phoneOfLine(account));
  return done;
}

/** The phone number a line gives its account (the import has checked it by then), with when it was given. */
function phoneOfLine(line: Record<string, unknown>): { readonly value: string; readonly at: number } | undefined {
  const phone = (line.contacts as { phone?: { value: string; at: string } } | undefined)?.phone;
  return phone && { value: phone.value, at: Date.parse(phone.at) };
}

/**
 * The line's phone number finds its account again: noted as the account's own, unless the account noted for
 * the number has held it since later (carriers recycle numbers; the later holder is the one
 * a login would have noted last). Lines imported at once note one number in turn, so that
 * which of two holders wins never depends on which line finished first.
 */
async function notePhone(parts: MoveParts, sub: AccountId, phone: { readonly value: string; readonly at: number } | undefined): Promise<void> {
  if (!phone) return;
  await inTurn(parts.holders, phone.value, async () => {
    const holder = await parts.holders.holderOf(phone.value);
    if (holder === sub) return;
    const held = holder === undefined ? undefined : (await parts.accounts.findById(holder))?.contacts?.phone;
    if (held?.value === phone.value && held.at >= phone.at) return;
    await parts.holders.hand(phone.value, sub);
  });
}

/** Each holders' notes under way, by number (one import's lines share its holders). */
const noting = new WeakMap<PhoneHolders, Turns>();

function inTurn(holders: PhoneHolders, number: string, task: () => Promise<void>): Promise<void> {
  const turns = noting.get(holders) ?? new Turns();
  noting.set(holders, turns);
  return turns.run(number, task);
}
