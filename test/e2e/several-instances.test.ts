// Two broker instances sharing one real Redis behind a round-robin proxy: logins whose
// requests alternate between instances, an instance killed mid-login, logins of one
// person at the same moment, concurrent redemptions, a Redis restart (AOF) and a paused Redis.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPerson, USER_AGENTS } from '../helpers/browser.ts';
import { inWeChatLoginByFetch } from '../helpers/fetch-login.ts';
import { pollOnce } from '../helpers/device.ts';
import type { RunningBroker } from '../helpers/broker.ts';
import { setPhoneUser } from '../helpers/simulator.ts';
import { setTimeout } from 'node:timers/promises';
import { startBrokerCluster, type BrokerCluster } from '../helpers/cluster.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp, type Check, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { scanQr, startQrLogin } from '../helpers/wechat.ts';
import { eventually, until } from '../helpers/wait.ts';

let browser: Browser;
let rpServer: RpServer;
let redis: RedisServer;
let brokers: BrokerCluster;
let rp: Rp;

test.before(async () => {
  [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis({ appendonly: true })]);
  // Generous, like every limit here: a 1 s limit let a loaded machine take a healthy Redis for
  // a lost one (a QR page that was a 503, once in a clean-clone run); the paused-Redis tests
  // only need the limit to fire at all.
  brokers = await startBrokerCluster(rpServer.origin, { REDIS_URL: redis.url, STORAGE_TIMEOUT_MS: '5000' });
  rp = await createRp(brokers.issuer, rpServer);
});

test.after.always(async () => {
  redis?.resume();
  await Promise.all([browser?.close(), brokers?.stop(), rpServer?.close()]);
  await redis?.stop();
});

async function qrLogin(page: Page, params: Record<string, string> = {}): Promise<{ landed: URL; check: Check }> {
  const check = await startQrLogin(page, rp, params);
  if (params.prompt === 'consent') await page.getByRole('button', { name: '同意' }).click();
  return { landed: await rp.landed(page), check };
}

async function tokenRequests(body: Record<string, string>, times: number): Promise<Array<{ status: number; error?: string }>> {
  const endpoint = rp.config.serverMetadata().token_endpoint!;
  const auth = `Basic ${Buffer.from('first-party:first-party-secret-0123456789abcdef').toString('base64')}`;
  return Promise.all(Array.from({ length: times }, async () => {
    const response = await fetch(endpoint, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
    });
    return { status: response.status, error: ((await response.json()) as { error?: string }).error };
  }));
}

test.serial('the banner and /readyz name Redis for protocol state and accounts', async (t) => {
  const instance = brokers.instances[0]!;
  t.regex(instance.output(), /storage\s+protocol state: redis; accounts: redis/);
  const ready = await fetch(`${instance.origin}/readyz`);
  t.deepEqual(await ready.json(), { status: 'ready', storage: { protocol: 'redis', accounts: 'redis' } });
});

test.serial('a login whose requests alternate between two instances completes', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop');
  const before = [...brokers.proxy.served.values()];
  const { landed, check } = await qrLogin(page);
  const tokens = await rp.finish(landed, check);
  t.truthy(tokens.claims()!.sub);
  const after = [...brokers.proxy.served.values()];
  t.true(after.every((count, index) => count > before[index]!), 'both instances answered part of the login');
  await context.close();
});

test.serial('an instance killed while the person is on the WeChat page: the login completes through the other', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop');
  const { url, check } = await rp.start();
  await page.goto(url);
  const victim = brokers.instances[0]!;
  victim.process.kill('SIGKILL');
  await victim.stop();
  await scanQr(page);
  const tokens = await rp.finish(await rp.landed(page), check);
  t.truthy(tokens.claims()!.sub);
  await context.close();
  await brokers.restart(0);
});

test.serial('16 logins of one person at the same moment, inside WeChat, across both instances: every one lands at the app with a code, one sub', async (t) => {
  const logins = await Promise.all(Array.from({ length: 16 }, async () => {
    const { url, check } = await rp.start();
    const landed = await inWeChatLoginByFetch(url, { issuer: brokers.issuer, direct: brokers.issuer }, brokers.simulator.url, 'chen', USER_AGENTS.wechat);
    return { landed: new URL(landed), check };
  }));
  const answers = logins.map(({ landed }) => Object.fromEntries(landed.searchParams));
  t.deepEqual(answers.filter((answer) => !answer.code), [], 'no login ended in an error');
  const subs = await Promise.all(logins.map(async ({ landed, check }) => (await rp.finish(landed, check)).claims()!.sub));
  t.is(new Set(subs).size, 1);
});

test.serial('a device\'s login across instances: the code from one, the person confirming through both, the device polling the other', async (t) => {
  const [a, b] = brokers.instances as [RunningBroker, RunningBroker];
  const asked = await fetch(`${a.origin}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'tv', scope: 'openid' }) });
  const device = await asked.json() as { device_code: string; verification_uri_complete: string };
  const { context, page } = await newPerson(browser, 'wechat');
  try {
    await setPhoneUser(context, brokers.simulator.url, 'alice');
    await page.goto(device.verification_uri_complete);
    await page.getByRole('button', { name: '确认，登录这台设备' }).click();
    await page.getByRole('heading', { name: '设备已登录' }).waitFor();
  } finally {
    await context.close();
  }
  let answer = await pollOnce(`${b.origin}/token`, 'tv', device.device_code);
  for (let polls = 1; ['authorization_pending', 'slow_down'].includes(String(answer.body.error)) && polls < 10; polls += 1) {
    await setTimeout(5000);
    answer = await pollOnce(`${b.origin}/token`, 'tv', device.device_code);
  }
  t.is(answer.status, 200);
  t.truthy(answer.body.id_token, 'instance B issued the tokens for the login confirmed through both');
});

test.serial('20 concurrent redemptions of one code: exactly one success, invalid_grant for the rest', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop');
  const { landed, check } = await qrLogin(page);
  const code = landed.searchParams.get('code')!;
  const results = await tokenRequests({
    grant_type: 'authorization_code', code, redirect_uri: rpServer.callback, code_verifier: check.verifier,
  }, 20);
  t.is(results.filter((result) => result.status === 200).length, 1);
  t.true(results.filter((result) => result.status !== 200).every((result) => result.status === 400 && result.error === 'invalid_grant'));
  await context.close();
});

test.serial('20 concurrent uses of one refresh token (rotated on use): exactly one success', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop');
  const { landed, check } = await qrLogin(page, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await rp.finish(landed, check);
  const results = await tokenRequests({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, 20);
  t.is(results.filter((result) => result.status === 200).length, 1);
  t.true(results.filter((result) => result.status !== 200).every((result) => result.error === 'invalid_grant'));
  await context.close();
});

async function readyAgain(): Promise<void> {
  await until('the brokers are ready again', async () => (await Promise.all(brokers.instances.map((instance) =>
    fetch(`${instance.origin}/readyz`).then((response) => response.status).catch(() => 0)))).every((status) => status === 200));
}

test.serial('Redis restarted with AOF: sessions and refresh tokens still work', async (t) => {
  const { page, context } = await newPerson(browser, 'desktop');
  const { landed, check } = await qrLogin(page, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await rp.finish(landed, check);
  await redis.restart();
  await readyAgain();
  const silent = await rp.start({ prompt: 'none' });
  await page.goto(silent.url);
  const again = await rp.finish(await rp.landed(page), silent.check);
  t.is(again.claims()!.sub, tokens.claims()!.sub, 'the session survived');
  const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
  t.is(refreshed.claims()!.sub, tokens.claims()!.sub, 'the refresh token survived');
  await context.close();
});

// The time limits themselves (readiness's 2 s, STORAGE_TIMEOUT_MS) are the broker's own
// timers: a paused Redis never answers, so an answer at all shows they fired. Measuring
// them here would fail on a loaded machine without telling anything about the broker.
test.serial('Redis paused: /readyz 503, requests fail with a clear page instead of hanging (the log names the operation that failed), and the brokers recover by themselves', async (t) => {
  const instance = brokers.instances[1]!;
  redis.pause();
  try {
    const ready = await fetch(`${instance.origin}/readyz`);
    t.is(ready.status, 503);

    const { page, context } = await newPerson(browser, 'desktop', 'en');
    const response = await page.goto((await rp.start()).url);
    t.is(response?.status(), 503);
    t.regex(await page.locator('p').first().innerText(), /login service is temporarily unavailable/);
    t.notRegex(await page.locator('p').first().innerText(), /WeChat/, 'it says what is true: storage, not WeChat');
    // The error (or the error pages' line) names the operation that failed, whichever it was.
    const named = (line: Record<string, unknown>) => {
      const err = line.err as { operation?: unknown; message?: unknown } | undefined;
      const operation = err ? err.operation : line.operation;
      return typeof operation === 'string' && /^\w+( \w+)?$/.test(operation) && (!err || String(err.message).includes(`is unavailable (${operation}): `));
    };
    // Behind the round-robin proxy, whichever instance the page's request reached.
    t.true(await eventually(() => brokers.instances.some((broker) => broker.logs().some(named))), 'the operator is told which operation failed');
    await context.close();
  } finally {
    redis.resume();
  }
  await readyAgain();
  const { page, context } = await newPerson(browser, 'desktop');
  const { landed, check } = await qrLogin(page);
  t.truthy((await rp.finish(landed, check)).claims()!.sub, 'logins work again');
  for (const broker of brokers.instances) t.is(broker.process.exitCode, null, 'no instance crashed');
  await context.close();
});

test.serial('Redis under CLIENT PAUSE: /readyz 503, ready again once the pause ends', async (t) => {
  // A paused Redis cannot be told to resume (CLIENT UNPAUSE waits like any command), so
  // the pause is timed. Should a loaded machine let a pause end before the broker's check,
  // the check says 200 and is made again under a longer pause; a broker that never says
  // 503 fails all three.
  const statuses: number[] = [];
  for (const pauseMs of [5000, 20_000, 60_000]) {
    spawnSync('redis-cli', ['-p', String(redis.port), 'CLIENT', 'PAUSE', String(pauseMs), 'ALL'], { timeout: 60_000 });
    statuses.push((await fetch(`${brokers.instances[0]!.origin}/readyz`)).status);
    await readyAgain();
    if (statuses.at(-1) === 503) break;
  }
  t.is(statuses.at(-1), 503, `readiness during the pauses: ${statuses.join(', ')}`);
  t.is((await fetch(`${brokers.instances[0]!.origin}/readyz`)).status, 200);
});

test.serial('Redis stopped: pages fail at once with a clear page; Redis started again: logins work, nothing crashed', async (t) => {
  await redis.stop();
  try {
    const ready = await fetch(`${brokers.instances[0]!.origin}/readyz`);
    t.is(ready.status, 503);
    t.like(await ready.json(), { status: 'storage unreachable' });
    const { page, context } = await newPerson(browser, 'desktop');
    const response = await page.goto((await rp.start()).url);
    t.is(response?.status(), 503);
    t.regex(await page.locator('p').first().innerText(), /微信暂时无法响应|请稍后再试/);
    await context.close();
  } finally {
    await redis.restart();
  }
  await readyAgain();
  const { page, context } = await newPerson(browser, 'desktop');
  const { landed, check } = await qrLogin(page);
  t.truthy((await rp.finish(landed, check)).claims()!.sub);
  for (const broker of brokers.instances) t.is(broker.process.exitCode, null, 'no instance crashed');
  await context.close();
});
