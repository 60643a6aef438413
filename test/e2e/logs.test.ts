// The log is JSON lines, one per request with a request id, and never carries a secret:
// a full login at the most verbose level, then every secret used is looked for in it.

import test from 'ava';
import * as oidc from 'openid-client';
import { randomBytes } from 'node:crypto';
import { startBrokerWithSimulator, testClients, writeClientsFile } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { injectFaults, setPhoneUser, simApp } from '../helpers/simulator.ts';

test.serial('a full login leaves no secret, token, code, cookie or state in the log', async (t) => {
  const mp = simApp('mp');
  const cookieKeys = randomBytes(32).toString('hex');
  const [browser, rpServer] = await Promise.all([launchChromium(), startRpServer()]);
  const clients = testClients(rpServer.origin);
  const { broker, simulator, stop } = await startBrokerWithSimulator({
    CLIENTS_FILE: writeClientsFile(clients), LOG_LEVEL: 'trace', COOKIE_KEYS: cookieKeys,
  }, [mp]);
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat');
    await setPhoneUser(context, simulator.url, 'bob');
    const callbacks: URL[] = [];
    page.on('request', (request) => { if (request.url().includes('/wechat?')) callbacks.push(new URL(request.url())); });
    // The broker's own cookies, as it set them: the simulator shares the host (cookies
    // ignore ports), and its short user-name cookie is no secret of the broker's.
    const cookies = new Map<string, string>();
    page.on('response', async (response) => {
      if (new URL(response.url()).origin !== broker.origin) return;
      for (const { name, value } of await response.headersArray()) {
        if (name.toLowerCase() !== 'set-cookie') continue;
        const [, cookie, content] = /^([^=;\s]+)=([^;]*)/.exec(value) ?? [];
        if (cookie && content) cookies.set(cookie, content);
      }
    });
    const { url, check } = await rp.start({ scope: 'openid profile wechat offline_access', prompt: 'consent' });
    await page.goto(url);
    await page.getByRole('button', { name: /^允许/ }).click();
    await page.getByRole('button', { name: '同意' }).click();
    const landed = await rp.landed(page);
    const tokens = await rp.finish(landed, check);
    await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    await page.goto(oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: rpServer.loggedOut }).href);
    await page.getByRole('button', { name: '退出全部应用' }).click();
    await page.waitForURL((where) => where.href.startsWith(rpServer.loggedOut));
    await context.close();

    const log = broker.output();
    const secrets: Record<string, string | undefined> = {
      'WeChat app secret': mp.secret,
      'client secret': clients[0]!.client_secret,
      'cookie key': cookieKeys,
      'authorization code': landed.searchParams.get('code') ?? undefined,
      'access token': tokens.access_token,
      'refresh token': tokens.refresh_token,
      'rotated refresh token': refreshed.refresh_token,
      'ID token': tokens.id_token,
      'RP state': check.state,
      'PKCE verifier': check.verifier,
    };
    t.is(callbacks.length, 2, 'snsapi_base, then snsapi_userinfo');
    callbacks.forEach((callback, index) => {
      secrets[`WeChat code ${index}`] = callback.searchParams.get('code') ?? undefined;
      secrets[`WeChat state ${index}`] = callback.searchParams.get('state') ?? undefined;
    });
    // Not secrets: a value shorter than 16 characters (the logout page's client id), which
    // would be found by chance, and the interaction cookies' uid, which is in the login
    // page's own URL (/interaction/<uid>); their signatures are secrets, and so is the session.
    const PUBLIC = new Set(['_interaction', '_interaction_resume']);
    for (const [name, value] of cookies) if (value.length >= 16 && !PUBLIC.has(name)) secrets[`cookie ${name}`] = value;
    t.true(['_session', '_session.sig', '_interaction.sig', '_interaction_resume.sig'].every((name) => `cookie ${name}` in secrets), `the session cookies were captured: ${[...cookies.keys()].join(', ')}`);
    for (const [name, value] of Object.entries(secrets)) {
      t.true((value?.length ?? 0) >= 16, `${name} was captured, and is long enough to be found only where it leaked`);
      t.false(log.includes(value!), `${name} is not in the log`);
    }

    const lines = broker.logs();
    const requests = lines.filter((line) => line.msg === 'request');
    t.true(requests.length > 10);
    t.true(requests.every((line) => typeof (line.req as { id?: string }).id === 'string'), 'every request line has a request id');
    const login = lines.find((line) => line.msg === 'login succeeded');
    t.like(login, { channel: 'web', client: 'first-party', scope: 'snsapi_userinfo', ip: '127.0.0.1' });
  } finally {
    await stop();
    await Promise.all([browser.close(), rpServer.close()]);
  }
});

test.serial('the request id on the person\'s error page finds every line that says why: WeChat\'s errcode and rid, the outcome, the request line', async (t) => {
  const [browser, rpServer] = await Promise.all([launchChromium(), startRpServer()]);
  const { broker, simulator, stop } = await startBrokerWithSimulator({ CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)) }, [simApp('mp')]);
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat', 'en');
    await setPhoneUser(context, simulator.url, 'bob');
    await injectFaults(simulator.url, '/sns/oauth2/access_token', ['errcode:40125']);
    await page.goto((await rp.start()).url);
    const shown = await page.getByText(/^request id /).innerText();
    await context.close();
    const id = /request id ([\w-]+)/.exec(shown)![1]!;
    t.true(await broker.logged((line) => (line.req as { id?: string } | undefined)?.id === id), 'the request line');
    const lines = broker.logs().filter((line) => line.reqId === id);
    t.true(lines.some((line) => line.level === 50 && /^WeChat refused the app credentials/.test(String(line.msg))), JSON.stringify(lines));
    t.true(lines.some((line) => (line.wechat as { errcode?: number } | undefined)?.errcode === 40125 && typeof (line.wechat as { rid?: string }).rid === 'string'), 'WeChat\'s errcode and request id');
    t.false(broker.logs().some((line) => line.msg === 'request' && 'reqId' in line), 'the request line says its id once, as req.id');
  } finally {
    await stop();
    await Promise.all([browser.close(), rpServer.close()]);
  }
});
