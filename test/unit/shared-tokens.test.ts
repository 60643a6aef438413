// Tokens shared across instances (storage/shared-tokens.ts): one instance at a time fetches,
// under a lock in shared storage; a holder releases only its own lock.

import test from 'ava';
import { SharedTokens } from '../../src/storage/shared-tokens.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';

const options = { renewBeforeMs: 60_000, lockTtlS: 30, waitMs: 5_000 };

test('a fetch that outlived its lock does not release the lock another instance took meanwhile', async (t) => {
  const storage = new MemoryStorage();
  t.teardown(() => storage.close());
  const locks = storage.adapter('Lock');
  const tokens = new SharedTokens('Token', storage, locks, options);
  const token = await tokens.get('app', async () => {
    // While this instance fetches, its lock expires and another instance takes it.
    await locks.destroy('Token:app');
    t.true(await locks.insert('Token:app', { at: Date.now(), owner: 'the other instance' }, 30));
    return { token: 'fresh', expiresIn: 7200 };
  });
  t.is(token, 'fresh');
  t.like(await locks.find('Token:app'), { owner: 'the other instance' }, 'the other instance still holds its lock');
});

test('a holder releases its own lock once it has the token', async (t) => {
  const storage = new MemoryStorage();
  t.teardown(() => storage.close());
  const locks = storage.adapter('Lock');
  const tokens = new SharedTokens('Token', storage, locks, options);
  t.is(await tokens.get('app', async () => ({ token: 'fresh', expiresIn: 7200 })), 'fresh');
  t.is(await locks.find('Token:app'), undefined);
});
