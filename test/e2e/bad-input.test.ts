// Hostile input against every route of the broker and the OIDC endpoints: property-based
// (fast-check) parameters, cookies and headers, plus a table of known nasty cases. None may
// get a 5xx, and a value reflected in a page must come back escaped. The suite says how
// many cases it ran.

import test from 'ava';
import fc from 'fast-check';
import { METHODS, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { loggedPath } from '../../src/ops/request-log.ts';
import { testClients } from '../helpers/broker.ts';
import { useE2e } from '../helpers/e2e.ts';

// The console on (someone is an operator), so that its routes answer as they do in use.
const e2e = useE2e(test, { CONSOLE_OPERATORS: 'an-operator:write' });
let cases = 0;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type: string;
  readonly allow: string | undefined;
}

/** One request exactly as given: raw path (already %-encoded), any headers, a body. */
function send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  cases += 1;
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${e2e.broker.origin}${path}`, { method, headers, timeout: 15_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1'), type: String(response.headers['content-type'] ?? ''), allow: response.headers.allow,
      }));
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** A marker that would be markup if a page reflected it unescaped. */
const MARK = '<x-ray onload=1>"\'&';

/** Every byte, percent-encoded: invalid UTF-8, NUL and controls included. */
const encode = (bytes: Uint8Array): string => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

const valueArb = fc.oneof(
  fc.string({ maxLength: 40 }).map((text) => encode(Buffer.from(text))),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => encode(Buffer.from(text))),
  fc.uint8Array({ maxLength: 40 }).map(encode),
  fc.constantFrom(encode(Buffer.from(MARK)), '%00', '%FF%FE', '%C0%AF', 'a'.repeat(3000), encode(Buffer.from('ｃｌｉｅｎｔ＿ｉｄ')), '%E2%80%AE'),
  fc.constantFrom('first-party', 'spa', 'openid', 'code', 'none', 'login', 'S256', `${encodeURIComponent(e2e.rpServer?.callback ?? '')}`),
);

const PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'prompt', 'code_challenge', 'code_challenge_method',
  'claims', 'max_age', 'id_token_hint', 'post_logout_redirect_uri', 'request_uri', 'code', 'grant_type', 'refresh_token',
  'token', 'wechat_silent', 'via', 'ui_locales', 'response_mode', 'login_hint', 'acr_values',
];

/** Up to six parameters, names from the OIDC vocabulary (or not), some of them twice. */
const queryArb = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 12 }).map((text) => encode(Buffer.from(text)))), valueArb), { maxLength: 6 })
  .chain((pairs) => fc.boolean().map((duplicate) => (duplicate && pairs[0] ? [...pairs, pairs[0]] : pairs)))
  .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&'));

const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/'], ['GET', '/healthz'], ['GET', '/readyz'], ['GET', '/.well-known/openid-configuration'], ['GET', '/jwks'],
  ['GET', '/auth'], ['POST', '/auth'], ['GET', '/AUTH'], ['HEAD', '/auth'], ['POST', '/request'], ['POST', '/token'],
  ['GET', '/me'], ['POST', '/me'], ['POST', '/token/introspection'], ['POST', '/token/revocation'],
  ['GET', '/session/end'], ['POST', '/session/end/confirm'], ['GET', '/interaction/abc'], ['GET', '/interaction/abc/wechat'],
  ['POST', '/interaction/abc/consent'], ['GET', '/demo'], ['GET', '/demo/callback'], ['GET', '/demo/login'], ['GET', '/metrics'],
  ['GET', '/no/such/page'], ['GET', '/interaction/%00/wechat'],
  ['GET', '/account'], ['POST', '/account/revoke'], ['GET', '/account/export'], ['GET', '/account/delete'], ['POST', '/account/delete'],
  ['GET', '/admin/accounts'], ['GET', '/admin/accounts/%00'], ['DELETE', '/admin/accounts/x'], ['DELETE', '/admin/accounts/x/identities/%FF'], ['POST', '/admin/accounts/x/logout'], ['POST', '/account/logout'], ['POST', '/account/logout-device'], ['POST', '/account/not-me'],
  ['POST', '/h/abcdefghjk/confirm'], ['POST', '/h/abcdefghjk/decline'], ['POST', '/interaction/abc/handoff/finish'],
  ['POST', '/wechat/mp/mp/events'], ['POST', '/wechat/platform/platform/auth-events'], ['POST', '/wechat/platform/platform/events/wx0'],
  ['GET', '/device'], ['POST', '/device'], ['GET', '/device/abc'], ['POST', '/device/auth'],
  ['GET', '/lang/en'], ['GET', '/lang/%00'], ['GET', '/interaction/abc/follow'], ['POST', '/interaction/abc/follow/finish'],
  ['GET', '/interaction/abc/handoff'], ['POST', '/interaction/abc/cancel'], ['GET', '/h/abcdefghjk'], ['GET', '/h/abcdefghjk/wechat'],
  ['GET', '/f/abcdefghjk'], ['GET', '/f/abcdefghjk/wechat'], ['POST', '/f/abcdefghjk/confirm'], ['POST', '/f/abcdefghjk/decline'],
  ['POST', '/account/phone'], ['GET', '/admin/accounts/x/export'], ['GET', '/admin/diagnostics'], ['GET', '/demo/logout'],
  ['GET', '/wechat/mp/mp/events'], ['GET', '/wechat/platform/platform/authorize'], ['GET', '/wechat/platform/platform/authorized'],
  ['GET', '/wecom/wecom/events'], ['POST', '/wecom/wecom/events'],
  ['GET', '/console'], ['GET', '/console/find'], ['GET', '/console/accounts/x'], ['GET', '/console/accounts/%00/export'], ['POST', '/console/accounts/x/logout'],
  ['POST', '/console/accounts/x/unlink'], ['GET', '/console/accounts/x/delete'], ['POST', '/console/accounts/%FF/delete'], ['GET', '/console/diagnostics'],
  ['POST', '/console/accounts/x/logout-session'], ['POST', '/console/accounts/x/revoke'], ['DELETE', '/admin/accounts/x/sessions/%00'], ['DELETE', '/admin/accounts/x/grants/y'],
  ['POST', '/console/accounts/x/suspend'], ['POST', '/console/accounts/x/reinstate'], ['PUT', '/admin/accounts/x/suspension'], ['DELETE', '/admin/accounts/x/suspension'],
  ['GET', '/console/suspended'], ['GET', '/admin/suspensions'], ['GET', '/admin/openapi.json'], ['GET', '/admin/accounts/%00/accesses'], ['GET', '/admin/accounts/x/accesses'], ['GET', '/admin/accounts/x/logins'],
];

/** Header values Node lets us send: printable bytes, no CR or LF. */
const headerArb = fc.string({ maxLength: 60 }).map((text) => text.replace(/[^\x20-\x7e]/g, '.'));

const cookieArb = fc.oneof(
  headerArb.map((text) => `_interaction=${text}; _interaction.sig=${text}`),
  headerArb.map((text) => `_session=${text}; _session.sig=x; _interaction_resume=${text}`),
  fc.constant(`_session=${'a'.repeat(6000)}`),
  fc.constant('_session=; _session.sig=; =; ;;'),
);

function check(t: import('ava').ExecutionContext, what: string, answer: Answer): boolean {
  const ok = answer.status > 0 && answer.status < 500 && !(answer.type.includes('html') && answer.body.includes('<x-ray'));
  if (!ok) t.fail(`${what}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return ok;
}

test.serial('random parameters, cookies and bodies on every route: never a 5xx, nothing reflected unescaped', async (t) => {
  // The platform's authorization page needs the ticket WeChat pushes (the simulator's first, just
  // after the broker starts); until it comes, "try again later" (503) is that page's honest answer.
  t.true(await e2e.broker.logged((line) => line.msg === 'component_verify_ticket received'), 'the platform\'s first ticket');
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...ROUTES), queryArb, fc.option(cookieArb, { nil: undefined }), fc.option(queryArb, { nil: undefined }),
    fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x'),
    async ([method, path], query, cookie, body, type) => {
      const headers: Record<string, string> = { ...(cookie ? { cookie } : {}), ...(method === 'POST' ? { 'content-type': type } : {}) };
      const payload = method === 'POST' && body !== undefined ? Buffer.from(body) : undefined;
      return check(t, `${method} ${path}?${query}`, await send(method, `${path}?${query}`, headers, payload));
    },
  ), { numRuns: 900, seed: 20261125 });
  t.pass();
});

test.serial('hostile headers: Host, X-Forwarded-*, Authorization, Accept-Language, User-Agent of any shape', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...ROUTES), headerArb, headerArb, headerArb, headerArb,
    async ([method, path], host, forwarded, authorization, language) => {
      const answer = await send(method, path, {
        host: host || 'x', 'x-forwarded-host': forwarded, 'x-forwarded-for': forwarded, 'x-forwarded-proto': forwarded,
        authorization: `Basic ${authorization}`, 'accept-language': language, 'user-agent': `${language} MicroMessenger`, 'x-request-id': forwarded,
      });
      return check(t, `${method} ${path} with host ${host}`, answer);
    },
  ), { numRuns: 300, seed: 20261126 });
  t.pass();
});

test.serial('any method Node sends (TRACE, PROPFIND, PURGE…) on every route: never a 5xx; where the path is the broker\'s, 405 with Allow and a page in the person\'s language (JSON for a caller that asks for it), else 404', async (t) => {
  const methods = METHODS.filter((method) => method !== 'CONNECT'); // CONNECT asks for a tunnel, not a resource
  await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...methods), async ([, path], method) => (
    check(t, `${method} ${path}`, await send(method, path, {}))
  )), { numRuns: 200, seed: 20261206 });
  for (const method of ['TRACE', 'PROPFIND', 'PUT']) {
    const refused = await send(method, '/account', { 'accept-language': 'en' });
    t.is(refused.status, 405, method);
    t.is(refused.allow, 'HEAD, GET', method);
    t.regex(refused.body, /<p>This page cannot be opened this way\.<\/p>/, method);
    const missing = await send(method, '/no/such/page', { 'accept-language': 'en' });
    t.is(missing.status, 404, method);
    t.regex(missing.body, /<h1>Page not found<\/h1>/, method);
  }
  const api = { authorization: 'Bearer none', accept: 'application/json' };
  const wrongMethod = await send('TRACE', '/admin/accounts/x', api);
  t.like(wrongMethod, { status: 405, allow: 'HEAD, GET, DELETE', type: 'application/json; charset=utf-8' });
  t.deepEqual(JSON.parse(wrongMethod.body), { error: 'method_not_allowed' });
  const unknown = await send('GET', '/admin/nothing', api);
  t.is(unknown.status, 404);
  t.deepEqual(JSON.parse(unknown.body), { error: 'not_found' });
});

test.serial('a body over 64 KiB, declared or chunked: 413 on every route that reads one, one log line each, never a 5xx', async (t) => {
  const routes = ['/wechat/mp/mp/events?signature=x&timestamp=1&nonce=n', '/wechat/platform/platform/auth-events?signature=x&timestamp=1&nonce=n',
    '/account/delete', '/account/revoke', '/interaction/abc/consent', '/h/abcdefghjk/confirm'];
  const huge = Buffer.alloc(70 * 1024, 'a');
  const since = e2e.broker.logs().length;
  for (const path of routes) {
    for (const headers of [{ 'content-type': 'text/xml' }, { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' }] as Array<Record<string, string>>) {
      const answer = await send('POST', path, headers, huge);
      t.is(answer.status, 413, `${path} ${headers['transfer-encoding'] ?? 'with Content-Length'}`);
    }
  }
  t.true(await e2e.broker.logged((line) => line.msg === 'request body too large: refused'
    && e2e.broker.logs().slice(since).filter((seen) => seen.msg === 'request body too large: refused').length === routes.length * 2), 'one line for each');
  t.false(e2e.broker.logs().slice(since).some((line) => line.level === 50), 'no error logged');
});

test.serial('a client that closes the connection halfway through its body: the request line says 400, and nothing is logged as the broker\'s error or printed outside the JSON log', async (t) => {
  const routes = ['/interaction/abc/consent', '/account/revoke', '/h/abcdefghjk/confirm', '/wechat/mp/mp/events?signature=x&timestamp=1&nonce=n'];
  /** The path as the request line writes it: no query, a hand-off link's code left out. */
  const logged = (route: string) => loggedPath(route.split('?')[0]!);
  const since = e2e.broker.logs().length;
  const { port } = new URL(e2e.broker.origin);
  for (const path of routes) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    // Expect: 100-continue: the broker says "100 Continue" once it has the request in hand, and only then does the client send a little and go.
    const handed = new Promise((resolve) => socket.once('data', resolve));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${e2e.broker.origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n`);
    t.regex(String(await handed), /^HTTP\/1\.1 100 Continue/);
    socket.write('page_token=abc');
    socket.resetAndDestroy();
    t.true(await e2e.broker.logged((line) => line.msg === 'request' && (line.req as { path?: string }).path === logged(path), undefined, since), path);
  }
  const lines = e2e.broker.logs().slice(since);
  for (const path of routes) t.like(lines.find((line) => line.msg === 'request' && (line.req as { path?: string }).path === logged(path)), { res: { status: 400 } }, path);
  t.false(lines.some((line) => Number(line.level) >= 50), 'no error logged');
  t.deepEqual(e2e.broker.output().split('\n').filter((line) => /ECONNRESET|aborted/.test(line) && !line.startsWith('{')), [], 'nor printed outside the JSON log');
  t.true(lines.some((line) => line.msg === 'client closed the connection' && line.reason === 'ECONNRESET'), 'a debug line says what happened');
});

test.serial('a table of known nasty cases', async (t) => {
  const client = testClients(e2e.rpServer.origin)[0]!;
  const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  const table: Array<[string, string, Record<string, string>, string?]> = [
    ['GET', `/auth?client_id=first-party&client_id=spa&response_type=code&scope=openid`, {}],
    ['GET', `/auth?client_id=first-party&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(e2e.rpServer.callback)}&state=${encode(Buffer.from(MARK))}&code_challenge=x&code_challenge_method=S256`, {}],
    ['GET', `/auth?client_id=${encode(Buffer.from(MARK))}&response_type=code&scope=openid`, {}],
    ['GET', `/auth?claims=%7B%22userinfo%22%3A%7B%22a%00b%22%3Anull%7D%7D&client_id=first-party&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(e2e.rpServer.callback)}&code_challenge=x&code_challenge_method=S256`, {}],
    ['GET', '/interaction/abc/wechat?code=%00&state=%FF%FE', { cookie: '_interaction=abc; _interaction.sig=forged' }],
    ['GET', `/interaction/abc/wechat?code=${'c'.repeat(5000)}&state=${'s'.repeat(5000)}`, {}],
    ['POST', '/token', { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, 'grant_type=authorization_code&code=%00'],
    ['POST', '/token', { authorization: basic, 'content-type': 'application/json' }, '{"grant_type":'],
    ['POST', '/token', { authorization: 'Basic %%%', 'content-type': 'application/x-www-form-urlencoded' }, 'grant_type=refresh_token&refresh_token=x'],
    ['POST', '/token', { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, `grant_type=authorization_code&code=${'x'.repeat(60_000)}`],
    ['GET', '/me', { authorization: 'Bearer \u0000'.replace('\u0000', '.') }],
    ['GET', `/session/end?post_logout_redirect_uri=${encodeURIComponent('javascript:alert(1)')}&state=${encode(Buffer.from(MARK))}`, {}],
    ['GET', `/session/end?id_token_hint=${'a.b.c'}`, {}],
    ['POST', '/session/end/confirm', { 'content-type': 'application/x-www-form-urlencoded' }, 'xsrf=%00&logout=yes'],
    ['GET', '/.well-known/openid-configuration', { host: 'evil"<b>' }],
    ['GET', '/demo/callback?error=%3Cx-ray%3E&error_description=%3Cx-ray%3E', {}],
  ];
  for (const [method, path, headers, body] of table) check(t, `${method} ${path.slice(0, 100)}`, await send(method, path, headers, body === undefined ? undefined : Buffer.from(body)));
  t.log(`bad-input suite: ${cases} hostile cases sent, none answered 5xx`);
  console.log(`bad-input suite: ${cases} hostile cases sent, none answered 5xx`);
  t.true(cases >= 1000, `ran ${cases} cases`);
});
