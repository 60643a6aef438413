// The contracts against MongoDB, when MONGODB_URI names one (there is no MongoDB server
// package on our machines). Without it, these tests are reported as skipped, never faked.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoAccountStore } from '../../src/accounts/mongodb-store.ts';
import { MongoConnection } from '../../src/storage/mongodb-connection.ts';
import { MongoStorage } from '../../src/storage/mongodb.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.log('MongoDB contract tests SKIPPED: set MONGODB_URI (a replica set, for merges) to run them.');
  test.skip('MongoDB adapter and account store contracts (skipped: MONGODB_URI is not set)', () => {});
} else {
  const database = `broker_contract_${Date.now()}`;
  const url = new URL(uri);
  url.pathname = `/${database}`;
  const problems: string[] = [];
  const connection = new MongoConnection({ uri: url.href, timeoutMs: 5000 }, {
    onProblem: (message) => problems.push(message),
    onReady: () => undefined,
    onFatal: (message) => problems.push(message),
  });
  const storage = new MongoStorage(connection);
  const accounts = new MongoAccountStore(connection);
  test.before(async () => {
    connection.start();
    for (let i = 0; i < 150; i += 1) {
      if (await connection.ping().then(() => true, () => false)) return;
      await sleep(100);
    }
    throw new Error(`MongoDB did not become ready: ${problems.join('; ')}`);
  });
  test.after.always(async () => {
    await connection.client.db(database).dropDatabase().catch(() => undefined);
    await connection.close();
  });
  adapterContract(test, 'mongodb', () => storage);
  accountStoreContract(test, 'mongodb', () => accounts);
}
