// ACCOUNT_RETENTION_DAYS (issue: account administration): with the clock of the logins
// moved back, accounts with no login for longer than the retention are erased with their
// sessions and grants, recent ones stay; on several instances sharing Redis one run per
// interval happens, on whichever instance takes the lock.

import test from 'ava';
import type { AccountId } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { offlineProvider } from '../../src/provider.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { LogoutNotices } from '../../src/oidc/logout-notices.ts';
import { Retention, RETENTION_LOCK_MODEL } from '../../src/privacy/retention.ts';
import { openStores, type Stores } from '../../src/stores.ts';
import type { AppId, Openid } from '../../src/wechat/types.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

const DAY = 86_400_000;
let redis: RedisServer;
const opened: Stores[] = [];

test.before(async () => { redis = await startRedis(); });
test.after.always(async () => {
  await Promise.all(opened.map((stores) => stores.close()));
  await redis?.stop();
});

async function broker(env: Record<string, string>, renewEvery?: number) {
  const config = await loadConfig({ WECHAT_SIMULATOR_PORT: '0', ...env });
  const log = createLogger('silent');
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  opened.push(stores);
  await stores.ready(5000);
  const { personalData } = await offlineProvider(config, stores, new LogoutNotices(log), log);
  const retention = (days: number, locks = stores.protocol.adapter(RETENTION_LOCK_MODEL)) => new Retention({
    days, accounts: stores.accounts, personalData: () => personalData, locks, log, ...(renewEvery ? { renewEvery } : {}),
  });
  return { stores, retention };
}

const person = (openid: string) => ({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: `${openid}-${Math.random()}` as Openid }, client: 'rp' });

for (const [name, env] of [['memory', () => ({})], ['Redis', () => ({ REDIS_URL: redis.url })]] as const) {
  test.serial(`${name}: accounts idle longer than the retention are erased with their sessions and grants; the others stay`, async (t) => {
    const { stores, retention } = await broker(env());
    const longAgo = new AccountLinker(stores.accounts, () => Date.now() - 400 * DAY);
    const lately = new AccountLinker(stores.accounts, () => Date.now() - 10 * DAY);
    const idle = await longAgo.resolve(person('idle'));
    const active = await lately.resolve(person('active'));
    const cameBack = await longAgo.resolve(person('back'));
    await lately.resolve({ ...person('back'), identity: cameBack.identities[0]! });
    await stores.protocol.adapter('Session').upsert('s-idle', { jti: 's-idle', accountId: idle.id, authorizations: {} }, 3600);
    await stores.protocol.adapter('Grant').upsert('g-idle', { jti: 'g-idle', accountId: idle.id, clientId: 'rp' }, 3600);

    t.true((await retention(365).run() ?? 0) >= 1);
    t.is(await stores.accounts.findById(idle.id), undefined, 'a year and more without a login: erased');
    t.deepEqual(await stores.protocol.adapter('Session').findByAccount(idle.id), []);
    t.deepEqual(await stores.protocol.adapter('Grant').findByAccount(idle.id), []);
    t.truthy(await stores.accounts.findById(active.id));
    t.truthy(await stores.accounts.findById(cameBack.id as AccountId), 'created long ago, but logged in lately');
  });

  test.serial(`${name}: an idle account under a suspension that holds is kept (erasing it would let the person back as someone new); one whose suspension ended is erased`, async (t) => {
    // Its own prefix: the test above holds this interval's lock on the default one.
    const { stores, retention } = await broker({ ...env(), REDIS_PREFIX: 'retention-suspended:' });
    const longAgo = new AccountLinker(stores.accounts, () => Date.now() - 400 * DAY);
    const [held, timed, ended] = await Promise.all([longAgo.resolve(person('held')), longAgo.resolve(person('timed')), longAgo.resolve(person('ended'))]);
    await longAgo.suspend(held.id, { by: 'cli', reason: 'fraud' });
    await longAgo.suspend(timed.id, { by: 'cli', reason: 'cooling off', until: Date.now() + DAY });
    await longAgo.suspend(ended.id, { by: 'cli', reason: 'cooling off', until: Date.now() - DAY });
    await retention(365).run();
    t.truthy(await stores.accounts.findById(held.id), 'suspended until reinstated: kept');
    t.truthy(await stores.accounts.findById(timed.id), 'suspended for another day: kept');
    t.is(await stores.accounts.findById(ended.id), undefined, 'its suspension over: idle like any other');
  });
}

test.serial('two instances on one Redis: one run an interval, whichever takes the lock', async (t) => {
  const [a, b] = await Promise.all([broker({ REDIS_URL: redis.url, REDIS_PREFIX: 'retention-lock:' }), broker({ REDIS_URL: redis.url, REDIS_PREFIX: 'retention-lock:' })]);
  const idle = await new AccountLinker(a.stores.accounts, () => Date.now() - 40 * DAY).resolve(person('idle'));
  const runs = await Promise.all([a.retention(30).run(), b.retention(30).run()]);
  t.deepEqual(runs.filter((run) => run === undefined).length, 1, 'the other instance skipped');
  t.is(runs.find((run) => run !== undefined), 1);
  t.is(await b.stores.accounts.findById(idle.id), undefined);
  t.is(await a.retention(30).run(), undefined, 'and no second run within the interval');
});

test.serial('a long run renews its lock as it goes, and stops when another instance holds it meanwhile: runs never overlap', async (t) => {
  const { stores, retention } = await broker({ REDIS_URL: redis.url, REDIS_PREFIX: 'retention-renew:' }, 2);
  const longAgo = new AccountLinker(stores.accounts, () => Date.now() - 400 * DAY);
  for (let i = 0; i < 6; i += 1) await longAgo.resolve(person(`idle-${i}`));
  const locks = stores.protocol.adapter(RETENTION_LOCK_MODEL);
  // The lock lapses mid-run and another instance takes it: as soon as this run looks, it stops.
  const idleSince = stores.accounts.idleSince.bind(stores.accounts);
  stores.accounts.idleSince = async function* (before) {
    let yielded = 0;
    for await (const account of idleSince(before)) {
      if ((yielded += 1) === 2) await locks.upsert('account-retention', { at: Date.now(), holder: 'another instance' }, 3600);
      yield account;
    }
  };
  const erased = await retention(365).run();
  t.is(erased, 1, 'the first account went; at the renewal after the second, the run stopped');
  t.is((await locks.find('account-retention'))?.holder, 'another instance', 'and left the other instance its lock');
});

test.serial('a renewal that finds its lock, but loses it to another instance before it writes (it lapsed just then): the run stops and the lock stays the other\'s', async (t) => {
  const { stores, retention } = await broker({ REDIS_URL: redis.url, REDIS_PREFIX: 'retention-race:' }, 2);
  const longAgo = new AccountLinker(stores.accounts, () => Date.now() - 400 * DAY);
  for (let i = 0; i < 6; i += 1) await longAgo.resolve(person(`idle-${i}`));
  const locks = stores.protocol.adapter(RETENTION_LOCK_MODEL);
  // Another instance acts right after this run's read of its lock at its first renewal: the lock lapsed, and it took it.
  const find = locks.find.bind(locks);
  let reads = 0;
  locks.find = async (id) => {
    const found = await find(id);
    if ((reads += 1) === 1) {
      await locks.destroy(id);
      await locks.insert(id, { at: Date.now(), holder: 'another instance' }, 3600);
    }
    return found;
  };
  const erased = await retention(365, locks).run();
  t.is(erased, 1, 'the first account went; the renewal after the second failed, and the run stopped');
  t.is((await find('account-retention'))?.holder, 'another instance', 'the other instance keeps its lock');
});
