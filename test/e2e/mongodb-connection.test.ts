// The broker's MongoDB connection against a wire-protocol stand-in (test/helpers/
// mongo-standin.ts says what it does not cover): MongoDB down when the broker starts and
// up later, down again and back, and a standalone server refused at start.

import test from 'ava';
import { startBroker } from '../helpers/broker.ts';
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
    const accounts = created.find((command) => command.body.createIndexes === 'accounts');
    t.truthy(accounts, 'the account indexes were made');
    t.deepEqual((accounts!.body.indexes as Array<Record<string, unknown>>).find((index) => index.name === 'unionid_1'), {
      key: { unionid: 1 }, name: 'unionid_1', unique: true, partialFilterExpression: { unionid: { $type: 'string' } },
    }, 'the unique unionid index covers string unionids only');
    t.true(created.some((command) => command.body.createIndexes === 'oidc_Session'), 'the protocol indexes were made before readiness');
    t.true(mongo.commands.some((command) => command.name === 'update' && command.body.update === 'accounts'), 'older null values were migrated');

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
