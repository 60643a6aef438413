// The OAuth 2.0 Security BCP (RFC 9700) and the OpenID specifications, one test per rule
// the broker is responsible for, as a relying party written by someone else meets them.

import test from 'ava';
import { request as httpRequest } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { newPerson } from '../helpers/browser.ts';
import { useE2e } from '../helpers/e2e.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow, qrLoginByFetch } from '../helpers/fetch-login.ts';
import { freePort } from '../helpers/ports.ts';
import { issueCode, setPhoneUser } from '../helpers/simulator.ts';
import { allowInWeChat } from '../helpers/wechat.ts';
import { OPS_CLIENT } from '../helpers/mini-program.ts';

const e2e = useE2e(test, { WECHAT_QR_MODE: 'redirect' });

test.serial("WeChat's #wechat_redirect never reaches the relying party: a silent snsapi_base login, WeChat redirecting straight back", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'chen');
  const { url, check } = await e2e.rp.start({ scope: 'openid' });
  await page.goto(url);
  const landed = await e2e.rp.landed(page);
  t.is(landed.hash, '', 'a redirect would have carried #wechat_redirect over from WeChat\'s authorize URL');
  t.false(page.url().includes('#'));
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});

test.serial("WeChat's #wechat_redirect never reaches the relying party: inside WeChat, through the upgrade to snsapi_userinfo", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'wechat');
  await setPhoneUser(context, e2e.broker.simulator, 'alice');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  await allowInWeChat(page);
  const landed = await e2e.rp.landed(page);
  t.is(landed.hash, '');
  t.false(page.url().includes('#'), 'no fragment at all on the redirect_uri');
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});

test.serial("WeChat's #wechat_redirect never reaches the relying party: QR login on WeChat's own page", async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  t.true(page.url().endsWith('#wechat_redirect'), "the person is on WeChat's page, whose URL has the fragment");
  await page.getByRole('button', { name: /Alice/ }).click();
  const landed = await e2e.rp.landed(page);
  t.false(page.url().includes('#'));
  t.truthy((await e2e.rp.finish(landed, check)).claims()!.sub);
  await context.close();
});

/** A GET with headers exactly as given (fetch would not send a Host of our choosing). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const form = (body: Record<string, string>) => ({
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from('first-party:first-party-secret-0123456789abcdef').toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: new URLSearchParams(body),
});

async function tokenRequest(body: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${e2e.broker.issuer}/token`, form(body));
  return { status: response.status, json: await response.json() as Record<string, unknown> };
}

/** An authorization request of the first-party client, with `change` applied to its parameters. */
async function authorizeUrl(change: (params: URLSearchParams) => void): Promise<string> {
  const url = new URL((await e2e.rp.start()).url);
  change(url.searchParams);
  return url.href;
}

test.serial('RFC 9700 2.1: redirect URIs match exactly; anything else is an error page, never a redirect', async (t) => {
  for (const uri of [`${e2e.rpServer.callback}/more`, `${e2e.rpServer.callback}?x=1`, `${e2e.rpServer.callback}#f`, e2e.rpServer.callback.toUpperCase()]) {
    const response = await fetch(await authorizeUrl((params) => params.set('redirect_uri', uri)), { redirect: 'manual' });
    t.is(response.status, 400, uri);
    t.is(response.headers.get('location'), null, uri);
  }
});

test.serial('RFC 9700 2.1.2: the authorization code flow only; an implicit or hybrid request gets no token, an error with iss', async (t) => {
  for (const type of ['token', 'id_token', 'code id_token', 'code token']) {
    const response = await fetch(await authorizeUrl((params) => params.set('response_type', type)), { redirect: 'manual' });
    const location = new URL(String(response.headers.get('location')), e2e.broker.issuer);
    t.is(location.origin + location.pathname, e2e.rpServer.callback, type);
    // Errors for a token-returning response_type come in the fragment (OAuth 2.0 Multiple Response Types 5).
    const answer = new URLSearchParams(location.hash ? location.hash.slice(1) : location.search);
    t.is(answer.get('error'), 'unsupported_response_type', type);
    t.is(answer.get('iss'), e2e.broker.issuer, `${type}: RFC 9207 iss in the error response`);
    t.false(/access_token|id_token=/.test(location.href), type);
  }
});

test.serial('RFC 9700 2.1.1: PKCE downgrade refused — a code_verifier without a code_challenge, a challenge without a verifier, and the plain method', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const withoutChallenge = await authorizeUrl((params) => { params.delete('code_challenge'); params.delete('code_challenge_method'); });
  await page.goto(withoutChallenge);
  await page.getByRole('button', { name: /Alice/ }).click();
  const first = await e2e.rp.landed(page);
  const downgraded = await tokenRequest({
    grant_type: 'authorization_code', code: first.searchParams.get('code')!, redirect_uri: e2e.rpServer.callback, code_verifier: 'a'.repeat(43),
  });
  t.is(downgraded.status, 400);
  t.is(downgraded.json.error, 'invalid_grant');

  const { url } = await e2e.rp.start();
  await page.goto(url);
  const second = await e2e.rp.landed(page);
  const noVerifier = await tokenRequest({ grant_type: 'authorization_code', code: second.searchParams.get('code')!, redirect_uri: e2e.rpServer.callback });
  t.is(noVerifier.json.error, 'invalid_grant');

  const plain = await fetch(await authorizeUrl((params) => params.set('code_challenge_method', 'plain')), { redirect: 'manual' });
  t.is(new URL(String(plain.headers.get('location')), e2e.broker.issuer).searchParams.get('error'), 'invalid_request');
  await context.close();
});

test.serial('RFC 9700 2.2.2: refresh tokens rotate, and a reused one revokes the whole grant', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await e2e.rp.start({ scope: 'openid offline_access', prompt: 'consent' });
  await page.goto(url);
  await page.getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('button', { name: '同意' }).click();
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.is(rotated.status, 200);
  t.not(rotated.json.refresh_token, tokens.refresh_token);
  const reused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.is(reused.json.error, 'invalid_grant');
  const afterReuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: String(rotated.json.refresh_token) });
  t.is(afterReuse.json.error, 'invalid_grant', 'the token issued by the rotation was revoked with its grant');
  const introspected = await fetch(`${e2e.broker.issuer}/token/introspection`, form({ token: String(rotated.json.access_token) }));
  t.is((await introspected.json() as { active: boolean }).active, false, 'and so was its access token');
  await context.close();
});

test.serial('RFC 9700 4.11: every POST the person makes is answered 303 (consent, logout)', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  const third = await (await import('../helpers/rp.ts')).createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const { url, check } = await third.start({ redirect_uri: e2e.rpServer.callback });
  await page.goto(url);
  await page.getByRole('button', { name: /Alice/ }).click();
  const consent = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Allow' }).click();
  t.is((await consent).status(), 303);
  const tokens = await third.finish(await third.landed(page), check);
  await page.goto(`${e2e.broker.issuer}/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: e2e.rpServer.loggedOut })}`);
  const logout = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  t.is((await logout).status(), 303);
  await context.close();
});

test.serial('clickjacking: every page forbids framing, oidc-provider\'s own auto-submit pages included', async (t) => {
  const pages = [
    await fetch(`${e2e.broker.issuer}/session/end`),
    await fetch(await authorizeUrl((params) => { params.set('prompt', 'none'); params.set('response_mode', 'form_post'); })),
    await fetch(await authorizeUrl(() => undefined)).then((response) => response),
    await fetch(`${e2e.broker.issuer}/no/such/page`),
  ];
  for (const response of pages) {
    const csp = String(response.headers.get('content-security-policy'));
    t.regex(csp, /frame-ancestors 'none'/, response.url);
    t.is(response.headers.get('x-frame-options'), 'DENY', response.url);
    t.notRegex(csp, /unsafe-inline/);
  }
  const autoSubmit = await fetch(await authorizeUrl((params) => { params.set('prompt', 'none'); params.set('response_mode', 'form_post'); }));
  t.regex(await autoSubmit.text(), /<script>/, 'a form_post answer is oidc-provider\'s own auto-submit page');
  t.regex(String(autoSubmit.headers.get('content-security-policy')), /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'its inline script is allowed by hash only');
});

test.serial('request headers never decide the broker\'s URLs; a malformed Host is a 400, not a 500', async (t) => {
  const discovery = await fetch(`${e2e.broker.origin}/.well-known/openid-configuration`, {
    headers: { host: 'attacker.example', 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https', forwarded: 'host=attacker.example' },
  });
  const metadata = await discovery.json() as Record<string, unknown>;
  t.is(metadata.issuer, e2e.broker.issuer);
  for (const [key, value] of Object.entries(metadata)) if (key.endsWith('_endpoint') || key === 'jwks_uri') t.true(String(value).startsWith(`${e2e.broker.issuer}/`), key);
  t.regex(String(discovery.headers.get('cache-control')), /^public, max-age=\d+$/);
  t.regex(String((await fetch(`${e2e.broker.issuer}/jwks`)).headers.get('cache-control')), /^public, max-age=\d+$/);
  const before = e2e.broker.logs().length;
  for (const headers of [{ host: 'evil"<b>' }, { 'x-forwarded-host': 'a b' }, { 'x-forwarded-proto': 'gopher' }] as Array<Record<string, string>>) {
    const response = await rawGet(`${e2e.broker.origin}/.well-known/openid-configuration`, headers);
    t.is(response.status, 400, JSON.stringify(headers));
    t.notRegex(response.body, /<b>|at .*:\d+/);
  }
  t.false(e2e.broker.logs().slice(before).some((line) => Number(line.level) >= 50), 'no error logged');
});

test.serial('discovery and JWKS carry a strong ETag: revalidated with it (RFC 9110 13.1.2: weak comparison, lists, *), 304 without the body, with the same ETag and Cache-Control; another tag gets the document', async (t) => {
  for (const path of ['/.well-known/openid-configuration', '/jwks']) {
    const first = await fetch(`${e2e.broker.issuer}${path}`);
    const etag = String(first.headers.get('etag'));
    t.regex(etag, /^"[A-Za-z0-9_-]{27}"$/, path);
    const document = await first.text();
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await fetch(`${e2e.broker.issuer}${path}`, { headers: { 'if-none-match': tag } });
      t.is(again.status, 304, `${path} ${tag}`);
      t.is(await again.text(), '');
      t.is(again.headers.get('etag'), etag);
      t.regex(String(again.headers.get('cache-control')), /^public, max-age=\d+$/);
    }
    const changed = await fetch(`${e2e.broker.issuer}${path}`, { headers: { 'if-none-match': '"other"' } });
    t.is(changed.status, 200);
    t.is(await changed.text(), document);
  }
});

test.serial('CORS, revocation and client-credential lifetimes are the broker\'s stated policy, not oidc-provider\'s defaults, and its output stays JSON lines', async (t) => {
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile([...testClients(e2e.rpServer.origin), OPS_CLIENT]) });
  try {
    const token = `${broker.issuer}/token`;
    const form = (fields: Record<string, string>) => new URLSearchParams(fields);
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const issued = await (await fetch(token, { method: 'POST', headers: { authorization: basic(OPS_CLIENT.client_id, OPS_CLIENT.client_secret) }, body: form({ grant_type: 'client_credentials', scope: 'accounts:read' }) })).json() as { access_token: string; expires_in: number };
    t.is(issued.expires_in, 600, 'an operator tool\'s token lives 10 minutes');

    // A single-page app (public client) calls the token endpoint from its redirect URI's origin; nobody else's page may read the answer.
    const fromApp = await fetch(token, { method: 'POST', headers: { origin: e2e.rpServer.origin }, body: form({ grant_type: 'authorization_code', code: 'x', client_id: 'spa', redirect_uri: e2e.rpServer.callback, code_verifier: 'v'.repeat(43) }) });
    t.is(fromApp.headers.get('access-control-allow-origin'), e2e.rpServer.origin);
    const fromElsewhere = await fetch(token, { method: 'POST', headers: { origin: 'https://evil.example' }, body: form({ grant_type: 'authorization_code', code: 'x', client_id: 'spa', redirect_uri: e2e.rpServer.callback, code_verifier: 'v'.repeat(43) }) });
    t.is(fromElsewhere.headers.get('access-control-allow-origin'), null);

    // RFC 7009 2.1: only the client a token was issued to may revoke it.
    const revoke = (headers: Record<string, string>, fields: Record<string, string>) => fetch(`${broker.issuer}/token/revocation`, { method: 'POST', headers, body: form({ token: issued.access_token, ...fields }) });
    const confidential = await revoke({ authorization: basic('first-party', 'first-party-secret-0123456789abcdef') }, {});
    t.is(confidential.status, 400);
    t.like(await confidential.json(), { error: 'invalid_request' });
    t.is((await revoke({}, { client_id: 'spa' })).status, 200, 'a public client learns nothing of another client\'s token');
    const introspect = async () => (await (await fetch(`${broker.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic(OPS_CLIENT.client_id, OPS_CLIENT.client_secret) }, body: form({ token: issued.access_token }) })).json() as { active: boolean }).active;
    t.true(await introspect(), 'and revoked nothing');
    t.is((await revoke({ authorization: basic(OPS_CLIENT.client_id, OPS_CLIENT.client_secret) }, {})).status, 200);
    t.false(await introspect(), 'its own client revokes it');

    const afterBanner = broker.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('  ') && !line.startsWith('{'));
    t.deepEqual(afterBanner, [], 'no line but the banner and JSON (oidc-provider prints a notice for each default left in place)');
  } finally {
    await broker.stop();
  }
});

test.serial('with an https ISSUER: every cookie HttpOnly, SameSite and Secure (behind any proxy headers or none), the session and the forms\' browser cookies host-only (__Host-), and HSTS', async (t) => {
  const port = await freePort();
  const issuer = `https://localhost:${port}`;
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(e2e.rpServer.origin)), PORT: String(port), ISSUER: issuer, WECHAT_QR_MODE: 'redirect' });
  try {
    const authorize = `${issuer}/auth?${new URLSearchParams({
      client_id: 'first-party', response_type: 'code', scope: 'openid', redirect_uri: e2e.rpServer.callback, state: 's', nonce: 'n',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    })}`;
    const target = { issuer, direct: `http://127.0.0.1:${port}` };
    // A third party's client: the consent page (a form, so the browser cookie) and its POST, under the prefixed names.
    const jar = cookieJar();
    const wechat = new URL((await follow(authorize.replace('client_id=first-party', 'client_id=third-party'), jar, target)).url);
    const consent = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, 'alice', 'snsapi_login')), jar, target);
    const landed = await allowConsent(consent, jar, target);
    t.true(landed.startsWith(`${e2e.rpServer.callback}?code=`), landed);
    for (const name of ['__Host-session=', '__Host-session.sig=', '__Host-browser=', '__Host-browser.sig=']) {
      const cookie = jar.setCookies.find((candidate) => candidate.startsWith(name));
      // RFC 6265bis 4.1.3.2: what makes a browser refuse the same name from any other host.
      t.regex(String(cookie), /; path=\/(;|$)/i, name);
      t.notRegex(String(cookie), /; domain=/i, name);
    }
    t.false(jar.setCookies.some((cookie) => /^(_session|browser)=/.test(cookie)), 'no cookie a sibling subdomain could plant under the same name');
    for (const cookie of jar.setCookies) {
      t.regex(cookie, /; httponly/i, cookie);
      t.regex(cookie, /; samesite=(lax|none)/i, cookie);
      t.regex(cookie, /; secure/i, cookie);
    }
    // The session under the plain name (what a sibling subdomain could set) is no session here.
    const session = jar.header().split('; ').filter((pair) => pair.startsWith('__Host-session')).map((pair) => pair.replace('__Host-session', '_session')).join('; ');
    const tossed = await fetch(`${target.direct}${new URL(authorize).pathname}${new URL(authorize).search}`, { redirect: 'manual', headers: { cookie: session } });
    t.false(String(tossed.headers.get('location')).startsWith(e2e.rpServer.callback), 'a tossed session logs nobody in');
    const discovery = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    t.regex(String(discovery.headers.get('strict-transport-security')), /^max-age=\d{7,}/);
  } finally {
    await broker.stop();
  }
  t.is((await fetch(`${e2e.broker.issuer}/.well-known/openid-configuration`)).headers.get('strict-transport-security'), null, 'no HSTS over http');
});

test.serial('consent lists everything the client will receive, also what it asked for by the claims parameter', async (t) => {
  const { createRp } = await import('../helpers/rp.ts');
  const third = await createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  const { url, check } = await third.start({
    redirect_uri: e2e.rpServer.callback, scope: 'openid',
    claims: JSON.stringify({ userinfo: { wechat_unionid: null, nickname: null, picture: null } }),
  });
  await page.goto(url);
  await page.getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  const listed = await page.locator('li').allInnerTexts();
  t.deepEqual(listed, [
    'an identifier of your account', 'your WeChat nickname', 'your WeChat avatar',
    'your WeChat identity (so that this company\'s apps recognize you)',
  ]);
  await page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await third.finish(await third.landed(page), check);
  const userinfo = await (await import('openid-client')).fetchUserInfo(third.config, tokens.access_token, tokens.claims()!.sub);
  const received = Object.keys(userinfo).filter((claim) => claim !== 'sub').sort();
  t.deepEqual(received, ['nickname', 'picture', 'wechat_unionid'], 'what was listed is what it got, no more');
  await context.close();
});

test.serial('consent names the email and phone scopes in plain words (OIDC Core 5.4)', async (t) => {
  const { createRp } = await import('../helpers/rp.ts');
  const third = await createRp(e2e.broker.issuer, e2e.rpServer, 'third-party');
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  try {
    await page.goto((await third.start({ redirect_uri: e2e.rpServer.callback, scope: 'openid email phone' })).url);
    await page.getByRole('button', { name: /Alice/ }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    t.deepEqual(await page.locator('li').allInnerTexts(), ['an identifier of your account', 'your email address', 'your phone number']);
  } finally {
    await context.close();
  }
});

test.serial('the silent-login marker cannot be set from outside: not by query on any path, nor by a pushed authorization request or a request object', async (t) => {
  const attempts: Array<[string, () => Promise<string>]> = [
    ['GET /auth', async () => (await e2e.rp.start({ wechat_silent: '1' })).url],
    ['GET /AUTH', async () => (await e2e.rp.start({ wechat_silent: '1' })).url.replace('/auth?', '/AUTH?')],
    ['GET /auth/', async () => (await e2e.rp.start({ wechat_silent: '1' })).url.replace('/auth?', '/auth/?')],
    ['a guessed marker', async () => (await e2e.rp.start({ wechat_silent: 'x'.repeat(43) })).url],
    ['PAR (public client)', async () => {
      const { url } = await e2e.rp.start({ wechat_silent: '1' });
      const params = new URL(url).searchParams;
      params.set('client_id', 'spa');
      const pushed = await fetch(`${e2e.broker.issuer}/request`, { method: 'POST', body: params });
      t.is(pushed.status, 201, 'the pushed request was accepted');
      const { request_uri: requestUri } = await pushed.json() as { request_uri: string };
      return `${e2e.broker.issuer}/auth?${new URLSearchParams({ client_id: 'spa', request_uri: requestUri })}`;
    }],
    ['a request object (RFC 9101), signed with the client\'s secret', async () => {
      const { url } = await e2e.rp.start();
      const secret = testClients(e2e.rpServer.origin).find((client) => client.client_id === 'first-party')!.client_secret!;
      const request = await new SignJWT({ ...Object.fromEntries(new URL(url).searchParams), wechat_silent: '1' })
        .setProtectedHeader({ alg: 'HS256' }).setIssuer('first-party').setAudience(e2e.broker.issuer).setIssuedAt().setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      return `${e2e.broker.issuer}/auth?${new URLSearchParams({ client_id: 'first-party', request })}`;
    }],
  ];
  for (const [channel, url] of attempts) {
    const { context, page } = await newPerson(e2e.browser, 'wechat');
    await setPhoneUser(context, e2e.broker.simulator, 'bob');
    await page.goto(await url());
    // Silent, bob (who has no account) would be sent back with login_required at once;
    // not silent, WeChat asks him for his profile.
    await page.getByRole('button', { name: /^允许/ }).waitFor();
    t.false(page.url().startsWith(e2e.rpServer.origin), `${channel}: the relying party got nothing`);
    await context.close();
  }
});

test.serial('RFC 7662 2.1: only the client a token was issued to, or a resource server the operator marked, may introspect it', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop');
  const { url, check } = await e2e.rp.start();
  await page.goto(url);
  await page.getByRole('button', { name: /Alice/ }).click();
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  await context.close();
  const introspect = async (client: string, secret: string) => {
    const response = await fetch(`${e2e.broker.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    return (await response.json() as { active: boolean; sub?: string });
  };
  t.like(await introspect('first-party', 'first-party-secret-0123456789abcdef'), { active: true });
  t.deepEqual(await introspect('third-party', 'third-party-secret-0123456789abcdef'), { active: false }, 'another client learns nothing');
  t.like(await introspect('api', 'api-secret-0123456789abcdef0123456789'), { active: true, sub: tokens.claims()!.sub });
});

test.serial('reloading a login page reuses its attempt: the same state each time, nothing more stored', async (t) => {
  const jar = cookieJar();
  const started = await fetch(await authorizeUrl(() => undefined), { redirect: 'manual' });
  jar.take(started);
  const interaction = new URL(String(started.headers.get('location')), e2e.broker.issuer).href;
  const states = new Set<string>();
  for (let i = 0; i < 3; i += 1) {
    const page = await fetch(interaction, { redirect: 'manual', headers: { cookie: jar.header(), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0' } });
    states.add(String(new URL(String(page.headers.get('location'))).searchParams.get('state')));
  }
  t.is(states.size, 1);
});

test.serial('what a request may ask the broker to keep is capped: a 14 KB state or a huge pushed request is invalid_request, nothing stored', async (t) => {
  const huge = await fetch(await authorizeUrl((params) => params.set('state', 's'.repeat(14 * 1024))), { redirect: 'manual' });
  t.is(huge.status, 400);
  t.is(huge.headers.get('location'), null);
  t.regex(await huge.text(), /invalid_request: request too large/);
  t.false(huge.headers.getSetCookie().some((cookie) => cookie.startsWith('_interaction=')), 'no interaction was made');
  const { url } = await e2e.rp.start();
  const params = new URL(url).searchParams;
  params.set('client_id', 'spa');
  params.set('nonce', 'n'.repeat(9000));
  const pushed = await fetch(`${e2e.broker.issuer}/request`, { method: 'POST', body: params });
  t.is(pushed.status, 400);
  t.like(await pushed.json(), { error: 'invalid_request' });
  const fine = await fetch(await authorizeUrl((params) => params.set('state', 's'.repeat(1024))), { redirect: 'manual' });
  t.is(fine.status, 303, 'a long but reasonable state is fine');
});

test.serial('OIDC Core 3.1.2.1 ui_locales: the pages of a login speak the first language the relying party asks for that they have (over Accept-Language), pass over the rest without an error, and yield to the person\'s own choice; discovery lists them', async (t) => {
  const discovery = await (await fetch(`${e2e.broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  t.deepEqual(discovery.ui_locales_supported, ['zh-CN', 'zh-TW', 'en']);
  const heading = async (page: import('playwright-core').Page) => [await page.locator('html').getAttribute('lang'), await page.locator('h1').innerText()];
  // A phone browser outside WeChat (Accept-Language zh-CN): the broker's own page.
  for (const [asked, lang, title] of [['fr en-US', 'en', 'Open this page in WeChat'], ['fr zh-Hant-TW en', 'zh-TW', '請在微信中開啟'], ['fr de', 'zh-CN', '请在微信中打开']]) {
    const { context, page } = await newPerson(e2e.browser, 'mobile', 'zh-CN');
    await page.goto((await e2e.rp.start({ ui_locales: asked! })).url);
    t.deepEqual(await heading(page), [lang, title], asked);
    if (asked === 'fr en-US') {
      await page.getByRole('link', { name: '简体中文' }).click();
      t.deepEqual(await heading(page), ['zh-CN', '请在微信中打开'], 'the person\'s choice on the page wins');
    }
    await context.close();
  }
  // A desktop in redirect QR mode: WeChat's own QR page, in the asked language (qrconnect's lang).
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'zh-CN');
  const { url, check } = await e2e.rp.start({ ui_locales: 'en' });
  await page.goto(url);
  t.is(new URL(page.url()).searchParams.get('lang'), 'en');
  await page.getByRole('button', { name: /Alice/ }).click();
  const tokens = await e2e.rp.finish(await e2e.rp.landed(page), check);
  // RP-Initiated Logout 1.0 2: its ui_locales, on the confirmation and on the logged-out page after it.
  await page.goto(`${e2e.broker.issuer}/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token!, ui_locales: 'en' })}`);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  t.deepEqual(await heading(page), ['en', 'Logged out']);
  await context.close();
  // With no session to end (answered at once), and when the request itself is refused.
  const zh = { 'accept-language': 'zh-CN' };
  t.regex(await (await fetch(`${e2e.broker.issuer}/session/end?client_id=first-party&ui_locales=en`, { headers: zh })).text(), /<html lang="en">[\s\S]*<h1>Logged out<\/h1>/);
  const refused = await fetch(`${e2e.broker.issuer}/auth?${new URLSearchParams({ client_id: 'first-party', response_type: 'code', scope: 'openid', redirect_uri: 'https://elsewhere.example/cb', ui_locales: 'en' })}`, { headers: zh });
  t.is(refused.status, 400);
  t.regex(await refused.text(), /<html lang="en">/);
});

test.serial('OIDC Core 3.1.2.1 prompt=select_account: with a session, the person chooses again by logging in at WeChat, and the app gets whoever logged in; alone or with consent, never with none', async (t) => {
  const { context, page } = await newPerson(e2e.browser, 'desktop', 'en');
  const first = await e2e.rp.start();
  await page.goto(first.url);
  await page.getByRole('button', { name: /Alice/ }).click();
  const alice = (await e2e.rp.finish(await e2e.rp.landed(page), first.check)).claims()!.sub;
  const again = await e2e.rp.start({ prompt: 'select_account' });
  await page.goto(again.url);
  t.regex(page.url(), /\/connect\/qrconnect\?/, 'WeChat\'s QR page again, not the session\'s account at once');
  await page.getByRole('button', { name: /Bob/ }).click();
  const bob = (await e2e.rp.finish(await e2e.rp.landed(page), again.check)).claims()!.sub;
  t.not(bob, alice);
  const silent = await e2e.rp.start();
  await page.goto(silent.url);
  t.is((await e2e.rp.finish(await e2e.rp.landed(page), silent.check)).claims()!.sub, bob, 'the session is now the account chosen');
  const withConsent = await e2e.rp.start({ prompt: 'select_account consent' });
  await page.goto(withConsent.url);
  await page.getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  t.is((await e2e.rp.finish(await e2e.rp.landed(page), withConsent.check)).claims()!.sub, alice, 'chosen, then asked for consent');
  const withNone = await e2e.rp.start({ prompt: 'none select_account' });
  await page.goto(withNone.url);
  t.is((await e2e.rp.landed(page)).searchParams.get('error'), 'invalid_request', 'OIDC Core 3.1.2.1: none only alone');
  await context.close();
});

test.serial('RFC 8414 3: an OAuth client finds the same metadata at oauth-authorization-server, the same bytes and ETag as discovery, kept as discovery is', async (t) => {
  const fresh = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(e2e.rpServer.origin)) });
  try {
    const [oauth, openid] = [await fetch(`${fresh.issuer}/.well-known/oauth-authorization-server`), await fetch(`${fresh.issuer}/.well-known/openid-configuration`)];
    t.is(oauth.status, 200);
    t.regex(String(oauth.headers.get('content-type')), /^application\/json/);
    const metadata = await oauth.json() as Record<string, unknown>;
    t.is(metadata.issuer, fresh.issuer, 'RFC 8414 3.3: the issuer, identical');
    t.like(metadata, { authorization_endpoint: `${fresh.issuer}/auth`, token_endpoint: `${fresh.issuer}/token`, code_challenge_methods_supported: ['S256'] });
    t.deepEqual(metadata, await openid.json());
    t.is(oauth.headers.get('etag'), openid.headers.get('etag'), 'one document, one tag');
    t.is(oauth.headers.get('cache-control'), openid.headers.get('cache-control'), 'cached by relying parties as long');
    t.is((await fetch(`${fresh.issuer}/.well-known/oauth-authorization-server`)).headers.get('etag'), openid.headers.get('etag'), 'and from the kept bytes');
    t.true(await fresh.logged((line) => line.msg === 'request' && (line.req as { path?: string }).path === '/.well-known/oauth-authorization-server'), 'logged as asked');
  } finally {
    await fresh.stop();
  }
});

test.serial('RFC 9101 (JAR): a signed request object logs in; a client that registered require_signed_request_object is refused without one, and one signed by another key is invalid_request_object', async (t) => {
  const [{ privateKey, publicKey }, stranger] = await Promise.all([generateKeyPair('ES256', { extractable: true }), generateKeyPair('ES256')]);
  const jar = {
    client_id: 'jar', client_secret: 'jar-secret-0123456789abcdef0123456789', redirect_uris: [e2e.rpServer.callback], first_party: true,
    jwks: { keys: [{ ...await exportJWK(publicKey), kid: 'jar-1', alg: 'ES256', use: 'sig' }] }, request_object_signing_alg: 'ES256', require_signed_request_object: true,
  };
  const broker = await startBroker({ WECHAT_QR_MODE: 'redirect', CLIENTS_FILE: writeClientsFile([...testClients(e2e.rpServer.origin), jar]) });
  try {
    const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    t.true(discovery.request_parameter_supported);
    const config = await oidc.discovery(new URL(broker.issuer), jar.client_id, jar.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const check = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const params = {
      redirect_uri: e2e.rpServer.callback, scope: 'openid profile', state: check.state, nonce: check.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(check.verifier), code_challenge_method: 'S256',
    };
    const target = { issuer: broker.issuer, direct: broker.origin };
    const signed = await oidc.buildAuthorizationUrlWithJAR(config, params, { key: privateKey, kid: 'jar-1' });
    t.truthy(signed.searchParams.get('request'), 'the parameters travel inside the signed JWT');
    const { landed } = await qrLoginByFetch(signed.href, target, broker.simulator, 'alice');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), { pkceCodeVerifier: check.verifier, expectedState: check.state, expectedNonce: check.nonce });
    t.truthy(tokens.claims()?.sub);
    const plain = new URL((await follow(oidc.buildAuthorizationUrl(config, params).href, cookieJar(), target)).url);
    t.is(plain.searchParams.get('error'), 'invalid_request', 'this client must sign its requests');
    const forged = await oidc.buildAuthorizationUrlWithJAR(config, params, { key: stranger.privateKey, kid: 'jar-1' });
    t.is(new URL((await follow(forged.href, cookieJar(), target)).url).searchParams.get('error'), 'invalid_request_object');
  } finally {
    await broker.stop();
  }
});
