// The WeChat client against the simulator over real HTTP: every errcode path, WeChat's
// quirks (text/plain JSON, no token_type, errors as HTTP 200), retries, and no secret in logs.
// Serial: the simulator's clock and fault queue are shared.

import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import type { SimApp } from '../../src/simulator/world.ts';
import { WeChatClient } from '../../src/wechat/client.ts';
import {
  WeChatCodeRejectedError, WeChatCredentialsError, WeChatRateLimitedError, WeChatRequestError, WeChatScopeError, WeChatSnapshotUserError, WeChatUnavailableError,
} from '../../src/wechat/errors.ts';
import type { AppId, WeChatApp } from '../../src/wechat/types.ts';
import { injectFaults, issueCode, simCalls } from '../helpers/simulator.ts';

const MP: SimApp = { kind: 'mp', appid: 'wx00000000000000aa', secret: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', bound: true };
const OPEN: SimApp = { kind: 'open', appid: 'wx00000000000000bb', secret: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', bound: true };
const UNBOUND: SimApp = { kind: 'mp', appid: 'wx00000000000000cc', secret: 'cccccccccccccccccccccccccccccccc', bound: false };
const asApp = (app: SimApp, secret = app.secret): WeChatApp => ({ kind: app.kind, appid: app.appid as AppId, secret });

let sim: RunningSimulator;
let logged = '';
let client: WeChatClient;
/** Gives up quickly: for faults that never answer at all, where no machine's speed matters. */
let impatient: WeChatClient;

test.before(async () => {
  sim = await startSimulator({ apps: [MP, OPEN, UNBOUND], callbackHosts: ['broker.example'], host: '127.0.0.1', port: 0 });
  const sink = new Writable({ write(chunk, _encoding, done) { logged += String(chunk); done(); } });
  // Long enough for any answer of a loaded machine; the `timeout` fault never answers within it.
  client = new WeChatClient({ apiUrl: sim.url, timeoutMs: 5000, log: createLogger('debug', sink) });
  impatient = new WeChatClient({ apiUrl: sim.url, timeoutMs: 500, log: createLogger('debug', sink) });
});
test.after.always(() => sim?.close());

const code = (app: SimApp, scope: 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login', who = 'alice', lifeMs?: number) =>
  issueCode(sim.url, app.appid, who, scope, lifeMs);

test.serial('the API answers text/plain JSON without token_type, and the client reads it', async (t) => {
  const raw = await fetch(`${sim.url}/sns/oauth2/access_token?appid=${MP.appid}&secret=${MP.secret}&code=${await code(MP, 'snsapi_userinfo')}&grant_type=authorization_code`);
  t.regex(String(raw.headers.get('content-type')), /^text\/plain/);
  const body = await raw.json() as Record<string, unknown>;
  t.false('token_type' in body);
  const token = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo'));
  t.regex(token.openid, /^o/);
  t.regex(String(token.unionid), /^u/);
  t.is(body.expires_in, 7200);
  t.false(token.snapshotUser);
});

test.serial('snsapi_base: no unionid in the token answer, and userinfo answers 48001', async (t) => {
  const token = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base'));
  t.is(token.unionid, undefined);
  const error = await t.throwsAsync(client.profile(token.accessToken, token.openid, 'zh_CN'), { instanceOf: WeChatScopeError });
  t.is(error?.errcode, 48001);
});

test.serial('an app not bound to an Open Platform account never gets a unionid', async (t) => {
  const token = await client.exchangeCode(asApp(UNBOUND), await code(UNBOUND, 'snsapi_userinfo'));
  t.is(token.unionid, undefined);
  const profile = await client.profile(token.accessToken, token.openid, 'en');
  t.is(profile.unionid, undefined);
  t.is(profile.nickname, '小爱 Alice 🌸');
});

test.serial('the same person has one unionid and a different openid in each app', async (t) => {
  const mp = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo', 'bob'));
  const open = await client.exchangeCode(asApp(OPEN), await code(OPEN, 'snsapi_login', 'bob'));
  t.is(mp.unionid, open.unionid);
  t.not(mp.openid, open.openid);
});

test.serial('codes are single use (40163), unknown (40029), expired (42003), each a WeChatCodeRejectedError with the request id', async (t) => {
  const once = await code(MP, 'snsapi_base');
  await client.exchangeCode(asApp(MP), once);
  const used = await t.throwsAsync(client.exchangeCode(asApp(MP), once), { instanceOf: WeChatCodeRejectedError });
  t.is(used?.errcode, 40163);
  t.regex(String(used?.requestId), /^[A-Za-z0-9_-]+$/);
  const unknown = await t.throwsAsync(client.exchangeCode(asApp(MP), 'nonsense'), { instanceOf: WeChatCodeRejectedError });
  t.is(unknown?.errcode, 40029);
  const stale = await code(MP, 'snsapi_base', 'alice', 0);
  const expired = await t.throwsAsync(client.exchangeCode(asApp(MP), stale), { instanceOf: WeChatCodeRejectedError });
  t.is(expired?.errcode, 42003);
  const otherApp = await t.throwsAsync(client.exchangeCode(asApp(OPEN), await code(MP, 'snsapi_base')), { instanceOf: WeChatCodeRejectedError });
  t.is(otherApp?.errcode, 40029, 'a code is only good for the app it was issued to');
});

test.serial('a wrong secret (40125) or appid (40013) is a WeChatCredentialsError, and the secret is never logged', async (t) => {
  const wrong = 'dddddddddddddddddddddddddddddddd';
  const secret = await t.throwsAsync(client.exchangeCode(asApp(MP, wrong), await code(MP, 'snsapi_base')), { instanceOf: WeChatCredentialsError });
  t.is(secret?.errcode, 40125);
  const appid = await t.throwsAsync(client.exchangeCode({ ...asApp(MP), appid: 'wxnosuchapp' as AppId }, 'x'), { instanceOf: WeChatCredentialsError });
  t.is(appid?.errcode, 40013);
  t.false(logged.includes(wrong));
  t.false(logged.includes(MP.secret));
});

test.serial('WeChat busy (-1) once is retried; twice is WeChatUnavailableError', async (t) => {
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['busy']);
  t.truthy((await client.exchangeCode(asApp(OPEN), await code(OPEN, 'snsapi_login'))).openid);
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['busy', 'busy']);
  const error = await t.throwsAsync(client.exchangeCode(asApp(OPEN), await code(OPEN, 'snsapi_login')), { instanceOf: WeChatUnavailableError });
  t.is(error?.errcode, -1);
});

test.serial('a timeout, garbage, or an empty gbk body is retried once, then WeChatUnavailableError', async (t) => {
  for (const fault of ['timeout', 'garbage', 'gbk-empty'] as const) {
    await injectFaults(sim.url, '/sns/userinfo', [fault, fault]);
    // Both attempts fail whatever the timeout, so the quick client proves the same thing sooner.
    await t.throwsAsync(impatient.profile('token', 'oX' as never, 'zh_CN'), { instanceOf: WeChatUnavailableError }, fault);
    await injectFaults(sim.url, '/sns/userinfo', [fault]);
    const token = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo'));
    t.is((await client.profile(token.accessToken, token.openid, 'zh_CN')).nickname, '小爱 Alice 🌸', `${fault} once is retried`);
  }
});

test.serial('an errcode the broker does not know is a WeChatRequestError, not retried; a rate limit (45011) is typed, not retried either', async (t) => {
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['errcode:40066', 'errcode:45011']);
  const before = (await simCalls(sim.url)).length;
  const error = await t.throwsAsync(client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), { instanceOf: WeChatRequestError });
  t.is(error?.errcode, 40066);
  t.is((await simCalls(sim.url)).length - before, 1);
  await t.throwsAsync(client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), { instanceOf: WeChatRateLimitedError });
  t.is((await simCalls(sim.url)).length - before, 2);
});

test.serial('a snapshot-page user is flagged, with virtual identifiers', async (t) => {
  const first = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo', 'snapshot'));
  const second = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo', 'snapshot'));
  t.true(first.snapshotUser);
  t.not(first.openid, second.openid, 'virtual openids');
});

test.serial('signIn: one call from code to the person; snsapi_base stops at the token; a snapshot user is an error', async (t) => {
  const full = await client.signIn(asApp(MP), 'snsapi_userinfo', await code(MP, 'snsapi_userinfo', 'chen'), 'zh_CN');
  t.is(full.appid as string, MP.appid);
  t.regex(full.openid, /^o/);
  t.regex(String(full.unionid), /^u/);
  t.is(full.profile?.nickname, '陈大文');
  t.regex(String(full.profile?.avatar), /^https:\/\/thirdwx\.qlogo\.cn\//, 'the http avatar is handed out as https');
  const base = await client.signIn(asApp(MP), 'snsapi_base', await code(MP, 'snsapi_base', 'chen'), 'zh_CN');
  t.is(base.openid, full.openid);
  t.is(base.profile, undefined);
  t.is(base.unionid, undefined, 'snsapi_base gives no unionid');
  await t.throwsAsync(client.signIn(asApp(MP), 'snsapi_userinfo', await code(MP, 'snsapi_userinfo', 'snapshot'), 'zh_CN'), { instanceOf: WeChatSnapshotUserError });
});

test.serial('no code and no token ever reaches the log', async (t) => {
  const secretCode = await code(MP, 'snsapi_userinfo');
  const token = await client.exchangeCode(asApp(MP), secretCode);
  await client.profile(token.accessToken, token.openid, 'zh_CN');
  t.false(logged.includes(secretCode));
  t.false(logged.includes(token.accessToken));
  t.true(logged.includes('/sns/userinfo'), 'the calls themselves are logged');
});

test.serial('hostile answers: objects where numbers belong, a 1 MiB body: WeChatUnavailableError, never a crash', async (t) => {
  for (const fault of ['errcode-object', 'huge'] as const) {
    // A code exchange meets the fault once: it is not repeated (see "a code is spent once").
    await injectFaults(sim.url, '/sns/oauth2/access_token', [fault]);
    const error = await t.throwsAsync(client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), undefined, fault);
    t.true(error instanceof WeChatUnavailableError, `${fault}: ${error?.name}: ${error?.message}`);
  }
  await injectFaults(sim.url, '/sns/userinfo', ['huge']);
  const token = await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo'));
  t.truthy((await client.profile(token.accessToken, token.openid, 'zh_CN')).nickname, 'once is retried');
});

test.serial('a code is spent once: its exchange is not repeated after a timeout or an unreadable answer (WeChat may have used it), only after "busy" (-1)', async (t) => {
  for (const fault of ['garbage', 'huge'] as const) {
    await injectFaults(sim.url, '/sns/oauth2/access_token', [fault]);
    const before = (await simCalls(sim.url)).length;
    await t.throwsAsync(client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), { instanceOf: WeChatUnavailableError }, fault);
    t.is((await simCalls(sim.url)).length - before, 1, `${fault}: one call, no repeat that could only meet 40163`);
  }
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['busy']);
  t.truthy((await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_base'))).openid, 'busy: WeChat did nothing, so once more');
});

test.serial('is_snapshotuser: true (a boolean, not 1) is a snapshot user too', async (t) => {
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['snapshot-true']);
  t.true((await client.exchangeCode(asApp(MP), await code(MP, 'snsapi_userinfo', 'chen'))).snapshotUser);
});

test.serial('a WeChat that keeps failing: the circuit opens and calls fail at once, then one probe closes it', async (t) => {
  // The breaker's own clock, moved by the test: a slow machine cannot let the circuit close early.
  let now = Date.now();
  const breaking = new WeChatClient({ apiUrl: sim.url, timeoutMs: 5000, log: createLogger('silent'), breaker: { failures: 2, openMs: 300, now: () => now } });
  await injectFaults(sim.url, '/sns/oauth2/access_token', ['busy', 'busy', 'busy', 'busy']);
  for (let i = 0; i < 2; i += 1) await t.throwsAsync(breaking.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), { instanceOf: WeChatUnavailableError });
  t.false(breaking.available);
  const before = (await simCalls(sim.url)).length;
  const fast = await t.throwsAsync(breaking.exchangeCode(asApp(MP), await code(MP, 'snsapi_base')), { instanceOf: WeChatUnavailableError });
  t.regex(String(fast?.message), /keeps failing/);
  t.is((await simCalls(sim.url)).length, before, 'WeChat was not called while the circuit was open');
  now += 350;
  t.true(breaking.available, 'due for a probe');
  t.truthy((await breaking.exchangeCode(asApp(MP), await code(MP, 'snsapi_base'))).openid, 'the probe went through');
  t.true(breaking.available);
});
