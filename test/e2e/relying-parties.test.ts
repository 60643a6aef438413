// Relying parties written by someone else, each configured exactly as the README's "With
// your library" shows: Apache httpd with mod_auth_openidc (C), Flask with Authlib (Python),
// go-oidc with x/oauth2 (Go), GitLab's OmniAuth strategy (Ruby), oidc-client-ts in a page
// and Auth.js (TypeScript). A person in Chromium logs in with WeChat's QR code and lands on
// each with the claims it got; Apache's logout ends the broker's session too (RP-initiated
// logout), and the broker's logout ends Apache's (back-channel logout, the logout token
// mod_auth_openidc checks itself). Nothing in the broker is special to any of them. Each
// needs Debian's packages (.ci/run installs them); without them its test is reported as
// skipped.

import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { apacheClient, apacheInstalled, startApacheRp, type ApacheRp } from '../helpers/apache.ts';
import { authJsClient, startAuthJs, type AuthJsApp } from '../helpers/authjs.ts';
import { authlibInstalled, startAuthlibRp } from '../helpers/authlib.ts';
import { goOidcInstalled, startGoOidcRp } from '../helpers/go-oidc.ts';
import { omniauthInstalled, omniauthRedirect, startOmniauthRp } from '../helpers/omniauth.ts';
import { rpProcessClient, type RpProcess } from '../helpers/rp-process.ts';
import { startBroker, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { freePort } from '../helpers/ports.ts';
import { spaClient, startSpa, type Spa } from '../helpers/spa.ts';

const APACHE_SECRET = 'apache-secret-0123456789abcdef0123456789';
const AUTHLIB_SECRET = 'authlib-secret-0123456789abcdef012345678';
const GO_SECRET = 'go-oidc-secret-0123456789abcdef012345678';
const GITLAB_SECRET = 'gitlab-secret-0123456789abcdef0123456789';

let browser: Browser;
let broker: RunningBroker;
let apache: ApacheRp | undefined;
let authlib: RpProcess | undefined;
let goOidc: RpProcess | undefined;
let omniauth: RpProcess | undefined;
let spa: Spa;
let dpopSpa: Spa;
let authJs: AuthJsApp;
const AUTHJS_SECRET = 'authjs-secret-0123456789abcdef0123456789';

test.before(async () => {
  const [apachePort, authlibPort, spaPort, dpopPort, authJsPort, goPort, gitlabPort] = [
    await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(),
  ];
  browser = await launchChromium();
  broker = await startBroker({ CLIENTS_FILE: writeClientsFile([
    apacheClient(apachePort, 'apache', APACHE_SECRET), rpProcessClient(authlibPort, 'authlib', AUTHLIB_SECRET, 'Authlib'),
    spaClient(`http://127.0.0.1:${spaPort}`, 'browser-app'), spaClient(`http://127.0.0.1:${dpopPort}`, 'dpop-app'),
    authJsClient(`http://127.0.0.1:${authJsPort}`, 'authjs', AUTHJS_SECRET), rpProcessClient(goPort, 'go-oidc', GO_SECRET, 'go-oidc'),
    rpProcessClient(gitlabPort, 'gitlab', GITLAB_SECRET, 'GitLab', omniauthRedirect(gitlabPort)),
  ]) });
  authJs = await startAuthJs(broker.issuer, 'authjs', AUTHJS_SECRET, authJsPort);
  [spa, dpopSpa] = [await startSpa(broker.issuer, 'browser-app', spaPort), await startSpa(broker.issuer, 'dpop-app', dpopPort, true)];
  if (apacheInstalled) apache = await startApacheRp({ port: apachePort, issuer: broker.issuer, clientId: 'apache', clientSecret: APACHE_SECRET });
  if (authlibInstalled) authlib = await startAuthlibRp(authlibPort, broker.issuer, 'authlib', AUTHLIB_SECRET);
  if (goOidcInstalled) goOidc = await startGoOidcRp(goPort, broker.issuer, 'go-oidc', GO_SECRET);
  if (omniauthInstalled) omniauth = await startOmniauthRp(gitlabPort, broker.issuer, 'gitlab', GITLAB_SECRET);
});

test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), apache?.stop(), authlib?.stop(), goOidc?.stop(), omniauth?.stop(), spa?.close(), dpopSpa?.close(), authJs?.close()]);
});

/**
 * A person opens the relying party's `start` (on a desktop, in English), clicks its `button`
 * when it has one, is sent to the broker, and scans its QR code as Alice (the simulator's
 * button in its iframe).
 */
async function aliceLogsInAt(t: ExecutionContext, rp: { readonly origin: string }, start: string, button?: string): Promise<Page> {
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${rp.origin}${start}`);
  if (button !== undefined) await page.getByRole('button', { name: button }).click();
  await page.waitForURL(`${broker.issuer}/interaction/**`);
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  return page;
}

const APACHE = { installed: apacheInstalled, what: 'Apache with mod_auth_openidc', packages: 'apache2 and libapache2-mod-auth-openidc' };
const AUTHLIB = { installed: authlibInstalled, what: 'Flask with Authlib', packages: 'python3-flask, python3-authlib and python3-requests' };
const OMNIAUTH = { installed: omniauthInstalled, what: 'OmniAuth with GitLab\'s OpenID Connect strategy', packages: 'ruby, ruby-omniauth-openid-connect, ruby-rack and ruby-webrick' };
const GO_OIDC = { installed: goOidcInstalled, what: 'Go with go-oidc', packages: 'golang-go, golang-github-coreos-go-oidc-dev and golang-golang-x-oauth2-dev' };

/** `title`'s test where its relying party's software is installed; else one reported as skipped, saying what to install. */
function whenInstalled(rp: { readonly installed: boolean; readonly what: string; readonly packages: string }, title: string, body: (t: ExecutionContext) => Promise<void>): void {
  if (rp.installed) {
    test.serial(title, body);
    return;
  }
  console.log(`${rp.what} relying party test SKIPPED: install Debian's ${rp.packages} (.ci/run does) to run it.`);
  test.serial.skip(`${title} (skipped: ${rp.packages} are not installed)`, () => {});
}

whenInstalled(APACHE, 'Apache\'s mod_auth_openidc logs a person in with a QR scan and shows the claims; its logout ends the broker\'s session', async (t) => {
  const rp = apache!;
  const page = await aliceLogsInAt(t, rp, '/protected/');
  await page.waitForURL(`${rp.origin}/protected/`);
  const shown = async (id: string) => (await page.locator(`#${id}`).innerText()).trim();
  const sub = await shown('sub');
  t.regex(sub, /^[0-9a-f-]{36}$/, `the ID token's sub (Apache's log:\n${rp.output()})`);
  t.is(await shown('iss'), broker.issuer);
  t.is(await shown('nickname'), '小爱 Alice 🌸', 'and userinfo\'s claims');
  t.true((await shown('user')).startsWith(`${sub}@`), 'REMOTE_USER: the sub at the issuer, as mod_auth_openidc makes it by default');

  // RP-initiated logout: Apache sends the person to the broker's end_session_endpoint with
  // the ID token, the broker asks, and sends them back to Apache's registered page.
  await page.goto(`${rp.origin}/protected/redirect_uri?logout=${encodeURIComponent(`${rp.origin}/logged-out.html`)}`);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL(`${rp.origin}/logged-out.html`);
  // The broker tells every app of the session, Apache too: its delivery is done before the next test counts its own.
  t.true(await broker.logged((line) => line.msg === 'back-channel logout delivered' && line.client === 'apache'), 'Apache told of the logout it asked for');
  await page.goto(`${rp.origin}/protected/`);
  t.true(page.url().startsWith(`${broker.issuer}/interaction/`), 'logged out at the broker too: a new login is asked for');
});

whenInstalled(APACHE, 'Apache\'s mod_auth_openidc takes the broker\'s back-channel logout: the person logs out on every device from their page, and Apache\'s session ends', async (t) => {
  const rp = apache!;
  const page = await aliceLogsInAt(t, rp, '/protected/');
  await page.waitForURL(`${rp.origin}/protected/`);
  await page.goto(`${broker.issuer}/account`);
  const since = broker.logs().length;
  await page.getByRole('button', { name: 'Log out on every device' }).click();
  await page.getByRole('heading', { name: 'Logged out on every device' }).waitFor();
  t.true(await broker.logged((line) => line.msg === 'back-channel logout delivered' && line.client === 'apache', undefined, since), `the logout token, taken (Apache's log:\n${rp.output()})`);
  await page.goto(`${rp.origin}/protected/`);
  t.true(page.url().startsWith(`${broker.issuer}/interaction/`), 'Apache\'s own session ended: a new login is asked for');
});

whenInstalled(AUTHLIB, 'Flask with Authlib logs a person in with a QR scan: the ID token it checked and userinfo\'s answer', async (t) => {
  const rp = authlib!;
  const page = await aliceLogsInAt(t, rp, '/login');
  await page.waitForURL(`${rp.origin}/callback?**`);
  const answer = JSON.parse(await page.locator('body').innerText()) as { id_token: Record<string, unknown>; userinfo: Record<string, unknown> };
  t.like(answer.id_token, { iss: broker.issuer, aud: 'authlib' }, `the ID token Authlib checked (its output:\n${rp.output()})`);
  t.regex(String(answer.id_token.sub), /^[0-9a-f-]{36}$/);
  t.like(answer.userinfo, { sub: answer.id_token.sub, nickname: '小爱 Alice 🌸' });
});

whenInstalled(OMNIAUTH, 'GitLab\'s OmniAuth strategy, configured by the README\'s gitlab.rb lines, signs a person in with a QR scan: the uid is the sub, the profile from userinfo', async (t) => {
  const rp = omniauth!;
  const page = await aliceLogsInAt(t, rp, '/', 'Sign in with WeChat');
  await page.waitForURL(`${rp.origin}/users/auth/**`);
  const body = await page.locator('body').innerText();
  const answer = JSON.parse(body) as { uid?: string; info?: Record<string, unknown>; raw_info?: Record<string, unknown>; failure?: string };
  t.is(answer.failure, undefined, `OmniAuth's failure (its output:\n${rp.output()})`);
  t.regex(String(answer.uid), /^[0-9a-f-]{36}$/, 'the uid GitLab keeps is the sub');
  t.like(answer.raw_info, { sub: answer.uid, iss: broker.issuer, aud: 'gitlab', nickname: '小爱 Alice 🌸' });
  t.regex(String(answer.info?.image), /^https:\/\//, 'the picture, for GitLab\'s avatar');
});

whenInstalled(GO_OIDC, 'Go with go-oidc and x/oauth2 logs a person in with a QR scan: the ID token it verified and userinfo\'s answer', async (t) => {
  const rp = goOidc!;
  const page = await aliceLogsInAt(t, rp, '/login');
  await page.waitForURL(`${rp.origin}/callback?**`);
  const body = await page.locator('body').innerText();
  t.notThrows(() => JSON.parse(body), `go-oidc's answer (its output:\n${rp.output()})`);
  const answer = JSON.parse(body) as { id_token: Record<string, unknown>; userinfo: Record<string, unknown> };
  t.like(answer.id_token, { iss: broker.issuer, aud: 'go-oidc' }, 'the ID token go-oidc verified');
  t.regex(String(answer.id_token.sub), /^[0-9a-f-]{36}$/);
  t.like(answer.userinfo, { sub: answer.id_token.sub, nickname: '小爱 Alice 🌸' });
});

/**
 * Alice logs in to a single-page app: its "Log in", the broker's QR code, the consent page
 * where `consent` (offline_access asks for it), and back on the app's callback page, which
 * shows what the app made of it (JSON), or its error.
 */
async function aliceLogsInToSpa<T>(t: ExecutionContext, app: Spa, consent: boolean): Promise<{ page: Page; user: T | undefined }> {
  const page = await aliceLogsInAt(t, app, '/', 'Log in');
  if (consent) await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${app.origin}/callback.html?**`);
  const out = page.locator('#out');
  await out.filter({ hasText: /\S/ }).waitFor();
  const shown = await out.innerText();
  const user = shown.startsWith('error') ? undefined : JSON.parse(shown) as T;
  t.truthy(user, `oidc-client-ts finished the login: ${shown}`);
  return { page, user };
}

test.serial('a single-page app with oidc-client-ts: every call from the page itself (CORS), the ID token and userinfo in the user it makes; its logout ends the broker\'s session', async (t) => {
  const { page, user } = await aliceLogsInToSpa<{ profile: Record<string, unknown>; scope: string }>(t, spa, false);
  t.like(user?.profile, { iss: broker.issuer, aud: 'browser-app', nickname: '小爱 Alice 🌸' }, 'the ID token\'s claims, and userinfo\'s (fetched by the page: a CORS preflight)');
  t.regex(String(user?.profile.sub), /^[0-9a-f-]{36}$/);

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL(`${spa.origin}/`);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${broker.issuer}/interaction/**`);
  await t.notThrowsAsync(page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).waitFor(), 'logged out at the broker: the QR code again');
});

test.serial('a single-page app with DPoP (oidc-client-ts, its key in IndexedDB): bound tokens, userinfo with a proof made on the page, a refresh with one; the token alone, as Bearer, is refused', async (t) => {
  const { page, user } = await aliceLogsInToSpa<{ profile: Record<string, unknown>; token_type: string; userinfo: Record<string, unknown>; renewed: string }>(t, dpopSpa, true);
  t.is(user?.token_type, 'DPoP', 'bound to the page\'s key');
  t.like(user?.userinfo, { sub: user?.profile.sub, nickname: '小爱 Alice 🌸' }, 'userinfo, with a proof (a CORS preflight for the DPoP header)');
  t.is(user?.renewed, 'DPoP', 'the refresh, with a proof, gives a bound token again');
  const token = await page.evaluate(() => Object.entries(sessionStorage).find(([key]) => key.startsWith('oidc.user:'))?.[1]);
  const stolen = (JSON.parse(token ?? '{}') as { access_token?: string }).access_token;
  t.truthy(stolen);
  const asBearer = await fetch(`${broker.issuer}/me`, { headers: { authorization: `Bearer ${stolen}` } });
  t.is(asBearer.status, 401, 'read off the page and used without the key: refused (RFC 9449 7.2)');
});

test.serial('Auth.js (what Next.js apps use), its provider as the README gives it: the person\'s name and picture in its session', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  // Auth.js's own sign-in page: a form with its CSRF token, posted by the button.
  await page.goto(`${authJs.origin}/auth/signin`);
  await page.getByRole('button', { name: 'Sign in with WeChat' }).click();
  await page.waitForURL(`${broker.issuer}/interaction/**`);
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
  await page.waitForURL((url) => url.origin === authJs.origin && !url.pathname.startsWith('/auth/callback'));
  const session = JSON.parse(await (await page.request.get(`${authJs.origin}/auth/session`)).text()) as { user?: { name?: string; image?: string } } | null;
  t.like(session?.user, { name: '小爱 Alice 🌸' }, `Auth.js's session: ${JSON.stringify(session)}`);
  t.regex(String(session?.user?.image), /^https:\/\//);
});
