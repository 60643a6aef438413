// The contracts against MongoDB, when MONGODB_URI names one (there is no MongoDB server
// package on our machines). Without it, these tests are reported as skipped, never faked.

import test from 'ava';
import { MongoClient, type Db } from 'mongodb';
import { MongoAccountStore } from '../../src/accounts/mongodb-store.ts';
import { MongoStorage } from '../../src/storage/mongodb.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.log('MongoDB contract tests SKIPPED: set MONGODB_URI (a replica set, for merges) to run them.');
  test.skip('MongoDB adapter and account store contracts (skipped: MONGODB_URI is not set)', () => {});
} else {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  const db: Db = client.db(`broker_contract_${Date.now()}`);
  const accounts = new MongoAccountStore(client, db);
  test.before(() => accounts.init());
  test.after.always(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });
  adapterContract(test, 'mongodb', () => new MongoStorage(db));
  accountStoreContract(test, 'mongodb', () => accounts);
}
