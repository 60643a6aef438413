// A mobile app's login (移动应用, WeChat's OpenSDK) by token exchange (RFC 8693): the code
// WeChat hands the app (SendAuth) becomes a standard token response with the same `sub` as
// the person's web logins (one unionid under the company's Open Platform account), the
// profile WeChat gave with it, `amr` wechat_app; every refusal a standard OAuth error. The
// simulated WeChat hands out the code the OpenSDK would; openid-client reads the answers.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { qrLoginByFetch } from '../helpers/fetch-login.ts';
import { miniProgramClient, rawExchange, TOKEN_EXCHANGE } from '../helpers/mini-program.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { injectFaults, issueCode, simApp, startTestSimulator } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const APP_CODE = 'urn:wechat:params:oauth:token-type:app_code';
const phone = simApp('app');
const web = simApp('open');
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;

test.before(async () => {
  [rpServer, simulator] = await Promise.all([startRpServer(), startTestSimulator([phone, web])]);
  const appsFile = join(tempDir('broker-mobile-app'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'phone', kind: 'app', appid: phone.appid, secret_env: 'PHONE_SECRET', name: '商城 App' },
  ]));
  const exchangeClient = (id: string, apps: string[]) => ({
    client_id: id, token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token'], response_types: [], wechat_apps: apps,
    scope: 'openid profile wechat offline_access', first_party: true,
  });
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), exchangeClient('shop-app', ['phone']), exchangeClient('web-only', ['web'])]),
    WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, PHONE_SECRET: phone.secret, WECHAT_QR_MODE: 'redirect',
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), simulator?.close(), rpServer?.close()]);
});

/** What WeChat's OpenSDK hands the app `user` confirmed a login in (SendAuth, snsapi_userinfo). */
const sendAuth = (user: string) => issueCode(simulator.url, phone.appid, user, 'snsapi_userinfo');

test.serial('the app\'s code becomes an RFC 8693 token response: the same sub as the person\'s QR login, the profile WeChat gave, amr wechat_app', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, simulator.url, 'bob');
  const onTheWeb = (await rp.finish(new URL(landed), check)).claims()!.sub;

  const app = await miniProgramClient(broker.issuer, 'shop-app');
  const tokens = await oidc.genericGrantRequest(app, TOKEN_EXCHANGE, { subject_token: await sendAuth('bob'), subject_token_type: APP_CODE, scope: 'openid profile wechat offline_access' });
  const claims = tokens.claims()!;
  t.is(claims.sub, onTheWeb, 'one person, one sub, by the unionid');
  t.deepEqual(claims.amr, ['wechat_app']);
  t.is(tokens.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  t.truthy(tokens.refresh_token);
  const userinfo = await oidc.fetchUserInfo(app, tokens.access_token, claims.sub);
  t.is(userinfo.nickname, 'Bob <b>&amp; "quotes"', 'snsapi_userinfo: the profile');
  t.is(typeof userinfo.wechat_openid, 'string', 'the openid in the mobile app');
  t.true(await broker.logged((line) => line.msg === 'mobile app login succeeded' && line.app === 'phone'));
  const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as { grant_types_supported: string[] };
  t.true(discovery.grant_types_supported.includes(TOKEN_EXCHANGE));
});

test.serial('each refusal is a standard OAuth error: a used code, a js_code where no mini program is configured, a client without the app, WeChat down', async (t) => {
  const ask = (body: Record<string, string>) => rawExchange(broker.issuer, { client_id: 'shop-app', subject_token_type: APP_CODE, ...body });
  const code = await sendAuth('alice');
  t.like(await ask({ subject_token: code }), { status: 200 });
  t.like(await ask({ subject_token: code }), { status: 400, body: { error: 'invalid_request', error_description: 'the code is invalid, expired or already used' } });
  t.like(await ask({ subject_token: 'no spaces allowed' }), { status: 400, body: { error: 'invalid_request', error_description: 'subject_token is not a code' } });
  t.like(await ask({ subject_token: await sendAuth('alice'), subject_token_type: 'urn:wechat:params:oauth:token-type:js_code' }), {
    status: 400, body: { error: 'invalid_request', error_description: `unsupported subject_token_type (supported: ${APP_CODE})` },
  });
  t.like(await rawExchange(broker.issuer, { client_id: 'web-only', subject_token: await sendAuth('alice'), subject_token_type: APP_CODE }), {
    status: 400, body: { error: 'unauthorized_client', error_description: 'the client has no mobile app among its wechat_apps' },
  });
  await injectFaults(simulator.url, '/sns/oauth2/access_token', ['errcode:45011', 'errcode:40226', 'errcode:40125']);
  t.like(await ask({ subject_token: await sendAuth('alice') }), { status: 400, body: { error: 'temporarily_unavailable' } }, 'WeChat\'s quota (45011)');
  const blocked = await ask({ subject_token: await sendAuth('alice') });
  t.like(blocked, { status: 400, body: { error: 'invalid_request' } }, 'a person WeChat blocked (40226)');
  t.regex(String(blocked.body.error_description), /high-risk/);
  t.like(await ask({ subject_token: await sendAuth('alice') }), { status: 400, body: { error: 'server_error', error_description: 'the login service is misconfigured' } }, 'a wrong AppSecret (40125)');
  t.true(await broker.logged((line) => String(line.msg).startsWith('mobile app login: WeChat refused the app credentials') && line.level === 50 && line.app === 'phone'), 'the operator hears which app');
});
