// What a person's page shows of operators' calls about them (privacy/access-log.ts): newest
// first, the latest 100; what a store returns that is not an entry is left out; two accounts
// merged into one keep both lists, in order; an erased account's list goes. The same lists
// (privacy/account-entries.ts) keep a person's logins, every one of those at the same moment.

import test from 'ava';
import { ACCESS_LOG_MODEL, ACCESSES_KEPT, AccessLog } from '../../src/privacy/access-log.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { LOGIN_HISTORY_MODEL, LoginHistory } from '../../src/privacy/login-history.ts';
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

test('a person\'s logins on twenty devices at the same moment are all in their list (each write reads again when another got in first)', async (t) => {
  const history = new LoginHistory(new MemoryStorage().adapter(LOGIN_HISTORY_MODEL));
  await Promise.all(Array.from({ length: 20 }, (_, index) => history.record('person', { at: 1_000 + index, appid: 'wxaaaaaaaaaaaaaaaa' as AppId, client: 'rp', device: `device ${index}` })));
  const kept = await history.of('person');
  t.is(kept.length, 20);
  t.deepEqual(kept.map((login) => login.at), Array.from({ length: 20 }, (_, index) => 1_019 - index), 'newest first');
});
