// The one erasure (issue: account administration): an erasure interrupted after the
// account went (a storage failure, a crash) is finished by asking again, which still
// answers "no such account".

import test from 'ava';
import type { AccountId } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { personalDataFor } from '../../src/provider.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { LogoutNotices } from '../../src/oidc/logout-notices.ts';
import { openStores } from '../../src/stores.ts';
import type { AppId, Openid } from '../../src/wechat/types.ts';

test('an erasure interrupted after the account went is finished by asking again', async (t) => {
  const config = await loadConfig({ WECHAT_SIMULATOR_PORT: '0' });
  const log = createLogger('silent');
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  t.teardown(() => stores.close());
  const personalData = await personalDataFor(config, stores, new LogoutNotices(log), log);
  const linker = new AccountLinker(stores.accounts);
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-interrupted' as Openid }, client: 'rp' });
  const sessions = stores.protocol.adapter('Session');
  await sessions.upsert('s1', { jti: 's1', accountId: person.id, authorizations: {} }, 3600);
  await linker.erase(person.id);
  t.is((await sessions.findByAccount(person.id)).length, 1, 'the interruption: the account is gone, its session is not');
  t.is(await personalData.erase(person.id as AccountId, { by: 'cli' }), undefined, 'no such account');
  t.deepEqual(await sessions.findByAccount(person.id), [], 'and what was left is gone');
});
