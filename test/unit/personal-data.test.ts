// The one erasure (issue: account administration): an erasure interrupted after the
// account went (a storage failure, a crash) is finished by asking again, which still
// answers "no such account". Revoking an app's access ends the session its token exchanges
// kept (no browser holds it) and takes the app out of the person's browser sessions. A merge
// whose relying parties cannot be told still logs the person in. The person's recent logins
// are each login the linker lets through, joined by a merge and taken by the erasure.

import test from 'ava';
import { Writable } from 'node:stream';
import type { AccountId } from '../../src/accounts/account.ts';
import { AccountLinker } from '../../src/accounts/linking.ts';
import { LOGIN_HISTORY_MODEL, LOGINS_KEPT } from '../../src/privacy/login-history.ts';
import { eventually } from '../helpers/wait.ts';
import { offlineProvider, providerFor } from '../../src/provider.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { LogoutNotices } from '../../src/oidc/logout-notices.ts';
import { openStores } from '../../src/stores.ts';
import type { AppId, Openid, Unionid } from '../../src/wechat/types.ts';

async function withPersonalData() {
  const config = await loadConfig({ WECHAT_SIMULATOR_PORT: '0' });
  const log = createLogger('silent');
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  const { personalData } = await offlineProvider(config, stores, new LogoutNotices(log), log);
  return { stores, personalData, linker: new AccountLinker(stores.accounts) };
}

/** The stores, with a logger whose lines the test reads. */
async function withLog() {
  const config = await loadConfig({ WECHAT_SIMULATOR_PORT: '0' });
  let text = '';
  const log = createLogger('info', new Writable({ write(chunk, _encoding, done) { text += String(chunk); done(); } }));
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  return { config, log, stores, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('revoking an app ends the session its token exchanges kept, and takes it out of the person\'s browser sessions', async (t) => {
  const { stores, personalData, linker } = await withPersonalData();
  t.teardown(() => stores.close());
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-revoking' as Openid }, client: 'mini' });
  const sessions = stores.protocol.adapter('Session');
  await stores.protocol.adapter('Grant').upsert('g-mini', { jti: 'g-mini', kind: 'Grant', accountId: person.id, clientId: 'mini', openid: { scope: 'openid' } }, 3600);
  await sessions.upsert('exchange', { jti: 'exchange', accountId: person.id, authorizations: { mini: { grantId: 'g-mini', exchanged: true } as object } }, 3600);
  await sessions.upsert('browser', { jti: 'browser', accountId: person.id, authorizations: { mini: { sid: 'sid-1', grantId: 'g-mini' }, rp: { sid: 'sid-2' } } }, 3600);
  t.true(await personalData.revoke(person.id as AccountId, 'mini', { by: 'cli' }));
  t.is(await sessions.find('exchange'), undefined, 'the exchange\'s session is gone');
  t.deepEqual((await sessions.find('browser'))?.authorizations, { rp: { sid: 'sid-2' } }, 'the browser session stays, without the app');
});

test('an erasure interrupted after the account went is finished by asking again', async (t) => {
  const { stores, personalData, linker } = await withPersonalData();
  t.teardown(() => stores.close());
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-interrupted' as Openid }, client: 'rp' });
  const sessions = stores.protocol.adapter('Session');
  await sessions.upsert('s1', { jti: 's1', accountId: person.id, authorizations: {} }, 3600);
  await linker.erase(person.id);
  t.is((await sessions.findByAccount(person.id)).length, 1, 'the interruption: the account is gone, its session is not');
  t.is(await personalData.erase(person.id as AccountId, { by: 'cli' }), undefined, 'no such account');
  t.deepEqual(await sessions.findByAccount(person.id), [], 'and what was left is gone');
});

test('a merge whose relying parties cannot be told (storage failing as the grants are read) still logs the person in, and the operator reads why', async (t) => {
  const { config, log, stores, lines } = await withLog();
  t.teardown(() => stores.close());
  // The grants' reads fail; the rest of the storage works.
  const adapter = stores.protocol.adapter.bind(stores.protocol);
  const failing = { ...stores, protocol: Object.assign(Object.create(stores.protocol) as typeof stores.protocol, {
    adapter: (model: string) => (model === 'Grant' ? { ...adapter(model), findByAccount: () => Promise.reject(new Error('storage down')) } : adapter(model)),
  }) };
  let clock = Date.now();
  const linker = new AccountLinker(stores.accounts, () => (clock += 1000));
  await providerFor({ ...config, clients: config.clients ?? [] }, failing, { linker, notices: new LogoutNotices(log), log });
  const older = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-base-only' as Openid }, client: 'rp' });
  await linker.resolve({ identity: { appid: 'wxbbbbbbbbbbbbbbbb' as AppId, openid: 'o-qr' as Openid }, unionid: 'u-merging' as Unionid, client: 'rp' });
  const merged = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-base-only' as Openid }, unionid: 'u-merging' as Unionid, client: 'rp' });
  t.is(merged.id, older.id, 'logged in: the merge is done');
  t.true(lines().some((line) => line.msg === 'accounts merged, but the relying parties could not be told' && line.sub === older.id && (line.err as { message?: string } | undefined)?.message === 'storage down'));
});

test('two accounts merged into one: what operators did about either is on the survivor\'s list', async (t) => {
  const { stores, personalData } = await withPersonalData();
  t.teardown(() => stores.close());
  let clock = Date.now();
  const linker = new AccountLinker(stores.accounts, () => clock++);
  linker.onMerged((into, absorbed) => personalData.merged(into, absorbed));
  const unionid = 'u-merging' as Unionid;
  const older = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-older' as Openid }, client: 'rp' });
  const younger = await linker.resolve({ identity: { appid: 'wxbbbbbbbbbbbbbbbb' as AppId, openid: 'o-younger' as Openid }, unionid, client: 'rp' });
  await personalData.accessed({ sub: older.id, outcome: 'ok', action: 'show', by: 'console' });
  await personalData.accessed({ sub: younger.id, outcome: 'ok', action: 'export', by: 'admin' });
  await linker.resolve({ identity: older.identities[0]!, unionid, client: 'rp' });
  const kept = await personalData.accessesOf(older.id as AccountId);
  t.deepEqual(kept.map(({ action, by }) => `${by}:${action}`).sort(), ['admin:export', 'console:show']);
  t.true(kept[0]!.at >= kept[1]!.at, 'newest first');
  t.deepEqual(await personalData.accessesOf(younger.id as AccountId), [], 'no list of its own any more');
});

test('the person\'s recent logins: each login let through, newest first, the latest 20; a merge joins the absorbed account\'s; no client, or a suspension, is no login; the erasure takes them', async (t) => {
  const { stores, personalData } = await withPersonalData();
  t.teardown(() => stores.close());
  let clock = Date.UTC(2026, 11, 1);
  const linker = new AccountLinker(stores.accounts, () => clock++);
  linker.onMerged((into, absorbed) => personalData.merged(into, absorbed));
  linker.onLogin((account, login, place) => personalData.loggedIn(account, login, place));
  const mp = { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-history' as Openid };
  const person = await linker.resolve({ identity: mp, client: 'shop', device: 'WeChat · iOS' });
  await linker.resolve({ identity: mp, client: 'blog' });
  await linker.resolve({ identity: mp });
  const sub = person.id as AccountId;
  t.deepEqual((await personalData.loginsOf(sub)).map((login) => login.client), ['blog', 'shop'], 'newest first; facts without a client are no login');
  t.deepEqual((await personalData.export(sub, 'https://login.example.com'))?.recent_logins.map(({ client, device }) => [client, device]), [['blog', null], ['shop', 'WeChat · iOS']], 'in the export, with the device where there was one');
  await linker.deviceConfirmed(person, { at: clock++, appid: mp.appid, client: 'tv' }, 'Chrome · Android');
  const exported = (await personalData.export(sub, 'https://login.example.com'))?.recent_logins;
  t.like(exported?.[0], { client: 'tv', device: 'Chrome · Android', device_flow: true }, 'a device\'s login (RFC 8628) the person confirmed in a browser, said so in the export');
  t.false(exported?.[1]?.device_flow, 'a login of its own is none');
  t.is((await stores.accounts.findById(person.id))?.lastLogin?.client, 'blog', 'a device\'s confirmation is no WeChat login of the account');
  t.false('device' in ((await stores.accounts.findById(person.id))?.lastLogin ?? {}), 'the account keeps no device');

  for (let index = 0; index < LOGINS_KEPT; index += 1) await linker.resolve({ identity: mp, client: `rp-${index}` });
  const kept = await personalData.loginsOf(sub);
  t.is(kept.length, LOGINS_KEPT);
  t.is(kept[0]!.client, `rp-${LOGINS_KEPT - 1}`, 'the latest kept, the oldest dropped');

  const unionid = 'u-history' as Unionid;
  const other = await linker.resolve({ identity: { appid: 'wxbbbbbbbbbbbbbbbb' as AppId, openid: 'o-history-2' as Openid }, unionid, client: 'younger-app' });
  await linker.resolve({ identity: mp, unionid, client: 'merging' });
  const merged = await personalData.loginsOf(sub);
  t.deepEqual(merged.slice(0, 2).map((login) => login.client), ['merging', 'younger-app'], 'the absorbed account\'s login joined, in its place');
  t.deepEqual(await personalData.loginsOf(other.id as AccountId), [], 'no list of its own any more');

  await personalData.suspend(sub, { reason: 'a test' }, { by: 'cli' });
  await t.throwsAsync(linker.resolve({ identity: mp, client: 'refused' }));
  t.is((await personalData.loginsOf(sub))[0]!.client, 'merging', 'a login a suspension refused is not one');

  await personalData.erase(sub, { by: 'cli' });
  t.deepEqual(await personalData.loginsOf(sub), [], 'gone with the account');
  t.is(await stores.durable.adapter(LOGIN_HISTORY_MODEL).find(sub), undefined);
});

test('a login the person disowns: marked with when they said so (in the export too), a warning line for the company, signed out everywhere; a login they never had is no such login', async (t) => {
  const { config, log, stores, lines } = await withLog();
  t.teardown(() => stores.close());
  // The broker's own wiring: the provider's parts hear of the linker's logins.
  const linker = new AccountLinker(stores.accounts);
  const { personalData } = await providerFor({ ...config, clients: config.clients ?? [] }, stores, { linker, notices: new LogoutNotices(log), log });
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-disowning' as Openid }, client: 'shop', device: 'Edge · Windows' });
  const sub = person.id as AccountId;
  const sessions = stores.protocol.adapter('Session');
  await sessions.upsert('s-disowned', { jti: 's-disowned', accountId: sub, authorizations: {} }, 3600);
  const [login] = await personalData.loginsOf(sub);
  t.is(await personalData.disownLogin(sub, login!.at + 1), undefined, 'no such login');
  t.is((await sessions.findByAccount(sub)).length, 1, 'and nothing happened');
  t.like(await personalData.disownLogin(sub, login!.at), { client: 'shop', device: 'Edge · Windows' });
  t.true(typeof (await personalData.loginsOf(sub))[0]!.disowned === 'number');
  t.regex(String((await personalData.export(sub, 'https://login.example.com'))?.recent_logins[0]?.disowned_at), /^\d{4}-\d{2}-\d{2}T/);
  t.deepEqual(await sessions.findByAccount(sub), [], 'signed out everywhere');
  const warning = lines().find((line) => line.msg === 'a person says a login was not theirs');
  t.like(warning, { level: 40, privacy: { sub, login: { client: 'shop' } } });
  t.false('deviceFlow' in (warning as { privacy: { login: object } }).privacy.login);

  // A device's login confirmed with its code, disowned: what device-code phishing looks like, said so to the company.
  await linker.deviceConfirmed(person, { at: login!.at + 10, appid: person.lastLogin!.appid, client: 'tv' }, 'Chrome · Android');
  t.like(await personalData.disownLogin(sub, login!.at + 10), { client: 'tv', deviceFlow: true });
  const phished = lines().filter((line) => line.msg === 'a person says a login was not theirs').at(-1);
  t.like(phished, { privacy: { sub, login: { client: 'tv', device: 'Chrome · Android', deviceFlow: true } } });
});

test('a login kept just after another instance erased the account (its list forgotten before this write): the list goes after all', async (t) => {
  const { stores, personalData, linker } = await withPersonalData();
  t.teardown(() => stores.close());
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-erased-meanwhile' as Openid }, client: 'shop' });
  // The other instance's erasure: the account gone, the list forgotten; then this instance keeps the login it resolved just before.
  await linker.erase(person.id);
  await personalData.loggedIn(person, person.lastLogin!, { device: 'Edge · Windows' });
  // A read waits for the write under way: the list is back for a moment.
  t.is((await personalData.loginsOf(person.id as AccountId)).length, 1);
  const lists = stores.durable.adapter(LOGIN_HISTORY_MODEL);
  t.true(await eventually(async () => (await lists.find(person.id)) === undefined), 'nothing of the erased person stays');
});

test('a login\'s entry is written beside the login, and settled() waits for it (what a shutdown waits for before storage closes)', async (t) => {
  const { config, log, stores } = await withLog();
  t.teardown(() => stores.close());
  // The lists' writes wait at a gate the test opens.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  const durable = stores.durable.adapter.bind(stores.durable);
  const gated = (model: string) => {
    const adapter = durable(model);
    if (model !== LOGIN_HISTORY_MODEL) return adapter;
    return Object.assign(Object.create(null) as typeof adapter, {
      find: (key: string) => adapter.find(key),
      insert: async (...args: Parameters<typeof adapter.insert>) => { await gate; return adapter.insert(...args); },
    });
  };
  const slow = { ...stores, durable: { ...stores.durable, adapter: gated } };
  const linker = new AccountLinker(stores.accounts);
  const { personalData } = await providerFor({ ...config, clients: config.clients ?? [] }, slow, { linker, notices: new LogoutNotices(log), log });
  const person = await linker.resolve({ identity: { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-settling' as Openid }, client: 'shop', device: 'Edge · Windows' });
  let settled = false;
  const settling = personalData.settled().then(() => { settled = true; });
  await new Promise((resolve) => setImmediate(resolve));
  t.false(settled, 'the login went on; its entry is still on its way');
  open();
  await settling;
  t.like(await durable(LOGIN_HISTORY_MODEL).find(person.id), { entries: [{ client: 'shop', device: 'Edge · Windows' }] }, 'in storage once settled');
});
