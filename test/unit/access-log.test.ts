// What a person's page shows of operators' calls about them (privacy/access-log.ts): newest
// first, the latest 100; what a store returns that is not an entry is left out; two accounts
// merged into one keep both lists, in order; an erased account's list goes. The same lists
// (privacy/account-entries.ts) keep a person's logins, every one of those at the same moment;
// a write overtaken by another instance's every time it tries is a ListOvertakenError.

import test from 'ava';
import { ACCESS_LOG_MODEL, ACCESSES_KEPT, AccessLog } from '../../src/privacy/access-log.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { LOGIN_HISTORY_MODEL, LOGINS_KEPT, LoginHistory } from '../../src/privacy/login-history.ts';
import { ListOvertakenError } from '../../src/privacy/account-entries.ts';
import type { AppId } from '../../src/wechat/types.ts';

test('newest first, the latest 100; a merge joins two lists in order; a stored entry that is not one is left out; forget takes it all', async (t) => {
  const storage = new MemoryStorage();
  const log = new AccessLog(storage.adapter(ACCESS_LOG_MODEL));
  for (let at = 1; at <= ACCESSES_KEPT + 5; at += 1) await log.record('older', { at, action: 'show', by: 'console' });
  const kept = await log.of('older');
  t.is(kept.length, ACCESSES_KEPT);
  t.deepEqual([kept[0]?.at, kept.at(-1)?.at], [ACCESSES_KEPT + 5, 6], 'the newest kept, the oldest dropped');

  await log.record('younger', { at: 50.5, action: 'export', by: 'admin' });
  await log.absorb('older', ['younger', 'nobody']);
  const merged = await log.of('older');
  t.is(merged.length, ACCESSES_KEPT);
  t.true(merged.some((entry) => entry.action === 'export' && entry.by === 'admin'), 'the absorbed account\'s entry, in its place');
  t.deepEqual(merged.map((entry) => entry.at), [...merged.map((entry) => entry.at)].sort((a, b) => b - a));
  t.deepEqual(await log.of('younger'), [], 'gone from the absorbed account');

  await storage.adapter(ACCESS_LOG_MODEL).upsert('odd', { entries: [
    { at: 'yesterday', action: 'show', by: 'console' }, { at: 1, action: 'show', by: 'someone' }, null, { at: 3, action: 'show', by: 'admin', who: 7 }, { at: 2, action: 'find', by: 'cli' },
  ] }, 60);
  t.deepEqual(await log.of('odd'), [{ at: 2, action: 'find', by: 'cli' }]);
  await log.record('odd', { at: 4, action: 'show', by: 'admin', who: 'ops-tool' });
  t.deepEqual((await log.of('odd'))[0], { at: 4, action: 'show', by: 'admin', who: 'ops-tool' }, 'who, for the console');
  await log.forget('older');
  t.deepEqual(await log.of('older'), []);
});

test('a person\'s logins on twenty devices at the same moment, through two broker instances, are all in their list (a write reads again when the other instance\'s got in first)', async (t) => {
  const storage = new MemoryStorage();
  const instances = [new LoginHistory(storage.adapter(LOGIN_HISTORY_MODEL)), new LoginHistory(storage.adapter(LOGIN_HISTORY_MODEL))];
  await Promise.all(Array.from({ length: 20 }, (_, index) => instances[index % 2]!.record('person', { at: 1_000 + index, appid: 'wxaaaaaaaaaaaaaaaa' as AppId, client: 'rp', device: `device ${index}` })));
  const [kept, seenByOther] = [await instances[0]!.of('person'), await instances[1]!.of('person')];
  t.deepEqual(kept, seenByOther);
  t.is(kept.length, 20);
  t.deepEqual(kept.map((login) => login.at), Array.from({ length: 20 }, (_, index) => 1_019 - index), 'newest first');
});

test('within one instance the writes of a list take turns: twenty at once, and none is overtaken in storage', async (t) => {
  const adapter = new MemoryStorage().adapter(LOGIN_HISTORY_MODEL);
  let overtaken = 0;
  const counting = (done: boolean) => { overtaken += done ? 0 : 1; return done; };
  // The memory adapter, with the writes storage refused counted (what a list reads and writes, nothing more).
  const counted = {
    find: (key: string) => adapter.find(key),
    insert: async (...args: Parameters<typeof adapter.insert>) => counting(await adapter.insert(...args)),
    replaceIfUnchanged: async (...args: Parameters<typeof adapter.replaceIfUnchanged>) => counting(await adapter.replaceIfUnchanged(...args)),
  } as unknown as typeof adapter;
  const history = new LoginHistory(counted);
  await Promise.all(Array.from({ length: 20 }, (_, index) => history.record('person', { at: 1_000 + index, appid: 'wxaaaaaaaaaaaaaaaa' as AppId })));
  t.is((await history.of('person')).length, 20);
  t.is(overtaken, 0, 'each read, then written, in turn');
});

test('a list another instance writes between every read and write of this one: after the last attempt, a ListOvertakenError (LIST_OVERTAKEN), and the other\'s entries are all there', async (t) => {
  const adapter = new MemoryStorage().adapter(LOGIN_HISTORY_MODEL);
  const other = new LoginHistory(adapter);
  let at = 0;
  // What this instance reads, then another instance's login written before this one writes back.
  const overtaking = {
    find: async (key: string) => {
      const seen = await adapter.find(key);
      at += 1;
      await other.record(key, { at, appid: 'wxbbbbbbbbbbbbbbbb' as AppId });
      return seen;
    },
    insert: (...args: Parameters<typeof adapter.insert>) => adapter.insert(...args),
    replaceIfUnchanged: (...args: Parameters<typeof adapter.replaceIfUnchanged>) => adapter.replaceIfUnchanged(...args),
  } as unknown as typeof adapter;
  const error = await t.throwsAsync(new LoginHistory(overtaking).record('person', { at: 0.5, appid: 'wxaaaaaaaaaaaaaaaa' as AppId }), { instanceOf: ListOvertakenError });
  t.is(error?.code, 'LIST_OVERTAKEN');
  t.regex(error!.message, /^the list of person kept changing: \d+ writes in a row were overtaken$/);
  const kept = await other.of('person');
  t.deepEqual(kept.map((login) => login.at), Array.from({ length: Math.min(at, LOGINS_KEPT) }, (_, index) => at - index), 'every write of the other instance (the latest LOGINS_KEPT)');
  t.false(kept.some((login) => login.appid === 'wxaaaaaaaaaaaaaaaa'), 'and not this one\'s');
});
