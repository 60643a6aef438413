// A relying party written by someone else: Apache httpd with mod_auth_openidc, configured
// as the README says, protects a page; a person in Chromium logs in with WeChat's QR code
// and lands on it with the claims Apache got; Apache's logout ends the broker's session
// too (RP-initiated logout). Nothing in the broker is special to it.

import test from 'ava';
import type { Browser } from 'playwright-core';
import { apacheClient, apacheInstalled, startApacheRp, type ApacheRp } from '../helpers/apache.ts';
import { startBroker, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { freePort } from '../helpers/ports.ts';

const SECRET = 'apache-secret-0123456789abcdef0123456789';

let browser: Browser;
let broker: RunningBroker;
let apache: ApacheRp;

if (!apacheInstalled) {
  console.log('Apache relying party test SKIPPED: install Debian\'s apache2 and libapache2-mod-auth-openidc (.ci/run does) to run it.');
  test.skip('Apache with mod_auth_openidc as the relying party (skipped: apache2 and libapache2-mod-auth-openidc are not installed)', () => {});
} else {
  test.before(async () => {
    const port = await freePort();
    browser = await launchChromium();
    broker = await startBroker({ CLIENTS_FILE: writeClientsFile([apacheClient(port, 'apache', SECRET)]) });
    apache = await startApacheRp({ port, issuer: broker.issuer, clientId: 'apache', clientSecret: SECRET });
  });

  test.after.always(async () => {
    await Promise.all([browser?.close(), broker?.stop(), apache?.stop()]);
  });

  test.serial('Apache\'s mod_auth_openidc logs a person in with a QR scan and shows the claims; its logout ends the broker\'s session', async (t) => {
    const { page, context } = await newPerson(browser, 'desktop', 'en');
    t.teardown(() => context.close());
    await page.goto(`${apache.origin}/protected/`);
    t.true(page.url().startsWith(`${broker.issuer}/interaction/`), 'Apache sent the person to the broker');
    await page.frameLocator('#qr iframe').getByRole('button', { name: /Alice/ }).click();
    await page.waitForURL(`${apache.origin}/protected/`);
    const shown = async (id: string) => (await page.locator(`#${id}`).innerText()).trim();
    const sub = await shown('sub');
    t.regex(sub, /^[0-9a-f-]{36}$/, `the ID token's sub (Apache's log:\n${apache.output()})`);
    t.is(await shown('iss'), broker.issuer);
    t.is(await shown('nickname'), '小爱 Alice 🌸', 'and userinfo\'s claims');
    t.true((await shown('user')).startsWith(`${sub}@`), 'REMOTE_USER: the sub at the issuer, as mod_auth_openidc makes it by default');

    // RP-initiated logout: Apache sends the person to the broker's end_session_endpoint with
    // the ID token, the broker asks, and sends them back to Apache's registered page.
    await page.goto(`${apache.origin}/protected/redirect_uri?logout=${encodeURIComponent(`${apache.origin}/logged-out.html`)}`);
    await page.getByRole('button', { name: 'Log out of all apps' }).click();
    await page.waitForURL(`${apache.origin}/logged-out.html`);
    await page.goto(`${apache.origin}/protected/`);
    t.true(page.url().startsWith(`${broker.issuer}/interaction/`), 'logged out at the broker too: a new login is asked for');
  });
}
