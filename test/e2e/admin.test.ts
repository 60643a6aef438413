// The admin API (issue: account administration): operators' tools read who a person is,
// find them by unionid or by one WeChat identity, and export everything held about them,
// with a token the tool's client obtained for itself (client_credentials) and the scope in
// both the token and the client's registration. Refusals follow RFC 6750; every call is
// audited in the log and the metrics, without profile data.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { loginByQr, type LoggedIn } from '../helpers/wechat.ts';
import { accountsCli as cli } from '../helpers/accounts-cli.ts';
import { tempDir } from '../helpers/temp.ts';

let browser: Browser;
let rpServer: RpServer;
let redis: RedisServer;
let broker: RunningBroker;
let alice: LoggedIn;

const tool = (id: string, scope?: string) => ({
  client_id: id, client_secret: `${id}-secret-0123456789abcdef0123456789`, grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
  ...(scope ? { scope } : {}),
});

test.before(async () => {
  [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis()]);
  broker = await startBroker({
    REDIS_URL: redis.url,
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), tool('ops', 'accounts:read accounts:write'), tool('unregistered-scope'), tool('doctor', 'diagnostics:read')]),
  });
  alice = await loginByQr(browser, await createRp(broker.issuer, rpServer), /Alice/);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close()]);
  await redis?.stop();
});

/** A token the tool's client gets for itself. */
async function toolToken(id: string, scope: string): Promise<string> {
  const config = await oidc.discovery(new URL(broker.issuer), id, `${id}-secret-0123456789abcdef0123456789`, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(config, { scope })).access_token;
}

const admin = async (path: string, token?: string, method = 'GET') => {
  const response = await fetch(`${broker.issuer}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> };
};

test.serial('the account, found by sub, by unionid and by one WeChat identity; the export', async (t) => {
  const token = await toolToken('ops', 'accounts:read');
  const sub = alice.claims.sub;
  const shown = await admin(`/admin/accounts/${sub}`, token);
  t.is(shown.status, 200);
  t.is(shown.headers.get('cache-control'), 'no-store');
  t.like(shown.body, { sub, unionid: alice.userinfo.wechat_unionid, profile: { nickname: '小爱 Alice 🌸' }, last_login: { app: 'open', client: 'first-party' }, merged_from: [] });
  const identities = shown.body.identities as Array<{ app: string; appid: string; openid: string }>;
  t.deepEqual(identities.map((identity) => identity.app), ['open'], 'the website app of the QR login, by its id');
  t.is(identities[0]?.openid, String(alice.userinfo.wechat_openid));
  t.like(await admin(`/admin/accounts?unionid=${String(alice.userinfo.wechat_unionid)}`, token), { status: 200, body: { sub } });
  t.like(await admin(`/admin/accounts?sub=${sub}`, token), { status: 200, body: { sub } }, 'a lookup by the account\'s own sub, as the console\'s search makes');
  t.like(await admin(`/admin/accounts?appid=${identities[0]?.appid}&openid=${identities[0]?.openid}`, token), { status: 200, body: { sub } });
  const exported = await admin(`/admin/accounts/${sub}/export`, token);
  t.is(exported.status, 200);
  t.regex(String(exported.headers.get('content-disposition')), /attachment; filename="account-.+\.json"/);
  t.like(exported.body, { issuer: broker.issuer, account: { sub } });
});

test.serial('refusals: no token, a person\'s token, a scope the client is not registered for; unknown subs and bad lookups; never a 5xx', async (t) => {
  const token = await toolToken('ops', 'accounts:read');
  const none = await admin(`/admin/accounts/${alice.claims.sub}`);
  t.is(none.status, 401);
  t.is((none.body as { error?: string }).error, undefined, 'no token, no error code (RFC 6750 3.1)');
  t.is(none.headers.get('www-authenticate'), 'Bearer realm="admin", DPoP realm="admin", algs="ES256 Ed25519 EdDSA"', 'RFC 9449 7.2: either scheme');
  const garbled = await admin(`/admin/accounts/${alice.claims.sub}`, 'not-a-token-0123456789');
  t.like(garbled, { status: 401, body: { error: 'invalid_token' } });
  t.regex(String(garbled.headers.get('www-authenticate')), /^Bearer realm="admin", error="invalid_token"/);
  t.like(await admin(`/admin/accounts/${alice.claims.sub}`, alice.tokens.access_token), { status: 401 }, 'a login\'s access token');
  const other = await admin(`/admin/accounts/${alice.claims.sub}`, await toolToken('unregistered-scope', 'accounts:read'));
  t.like(other, { status: 403, body: { error: 'insufficient_scope' } });
  t.regex(String(other.headers.get('www-authenticate')), /scope="accounts:read"/);
  t.like(await admin('/admin/accounts/no-such-sub', token), { status: 404, body: { error: 'not_found' } });
  t.like(await admin('/admin/accounts/bad%20sub!', token), { status: 404 });
  t.like(await admin('/admin/accounts?unionid=a&openid=b', token), { status: 400, body: { error: 'invalid_request' } });
  t.like(await admin('/admin/accounts', token), { status: 400 });
  t.like(await admin('/admin/accounts?unionid=%00', token), { status: 400 });
});

test.serial('a tool that sends a W3C traceparent finds its calls\' lines by its trace id; an invalid one is left out', async (t) => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const call = (traceparent: string) => fetch(`${broker.issuer}/admin/accounts/${alice.claims.sub}`, { headers: { traceparent } });
  const since = broker.logs().length;
  await call(`00-${trace}-00f067aa0ba902b7-01`);
  t.true(await broker.logged((line) => line.msg === 'admin call refused' && line.traceId === trace && typeof line.reqId === 'string', undefined, since), 'a line logged while the call ran');
  t.true(await broker.logged((line) => line.msg === 'request' && (line.req as { traceId?: string }).traceId === trace, undefined, since), 'the request line');
  const before = broker.logs().length;
  await call(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`);
  t.true(await broker.logged((line) => line.msg === 'request', undefined, before));
  t.false(broker.logs().slice(before).some((line) => 'traceId' in line || 'traceId' in (line.req as object ?? {})), 'an all-zero trace id is invalid (Trace Context 3.2.2.3)');
});

test.serial('every call is audited: the client, the action, the sub, the outcome; no profile data in the log', async (t) => {
  const token = await toolToken('ops', 'accounts:read');
  await admin(`/admin/accounts/${alice.claims.sub}`, token);
  t.true(await broker.logged((line) => {
    const entry = line.admin as { client?: string; action?: string; sub?: string; outcome?: string } | undefined;
    return line.msg === 'admin call' && entry?.client === 'ops' && entry.action === 'show' && entry.sub === alice.claims.sub && entry.outcome === 'ok';
  }));
  t.false(broker.logs().filter((line) => line.admin).some((line) => JSON.stringify(line).includes('Alice')), 'no nickname');
  const metrics = await (await fetch(`${broker.issuer}/metrics`)).text();
  t.regex(metrics, /broker_admin_calls_total\{client="ops",action="show",outcome="ok"\} \d+/);
  t.regex(metrics, /broker_admin_calls_total\{client="unknown",action="show",outcome="invalid_token"\} \d+/);
});

test.serial('probing is attributable: a lookup that finds nobody and a refused call name the client, the action, the identifier asked for and the outcome', async (t) => {
  const reader = await toolToken('ops', 'accounts:read');
  await admin('/admin/accounts?unionid=oProbe-unionid-1', reader);
  t.true(await broker.logged((line) => {
    const entry = line.admin as { client?: string; action?: string; target?: Record<string, string>; outcome?: string } | undefined;
    return line.msg === 'admin call' && entry?.client === 'ops' && entry.action === 'find' && entry.target?.unionid === 'oProbe-unionid-1' && entry.outcome === 'not_found';
  }), 'a lookup that finds nobody');
  await admin('/admin/accounts?appid=wx0000000000000001&openid=oProbe-openid-2', reader);
  t.true(await broker.logged((line) => (line.admin as { target?: Record<string, string> } | undefined)?.target?.openid === 'oProbe-openid-2'));
  await admin('/admin/accounts/probe-sub-3', reader, 'DELETE');
  t.true(await broker.logged((line) => {
    const entry = line.admin as { client?: string; action?: string; target?: Record<string, string>; outcome?: string } | undefined;
    return line.msg === 'admin call refused' && entry?.client === 'ops' && entry.action === 'delete' && entry.target?.sub === 'probe-sub-3' && entry.outcome === 'insufficient_scope';
  }), 'a refused call names the client its token belongs to');
  await admin('/admin/accounts?unionid=oProbe-unionid-4', 'not-a-token-0123456789');
  t.true(await broker.logged((line) => {
    const entry = line.admin as { client?: string; target?: Record<string, string>; outcome?: string } | undefined;
    return line.msg === 'admin call refused' && entry?.client === 'unknown' && entry.target?.unionid === 'oProbe-unionid-4' && entry.outcome === 'invalid_token';
  }));
});

/** `npm run accounts -- …` as an operator runs it, with the broker's storage settings. */
const accountsCli = (...args: string[]) => cli({ REDIS_URL: redis.url, WECHAT_SIMULATOR_PORT: '0' }, ...args);

test.serial('the accounts CLI reads the stores directly: the same JSON as the admin API, audited on stderr; mistakes are one line', async (t) => {
  const sub = alice.claims.sub;
  const shown = await accountsCli('show', sub);
  t.is(shown.status, 0, shown.stderr);
  t.like(shown.json(), { sub, unionid: alice.userinfo.wechat_unionid, last_login: { client: 'first-party' } });
  t.regex(shown.stderr, /"msg":"admin call"/);
  t.regex(shown.stderr, new RegExp(`"client":"cli","action":"show","target":\\{"sub":"${sub}"\\},"outcome":"ok"`));
  t.like((await accountsCli('find', '--unionid', String(alice.userinfo.wechat_unionid))).json(), { sub });
  t.like((await accountsCli('export', sub)).json(), { account: { sub } });
  const missing = await accountsCli('show', 'no-such-sub');
  t.is(missing.status, 2);
  t.regex(missing.stderr, /^accounts: no such account$/m);
  t.regex(missing.stderr, /"action":"show","target":\{"sub":"no-such-sub"\},"outcome":"not_found"/, 'a lookup that finds nobody is audited with what was asked');
  const member = await accountsCli('find', '--wecom-corpid', 'ww1234567890abcdef', '--wecom-userid', 'zhangsan');
  t.regex(member.stderr, /^accounts: no such account$/m);
  t.regex(member.stderr, /"action":"find","target":\{"wecom_corpid":"ww1234567890abcdef","wecom_userid":"zhangsan"\},"outcome":"not_found"/, 'a WeCom member looked up by company and userid');
  t.regex((await accountsCli('find', '--wecom-corpid', 'nope', '--wecom-userid', 'zhangsan')).stderr, /^accounts: wecom_corpid and wecom_userid must be a WeCom corpid and userid$/m);
  const usage = await accountsCli('delete-everything');
  t.is(usage.status, 2);
  t.regex(usage.stderr, /^accounts: usage: npm run accounts -- show <sub>/m);
  const memory = await cli({}, 'show', sub);
  t.regex(memory.stderr, /accounts live in memory inside a running broker/);
});

/** A WeCom non-member (a company's guest) as a dump writes them: the company and the openid it gave them. */
const GUEST = { corpid: 'ww1234567890abcdef', openid: 'wmGuestOfTheCompany1' };

test.serial('a WeCom non-member, imported through the CLI, is found by wecom_corpid and wecom_openid: by the CLI, the admin API, and shown so', async (t) => {
  const file = join(tempDir('guest-import'), 'guest.jsonl');
  writeFileSync(file, `${JSON.stringify({ sub: 'guest-of-the-company', identities: [{ wecom_corpid: GUEST.corpid, wecom_openid: GUEST.openid }] })}\n`);
  const imported = await accountsCli('import', file);
  t.is(imported.status, 0, imported.stderr);
  const identity = { appid: `wecom-guest:${GUEST.corpid}`, openid: GUEST.openid, wecom_corpid: GUEST.corpid, wecom_openid: GUEST.openid };
  const found = await accountsCli('find', '--wecom-corpid', GUEST.corpid, '--wecom-openid', GUEST.openid);
  t.is(found.status, 0, found.stderr);
  t.like(found.json(), { sub: 'guest-of-the-company', identities: [identity] });
  t.regex(found.stderr, /"action":"find","target":\{"wecom_corpid":"ww1234567890abcdef","wecom_openid":"wmGuestOfTheCompany1"\},"outcome":"ok"/, 'audited with what was asked');
  const token = await toolToken('ops', 'accounts:read');
  t.like(await admin(`/admin/accounts?wecom_corpid=${GUEST.corpid}&wecom_openid=${GUEST.openid}`, token), { status: 200, body: { sub: 'guest-of-the-company', identities: [identity] } });
  t.like(await admin(`/admin/accounts?wecom_corpid=${GUEST.corpid}&wecom_openid=wmSomebodyElse`, token), { status: 404 });
  t.like(await admin(`/admin/accounts?wecom_corpid=${GUEST.corpid}&wecom_openid=${encodeURIComponent('not an openid')}`, token), {
    status: 400, body: { error_description: 'wecom_corpid and wecom_openid must be a WeCom corpid and a non-member\'s openid' },
  });
});

interface Described {
  readonly paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }>; headers?: Record<string, unknown> }> }>>;
  readonly components: Record<string, unknown>;
}

test.serial('every answer is what GET /admin/openapi.json describes for its operation and status, by the document\'s own schemas (the last test: it erases Alice)', async (t) => {
  const served = await fetch(`${broker.issuer}/admin/openapi.json`);
  t.is(served.status, 200, 'no token needed: it says nothing the README does not');
  const described = await served.json() as Described;
  // The document's components, by JSON Schema 2020-12 (OpenAPI 3.1's dialect); formats are patterns too.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'https://broker.test/openapi.json', components: described.components });
  const [reader, writer, doctor] = await Promise.all([toolToken('ops', 'accounts:read'), toolToken('ops', 'accounts:write'), toolToken('doctor', 'diagnostics:read')]);
  const call = async (method: string, template: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${broker.issuer}${path}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const answer = described.paths[template]?.[method.toLowerCase()]?.responses[String(response.status)];
    if (!answer) {
      t.fail(`${method} ${path}: ${response.status} is not described`);
      return undefined;
    }
    for (const header of Object.keys(answer.headers ?? {})) t.true(response.headers.has(header), `${method} ${path} ${response.status}: ${header}`);
    const schema = answer.content?.['application/json']?.schema.$ref;
    if (!schema) {
      t.is(text, '', `${method} ${path}: ${response.status} has no body`);
      return undefined;
    }
    const valid = ajv.validate({ $ref: `https://broker.test/openapi.json${schema}` }, JSON.parse(text));
    t.true(valid, `${method} ${path} ${response.status} as ${schema}: ${ajv.errorsText()}\n${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const sub = alice.claims.sub;
  const account = '/admin/accounts/{sub}';
  await call('GET', account, `/admin/accounts/${sub}`, reader);
  await call('GET', account, `/admin/accounts/${sub}`);
  await call('GET', account, '/admin/accounts/no-such-sub', reader);
  await call('GET', '/admin/accounts', `/admin/accounts?unionid=${String(alice.userinfo.wechat_unionid)}`, reader);
  await call('GET', '/admin/accounts', '/admin/accounts?colour=blue', reader);
  await call('GET', '/admin/accounts', `/admin/accounts?wecom_corpid=${GUEST.corpid}&wecom_openid=${GUEST.openid}`, reader);
  const exported = await call('GET', `${account}/export`, `/admin/accounts/${sub}/export`, reader);
  t.true(((exported?.sessions ?? []) as unknown[]).length > 0 && ((exported?.grants ?? []) as unknown[]).length > 0, 'an export with a session and a grant');
  const accesses = await call('GET', `${account}/accesses`, `/admin/accounts/${sub}/accesses`, reader);
  t.like((accesses?.accesses as unknown[] | undefined)?.[0], { action: 'export', by: 'admin', who: 'ops' }, 'newest first, with the client that made it');
  await call('GET', `${account}/accesses`, '/admin/accounts/no-such-sub/accesses', reader);
  const logins = (await call('GET', `${account}/logins`, `/admin/accounts/${sub}/logins`, reader))?.logins as Array<{ client: string | null; device: string | null; disowned_at: string | null }> | undefined;
  t.true((logins ?? []).length > 0 && logins!.every((login) => login.client !== null && login.disowned_at === null), 'the person\'s recent logins, each for a client');
  await call('GET', `${account}/logins`, '/admin/accounts/no-such-sub/logins', reader);
  const suspension = `${account}/suspension`;
  await call('PUT', suspension, `/admin/accounts/${sub}/suspension`, reader, { reason: 'x' });
  await call('PUT', suspension, `/admin/accounts/${sub}/suspension`, writer, { reason: '' });
  const suspended = await call('PUT', suspension, `/admin/accounts/${sub}/suspension`, writer, { reason: 'chargeback', until: '2099-01-31T00:00:00+08:00' });
  t.like(suspended, { suspended: { reason: 'chargeback', until: '2099-01-30T16:00:00.000Z' } });
  await call('GET', '/admin/suspensions', '/admin/suspensions', reader);
  await call('DELETE', suspension, `/admin/accounts/${sub}/suspension`, writer);
  const appid = ((suspended?.identities ?? []) as Array<{ appid: string }>)[0]!.appid;
  await call('DELETE', `${account}/identities/{appid}`, `/admin/accounts/${sub}/identities/${appid}`, writer);
  await call('DELETE', `${account}/sessions/{uid}`, `/admin/accounts/${sub}/sessions/no-such-session`, writer);
  await call('POST', `${account}/logout`, `/admin/accounts/${sub}/logout`, writer);
  await call('DELETE', `${account}/grants/{client}`, `/admin/accounts/${sub}/grants/first-party`, writer);
  await call('GET', '/admin/diagnostics', '/admin/diagnostics', doctor);
  await call('DELETE', account, `/admin/accounts/${sub}`, writer);
  await call('DELETE', account, `/admin/accounts/${sub}`, writer);
});
