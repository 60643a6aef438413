// The broker's MongoDB connection against a wire-protocol stand-in (test/helpers/
// mongo-standin.ts says what it does not cover): MongoDB down when the broker starts and
// up later, down again and back, and a standalone server refused at start.

import test from 'ava';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../helpers/broker.ts';
import { CHILD_ENV } from '../helpers/process.ts';
import { startMongoStandIn, type MongoStandIn } from '../helpers/mongo-standin.ts';
import { freePort } from '../helpers/ports.ts';
import { until } from '../helpers/wait.ts';

async function readyz(origin: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/readyz`);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}


const uri = (port: number) => `mongodb://127.0.0.1:${port}/broker_test?directConnection=true`;

test('MongoDB down at start: the broker runs, /readyz says 503 and pages 503 at once; MongoDB up: indexes made, ready; down and up again: back by itself', async (t) => {
  const port = await freePort();
  const broker = await startBroker({ MONGODB_URI: uri(port) });
  let mongo: MongoStandIn | undefined;
  try {
    t.is((await fetch(`${broker.origin}/healthz`)).status, 200, 'the process is alive');
    const down = await readyz(broker.origin);
    t.is(down.status, 503);
    t.deepEqual(down.body.storage, { protocol: 'mongodb', accounts: 'mongodb' });
    const page = await fetch(`${broker.origin}/auth?client_id=demo&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(`${broker.issuer}/demo/callback`)}`, { redirect: 'manual' });
    t.is(page.status, 503, 'a request needing storage gets a clear 503, not a 500 and not a hang');

    mongo = await startMongoStandIn({ port });
    await until('/readyz is 200', async () => (await readyz(broker.origin)).status === 200);
    const created = mongo.commands.filter((command) => command.name === 'createIndexes');
    const accountIndexes = created.filter((command) => command.body.createIndexes === 'accounts').flatMap((command) => command.body.indexes as Array<Record<string, unknown>>);
    t.true(accountIndexes.length > 0, 'the account indexes were made');
    t.deepEqual(accountIndexes.find((index) => index.name === 'unionid_unique'), {
      key: { unionid: 1 }, name: 'unionid_unique', unique: true, partialFilterExpression: { unionid: { $exists: true } },
    }, 'the unique unionid index covers accounts that have one');
    const keys = accountIndexes.map((index) => JSON.stringify(index.key));
    t.true(keys.includes('{"lastLogin.at":1}') && keys.includes('{"updatedAt":1}'), 'the retention job\'s query has its indexes');
    t.true(created.some((command) => command.body.createIndexes === 'oidc_Session'), 'the protocol indexes were made before readiness');
    t.true(mongo.commands.some((command) => command.name === 'update' && command.body.update === 'accounts'), 'older null values were migrated');
    t.is(mongo.commands.filter((command) => command.name === 'update' && command.body.update === 'migrations').length, 3, 'and the three migrations recorded');

    await mongo.close();
    await until('/readyz is 503', async () => (await readyz(broker.origin)).status === 503);
    const told = () => broker.logs().some((line) => line.level === 40 && /MongoDB server 127\.0\.0\.1:\d+ stopped answering/.test(String(line.msg)));
    await until('the operator is told (at the driver\'s next heartbeat)', async () => told());
    mongo = await startMongoStandIn({ port });
    await until('/readyz is 200 again', async () => (await readyz(broker.origin)).status === 200);
    // The driver's own heartbeat says so, which may come after the first command went through: wait for it.
    t.true(await broker.logged((line) => /answers again/.test(String(line.msg))), 'and told again when it came back');
  } finally {
    await broker.stop();
    await mongo?.close();
  }
});

test('migrations run once: with all recorded, a start changes no account and takes no migration lease, and still makes sure of the indexes', async (t) => {
  const port = await freePort();
  const mongo = await startMongoStandIn({ port, collections: { migrations: [{ _id: 1 }, { _id: 2 }, { _id: 101 }] } });
  // A broker that never becomes ready must not leave the stand-in running.
  const broker = await startBroker({ MONGODB_URI: uri(port) }).catch(async (error: unknown) => { await mongo.close(); throw error; });
  try {
    await until('/readyz is 200', async () => (await readyz(broker.origin)).status === 200);
    // What migrations would touch (the dev-mode platform's ticket pushes write protocol records meanwhile).
    const migrationTargets = ['accounts', 'migrations', 'migrations_lock', 'oidc_Session', 'oidc_Grant'];
    const writes = mongo.commands.filter((command) => ['update', 'delete', 'dropIndexes'].includes(command.name)
      && migrationTargets.includes(String(command.body[command.name])));
    t.deepEqual(writes.map((command) => `${command.name} ${String(command.body[command.name])}`), []);
    t.true(mongo.commands.some((command) => command.name === 'createIndexes' && command.body.createIndexes === 'accounts'));
  } finally {
    await broker.stop();
    await mongo.close();
  }
});

test('sessions and grants an earlier version stored without accountId get it once, from their payload (text or sub-document), so export and erasure find them', async (t) => {
  const port = await freePort();
  const legacy = [
    { _id: 's-text', payload: JSON.stringify({ accountId: 'a1', kind: 'Session' }) },
    { _id: 's-object', payload: { accountId: 'a2', kind: 'Session' } },
    { _id: 's-anonymous', payload: JSON.stringify({ kind: 'Session' }) },
  ];
  const mongo = await startMongoStandIn({ port, collections: { migrations: [{ _id: 1 }, { _id: 2 }], oidc_Session: legacy } });
  // A broker that never becomes ready must not leave the stand-in running.
  const broker = await startBroker({ MONGODB_URI: uri(port) }).catch(async (error: unknown) => { await mongo.close(); throw error; });
  try {
    await until('/readyz is 200', async () => (await readyz(broker.origin)).status === 200);
    t.is(mongo.commands.filter((command) => command.name === 'update' && command.body.update === 'oidc_Session').length, 2, 'the two with an account, not the anonymous one');
    t.true(mongo.commands.some((command) => command.name === 'update' && command.body.update === 'migrations'), 'and the migration recorded');
  } finally {
    await broker.stop();
    await mongo.close();
  }
});

test('a standalone MongoDB (no replica set): the broker stops with one line naming MONGODB_URI, exit 1', async (t) => {
  const mongo = await startMongoStandIn({ standalone: true });
  try {
    const broker = await startBroker({ MONGODB_URI: uri(mongo.port) }).catch((error: Error) => error);
    const output = broker instanceof Error ? broker.message : '';
    if (!(broker instanceof Error)) {
      t.is(await broker.process.exitCode ?? await new Promise((resolve) => broker.process.once('exit', resolve)), 1);
    }
    const text = broker instanceof Error ? output : broker.output();
    t.regex(text, /Storage error: MONGODB_URI names a standalone server/);
    t.notRegex(text, /\n\s+at /, 'no stack trace');
  } finally {
    await mongo.close();
  }
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run accounts -- …` as an operator runs it, without blocking this process (the stand-in answers from here). */
async function accountsCli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', 'src/cli/accounts.ts', ...args], {
      cwd: ROOT, env: { ...CHILD_ENV, WECHAT_SIMULATOR_PORT: '0', ...env }, timeout: 120_000,
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

test('the accounts CLI with MongoDB waits for the connection and the indexes before its command; MongoDB down: one clear line', async (t) => {
  const port = await freePort();
  const mongo = await startMongoStandIn({ port });
  try {
    const sub = randomUUID();
    const shown = await accountsCli({ MONGODB_URI: uri(port) }, 'show', sub);
    t.regex(shown.stderr, /no such account/, 'the command ran and the account store answered');
    t.notRegex(shown.stderr, /not connected yet|unavailable/);
    t.true(mongo.commands.some((command) => command.name === 'createIndexes' && command.body.createIndexes === 'accounts'), 'after the indexes were made');
    t.true(mongo.commands.some((command) => command.name === 'find' && command.body.find === 'accounts'), 'and MongoDB got the query');
  } finally {
    await mongo.close();
  }
  const down = await accountsCli({ MONGODB_URI: uri(await freePort()), STORAGE_TIMEOUT_MS: '500' }, 'show', randomUUID());
  t.not(down.code, 0);
  t.regex(down.stderr, /storage is not reachable/);
});
