// The contracts against MongoDB, when MONGODB_URI names one (there is no MongoDB server
// package on our machines). Without it, these tests are reported as skipped, never faked.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account, AccountId, Identity } from '../../src/accounts/account.ts';
import { ACCOUNT_FILTERS, MongoAccountStore } from '../../src/accounts/mongodb-store.ts';
import type { AppId, Openid } from '../../src/wechat/types.ts';
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

  /** The stages of a winning plan, nested ones included. */
  const stages = (plan: Record<string, unknown> | undefined): string[] => (plan ? [
    String(plan.stage),
    ...stages(plan.inputStage as Record<string, unknown> | undefined),
    ...((plan.inputStages as Array<Record<string, unknown>> | undefined) ?? []).flatMap(stages),
  ] : []);

  test('mongodb accounts: every account query is served by an index (explain: no COLLSCAN)', async (t) => {
    const collection = connection.collection('accounts');
    const identity: Identity = { appid: 'wxmp' as AppId, openid: 'o-explain' as Openid };
    const account = { id: 'explain' as AccountId, updatedAt: 1, lastLogin: { at: 1, appid: 'wxmp' as AppId } } as Account;
    // Every filter of the store's: a new one without its check here does not compile.
    const filters: Record<keyof typeof ACCOUNT_FILTERS, Record<string, unknown>> = {
      byId: ACCOUNT_FILTERS.byId('explain'),
      anyOf: ACCOUNT_FILTERS.anyOf(['explain', 'explain-2']),
      byUnionid: ACCOUNT_FILTERS.byUnionid('u-explain'),
      byIdentity: ACCOUNT_FILTERS.byIdentity(identity),
      asRead: ACCOUNT_FILTERS.asRead(account, 1),
      olderLogin: ACCOUNT_FILTERS.olderLogin('explain', 2),
      idle: ACCOUNT_FILTERS.idle(Date.now()),
      suspended: ACCOUNT_FILTERS.suspended(),
    };
    for (const [name, filter] of Object.entries(filters)) {
      const explained = await collection.find(filter).explain('queryPlanner') as { queryPlanner: { winningPlan: Record<string, unknown> } };
      const plan = explained.queryPlanner.winningPlan;
      t.false(stages((plan.queryPlan as Record<string, unknown> | undefined) ?? plan).includes('COLLSCAN'), `${name}: ${JSON.stringify(plan)}`);
    }
  });
}
