// Official Account web authorization inside the WeChat browser: snsapi_base whenever it is
// enough, snsapi_userinfo otherwise, and one `sub` per person across both channels.
// Each test has a broker of its own, so that who is "new" depends on that test alone.

import test from 'ava';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { eventually } from '../helpers/wait.ts';
import { loginByQr, loginInWeChat, startQrLogin } from '../helpers/wechat.ts';

let browser: Browser;
let rpServer: RpServer;

test.before(async () => {
  [browser, rpServer] = await Promise.all([launchChromium(), startRpServer()]);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), rpServer?.close()]);
});

/** A broker of the test's own, and the first-party RP at it. */
async function freshBroker(t: import('ava').ExecutionContext): Promise<{ broker: RunningBroker; rp: Rp }> {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)) });
  t.teardown(() => broker.stop());
  return { broker, rp: await createRp(broker.issuer, rpServer) };
}

test.serial('only openid asked: silent snsapi_base, no WeChat sheet, and an account with the openid only', async (t) => {
  const { broker, rp } = await freshBroker(t);
  const { claims, userinfo, scopes } = await loginInWeChat(browser, rp, broker.simulator, 'chen', { params: { scope: 'openid' } });
  t.deepEqual(scopes, ['snsapi_base']);
  t.truthy(claims.sub);
  t.is(userinfo.nickname, undefined);
});

test.serial('profile asked of a new person: snsapi_base first, then snsapi_userinfo with WeChat\'s sheet', async (t) => {
  const { broker, rp } = await freshBroker(t);
  const { userinfo, scopes } = await loginInWeChat(browser, rp, broker.simulator, 'alice', { allow: true });
  t.deepEqual(scopes, ['snsapi_base', 'snsapi_userinfo']);
  t.is(userinfo.nickname, '小爱 Alice 🌸');
  t.truthy(userinfo.wechat_unionid);
});

test.serial('a returning person whose account has what is asked: snsapi_base only', async (t) => {
  const { broker, rp } = await freshBroker(t);
  await loginInWeChat(browser, rp, broker.simulator, 'alice', { allow: true });
  const again = await loginInWeChat(browser, rp, broker.simulator, 'alice');
  t.deepEqual(again.scopes, ['snsapi_base'], 'alice already has a profile and a unionid');
  t.is(again.userinfo.nickname, '小爱 Alice 🌸');
});

test.serial('one person, one sub: QR login on the desktop and web authorization in WeChat', async (t) => {
  const { broker, rp } = await freshBroker(t);
  const inWeChat = await loginInWeChat(browser, rp, broker.simulator, 'alice', { allow: true });
  const byQr = await loginByQr(browser, rp, /Alice/);
  t.is(byQr.claims.sub, inWeChat.claims.sub);
  t.is(byQr.userinfo.wechat_unionid, inWeChat.userinfo.wechat_unionid);
  t.not(byQr.userinfo.wechat_openid, inWeChat.userinfo.wechat_openid, 'each login reports the openid of its own app');
});

test.serial('an openid-only account and a QR account of the same person merge into the older, and the younger sub still works', async (t) => {
  const { broker, rp } = await freshBroker(t);
  const older = await loginInWeChat(browser, rp, broker.simulator, 'chen', { params: { scope: 'openid' } });
  const younger = await loginByQr(browser, rp, /陈大文/);
  t.not(younger.claims.sub, older.claims.sub, 'nothing ties them together yet: no unionid on the openid-only account');
  const youngerToken = (await loginByQr(browser, rp, /陈大文/)).tokens;
  const merged = await loginInWeChat(browser, rp, broker.simulator, 'chen', { allow: true });
  t.is(merged.claims.sub, older.claims.sub, 'the unionid links both: the older account wins');
  t.is(merged.userinfo.nickname, '陈大文');
  const afterMerge = await loginByQr(browser, rp, /陈大文/);
  t.is(afterMerge.claims.sub, older.claims.sub);
  const stillWorks = await oidc.fetchUserInfo(rp.config, youngerToken.access_token, younger.claims.sub);
  t.is(stillWorks.sub, younger.claims.sub);
  t.is(stillWorks.nickname, '陈大文');
});

test.serial('a merge is told to each app that knew the absorbed sub and asked to hear (its security_events_uri): which sub it is now, pairwise too; an app that never knew the person hears nothing', async (t) => {
  const secret = (id: string) => `${id}-secret-0123456789abcdef0123456789`;
  const partner = (id: string) => ({
    client_id: id, client_secret: secret(id), redirect_uris: [rpServer.callback], subject_type: 'pairwise', scope: 'openid profile', security_events_uri: rpServer.securityEvents,
  });
  const clients = testClients(rpServer.origin).map((client) => (client.client_id === 'first-party' ? { ...client, security_events_uri: rpServer.securityEvents } : client));
  const broker = await startBroker({
    PAIRWISE_SECRET: 'a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5',
    CLIENTS_FILE: writeClientsFile([...clients, partner('partner'), partner('bystander')]),
  });
  t.teardown(() => broker.stop());
  const rp = await createRp(broker.issuer, rpServer);
  const partnerRp = await createRp(broker.issuer, rpServer, 'partner', secret('partner'));
  const atPartner = async () => {
    const { context, page } = await newPerson(browser, 'desktop', 'en');
    try {
      const check = await startQrLogin(page, partnerRp, { scope: 'openid profile' }, /陈大文/);
      await page.getByRole('button', { name: /Allow/ }).click();
      return (await partnerRp.finish(await partnerRp.landed(page), check)).claims()!.sub;
    } finally {
      await context.close();
    }
  };

  const older = await loginInWeChat(browser, rp, broker.simulator, 'chen', { params: { scope: 'openid' } });
  const younger = await loginByQr(browser, rp, /陈大文/);
  const youngerAtPartner = await atPartner();
  t.not(younger.claims.sub, older.claims.sub);
  const since = rpServer.securityEventTokens().length;
  const merged = await loginInWeChat(browser, rp, broker.simulator, 'chen', { allow: true });
  t.is(merged.claims.sub, older.claims.sub, 'the older account survives');

  await eventually(() => rpServer.securityEventTokens().length >= since + 2);
  t.true(await broker.logged((line) => line.msg === 'accounts merged: one person'));
  const told = await rpServer.securityEventsSince(since, broker.issuer);
  t.deepEqual([...told.keys()].sort(), ['first-party', 'partner'], 'the company\'s own app, and the partner that knew the absorbed sub; never the bystander');
  const event = `${broker.issuer}/events/account-merged`;
  const subject = (sub: string) => ({ format: 'iss_sub', iss: broker.issuer, sub });
  t.deepEqual(told.get('first-party')?.sub_id, subject(younger.claims.sub));
  t.deepEqual(told.get('first-party')?.events, { [event]: { merged_into: subject(older.claims.sub) } });
  // The partner's next login gives the survivor's pairwise sub: the one the event named.
  const partnerNow = await atPartner();
  t.not(partnerNow, youngerAtPartner);
  t.deepEqual(told.get('partner')?.sub_id, subject(youngerAtPartner), 'the pairwise sub it knew');
  t.deepEqual(told.get('partner')?.events, { [event]: { merged_into: subject(partnerNow) } }, 'and the pairwise sub it sees from now on');
  t.is(rpServer.securityEventTokens().length, since + 2, 'logins that merge nothing tell nothing');
});
