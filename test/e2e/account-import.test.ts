// Moving a company's earlier WeChat login to the broker (`npm run accounts -- import`): the
// people its apps already know, with their user ids, are written into a real Redis ahead of
// their first login through the broker, and that login finds them by unionid or by (appid,
// openid) and gives their old id as the `sub`. What the old system knew of two people is
// learnt here from a first login each, whose accounts are then erased.

import test from 'ava';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { qrLoginByFetch } from '../helpers/fetch-login.ts';
import { accountsCli as cli, accountsCliCutShort, accountsCliFed as fed } from '../helpers/accounts-cli.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { tempDir } from '../helpers/temp.ts';

let redis: RedisServer;
let rpServer: RpServer;
let broker: RunningBroker;

test.before(async () => {
  [redis, rpServer] = await Promise.all([startRedis(), startRpServer()]);
  broker = await startBroker({ REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect', CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)) });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), rpServer?.close()]);
  await redis?.stop();
});

const accountsCli = (...args: string[]) => accountsCliOn(redis.url, ...args);
const accountsCliOn = (redisUrl: string, ...args: string[]) => cli({ REDIS_URL: redisUrl, WECHAT_SIMULATOR_PORT: '0' }, ...args);
const accountsCliFedOn = (redisUrl: string, input: string, ...args: string[]) => fed({ REDIS_URL: redisUrl, WECHAT_SIMULATOR_PORT: '0' }, input, ...args);

/** A QR login of the simulated `person` at the first-party app: the `sub` it gets. */
async function logIn(person: string): Promise<string> {
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, broker.simulator, person);
  return (await rp.finish(new URL(landed), check)).claims()!.sub;
}

/** What an earlier system would know of `person`: their unionid and identity, from a login whose account is then erased. */
async function knownOf(person: string) {
  const sub = await logIn(person);
  const account = (await accountsCli('show', sub)).json() as { unionid: string; identities: Array<{ appid: string; openid: string }> };
  if ((await accountsCli('delete', sub)).status !== 0) throw new Error('not erased');
  return { sub, unionid: account.unionid, identity: { appid: account.identities[0]!.appid, openid: account.identities[0]!.openid } };
}

test.serial('imported accounts: the next login is the imported sub, found by unionid or by identity; a line naming someone else\'s unionid or a taken sub is refused; a run repeats', async (t) => {
  const [first, second] = [await knownOf('person-701'), await knownOf('person-702')];
  const file = join(tempDir('account-import'), 'members.jsonl');
  writeFileSync(file, [
    { sub: 'member-1024', unionid: first.unionid, nickname: '老会员', created_at: '2019-05-01T08:00:00+08:00' },
    { sub: 'member-1025', identities: [second.identity] },
    { sub: 'member-1026', unionid: first.unionid },
    { sub: first.sub, unionid: 'oSomebodyElse' },
    { sub: 'member-1027', unionId: 'oTypo' },
  ].map((line) => JSON.stringify(line)).join('\n'));

  const ran = await accountsCli('import', file);
  t.is(ran.status, 1, 'a line was refused');
  t.like(ran.json(), { created: 2, present: 0, refused: 3 });
  const reasons = (ran.json().refusals as Array<{ line: number; reason: string }>).map(({ line, reason }) => `${line}: ${reason}`);
  t.regex(reasons[0]!, /^3: the unionid belongs to account member-1024$/);
  t.regex(reasons[1]!, new RegExp(`^4: the sub ${first.sub} is taken`), 'an erased sub is never given again');
  t.regex(reasons[2]!, /^5: Unrecognized key: "unionId"/);
  t.regex(ran.stderr, /"action":"import","target":\{"file":"members.jsonl"\},"outcome":"partly","created":2,"present":0,"refused":3/);
  t.like((await accountsCli('import', file)).json(), { created: 0, present: 2, refused: 3 }, 'again: nothing new');

  t.is(await logIn('person-701'), 'member-1024', 'found by unionid');
  t.is(await logIn('person-702'), 'member-1025', 'found by its identity');
  const shown = (await accountsCli('show', 'member-1025')).json() as { unionid: string };
  t.is(shown.unionid, second.unionid, 'the login added what WeChat said');
  t.like((await accountsCli('show', 'member-1024')).json(), { created_at: '2019-05-01T00:00:00.000Z', profile: { nickname: '用户 701' } }, 'the login\'s profile replaces the imported one');
});

test.serial('import needs its file: a missing one is a plain error, exit 2', async (t) => {
  const ran = await accountsCli('import', join(tempDir('account-import'), 'nowhere.jsonl'));
  t.is(ran.status, 2);
  t.regex(ran.stderr, /^accounts: ENOENT: no such file or directory/m);
  t.is((await accountsCli('import')).status, 2, 'no file named');
});

test.serial('dump writes every account as an import line, and another store imports them as they were: subs, identifiers (a WeCom guest\'s too), profiles, contacts, last logins, merged subs, suspensions, erased subs', async (t) => {
  const fresh = await logIn('person-703');
  const merged = join(tempDir('account-import'), 'merged.jsonl');
  writeFileSync(merged, `${[{
    sub: 'member-2000', unionid: 'uMoved2000', merged_from: ['old-2000'],
    contacts: { phone: { value: '+8613800138000', verified: true, source: 'wechat-phone:wx0123456789abcdef', at: '2026-06-01T00:00:00Z' } },
  }, {
    // A WeCom company's guest: their one identity is the openid the company gave them.
    sub: 'guest-3000', identities: [{ wecom_corpid: 'ww1234567890abcdef', wecom_openid: 'wmGuest3000' }],
  }].map((line) => JSON.stringify(line)).join('\n')}\n`);
  t.is((await accountsCli('import', merged)).status, 0);
  t.is((await accountsCli('suspend', fresh, '--reason', 'chargebacks')).status, 0);
  const file = join(tempDir('account-import'), 'dump.jsonl');
  const dumped = await accountsCli('dump', file);
  t.is(dumped.status, 0, dumped.stderr);
  const written = readFileSync(file, 'utf8');
  t.is(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
  const all = written.trim().split('\n').map((line) => JSON.parse(line) as { sub: string; unionid?: string; identities?: unknown[]; erased?: string });
  const lines = all.filter((line) => line.erased === undefined);
  const erased = all.flatMap((line) => (line.erased === undefined ? [] : [line.erased]));
  t.like(dumped.json(), { accounts: lines.length, erased: erased.length, file });
  t.true(erased.length >= 2, 'the subs erased by the test before, each on a line of its own');
  t.is((await accountsCli('dump', file)).status, 2, 'never over a file that exists');
  t.true(lines.length >= 3);
  t.true(lines.some((line) => line.sub === fresh), 'an account made by a login');
  t.true(lines.some((line) => line.sub === 'member-1025' && line.unionid !== undefined && line.identities?.length === 1), 'as the login left it')
  t.regex(dumped.stderr, new RegExp(`"action":"dump","target":\\{"file":"dump.jsonl"\\},"outcome":"ok","accounts":${lines.length},"erased":${erased.length}`));

  const other = await startRedis();
  t.teardown(() => other.stop());
  const imported = await accountsCliOn(other.url, 'import', file);
  t.is(imported.status, 0, imported.stdout);
  t.like(JSON.parse(imported.stdout), { created: all.length, refused: 0 });
  for (const { sub } of lines) {
    const [here, there] = [(await accountsCli('show', sub)).json(), (await accountsCliOn(other.url, 'show', sub)).json()];
    for (const field of ['sub', 'unionid', 'identities', 'profile', 'contacts', 'created_at', 'last_login', 'merged_from', 'unlinked_identities', 'suspended'] as const) {
      t.deepEqual(there[field], here[field], `${sub}: ${field}`);
    }
  }
  t.like((await accountsCliOn(other.url, 'show', fresh)).json(), { suspended: { reason: 'chargebacks', by: 'cli' }, last_login: { client: 'first-party' } });
  // What is kept beside the account came along: the person's recent logins, and who at the company looked at their data.
  const logins = (await accountsCliOn(other.url, 'logins', fresh)).json() as { logins: Array<{ client: string; device: string }> };
  t.deepEqual(logins, (await accountsCli('logins', fresh)).json());
  t.like(logins.logins, [{ client: 'first-party' }]);
  const accesses = (await accountsCliOn(other.url, 'accesses', fresh)).json() as { accesses: Array<{ action: string; by: string }> };
  t.true(accesses.accesses.some(({ action, by }) => action === 'suspend' && by === 'cli'), JSON.stringify(accesses));
  t.like((await accountsCliOn(other.url, 'show', 'old-2000')).json(), { sub: 'member-2000', merged_from: ['old-2000'], contacts: { phone: { value: '+8613800138000' } } }, 'a merged sub resolves there too');
  t.like((await accountsCliOn(other.url, 'find', '--phone', '+8613800138000')).json(), { sub: 'member-2000' }, 'the phone number finds its account there too');
  t.like((await accountsCliOn(other.url, 'find', '--wecom-corpid', 'ww1234567890abcdef', '--wecom-openid', 'wmGuest3000')).json(), { sub: 'guest-3000' }, 'a company\'s guest is found there by the openid it gave them');
  // An erased sub is never given again there either.
  const reuse = join(tempDir('account-import'), 'reuse.jsonl');
  writeFileSync(reuse, `${JSON.stringify({ sub: erased[0], unionid: 'uSomebodyNew' })}\n`);
  const refused = await accountsCliOn(other.url, 'import', reuse);
  t.is(refused.status, 1);
  t.regex(refused.stdout, new RegExp(`the sub ${erased[0]} is taken`));
});

test.serial('dump - and import -: through standard output and input, as in a container whose file system is read-only', async (t) => {
  const dumped = await accountsCli('dump', '-');
  t.is(dumped.status, 0, dumped.stderr);
  const lines = dumped.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sub?: string; erased?: string });
  t.true(lines.length >= 3);
  t.true(lines.every((line) => line.sub !== undefined || line.erased !== undefined), 'standard output holds only the lines');
  const counts = JSON.parse(dumped.stderr.slice(dumped.stderr.indexOf('{\n'))) as { accounts: number; erased: number; file: string };
  t.deepEqual(counts, { accounts: lines.filter((line) => line.sub).length, erased: lines.filter((line) => line.erased).length, file: '-' });
  t.regex(dumped.stderr, /"action":"dump","target":\{"file":"-"\},"outcome":"ok"/);

  const other = await startRedis();
  t.teardown(() => other.stop());
  const imported = await accountsCliFedOn(other.url, dumped.stdout, 'import', '-');
  t.is(imported.status, 0, imported.stdout);
  t.like(imported.json(), { created: lines.length, refused: 0 });
  const sub = lines.find((line) => line.sub)!.sub!;
  t.deepEqual((await accountsCliOn(other.url, 'show', sub)).json().identities, (await accountsCli('show', sub)).json().identities);
});

test.serial('dump - whose reader stops early (dump - | head): one line saying so, exit 2, and the dump audited as failed', async (t) => {
  const other = await startRedis();
  t.teardown(() => other.stop());
  // More lines than a pipe holds (64 KiB), so that the dump is still writing when its reader goes.
  const lines = Array.from({ length: 3000 }, (_, index) => JSON.stringify({ sub: `many-${index}`, unionid: `uMany${index}` })).join('\n');
  t.like((await accountsCliFedOn(other.url, lines, 'import', '-')).json(), { created: 3000, refused: 0 });
  const cut = await accountsCliCutShort({ REDIS_URL: other.url, WECHAT_SIMULATOR_PORT: '0' }, 'dump', '-');
  t.is(cut.status, 2, cut.stderr);
  t.regex(cut.stderr, /^accounts: the output ended before the dump did: write EPIPE$/m);
  t.notRegex(cut.stderr, /^\s+at /m, 'no stack trace');
  t.regex(cut.stderr, /"action":"dump","target":\{"file":"-"\},"outcome":"failed","accounts":\d+,"erased":0/);
});
