// Operators rotate signing keys and add relying parties with the CLIs and SIGHUP, without
// reading the source and without dropping a request.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { startQrLogin } from '../helpers/wechat.ts';
import { until } from '../helpers/wait.ts';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(name: 'keys' | 'clients', ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--experimental-strip-types', `src/cli/${name}.ts`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() };
}

/** SIGHUP, then wait for the broker to say how the reload went. */
async function reload(broker: RunningBroker): Promise<string> {
  const before = broker.logs().length;
  broker.process.kill('SIGHUP');
  const line = await until('the broker logs its reload', () => broker.logs().slice(before).find((entry) => /reload/.test(String(entry.msg))));
  return String(line.msg);
}

test.serial('keys: a file that cannot be written, or a command it does not have: one line naming the path or the commands, exit code 2, no stack trace', (t) => {
  const unwritable = cli('keys', 'new', '--file', join(tempDir('broker-keys-bad'), 'no-such-dir', 'jwks.json'));
  t.is(unwritable.status, 2);
  t.regex(unwritable.stderr, /^keys: ENOENT: no such file or directory, open '[^']*no-such-dir\/jwks\.json\.tmp'$/);
  const unknown = cli('keys', 'rotate');
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /^keys: usage: npm run keys -- new\|add\|promote\|retire\|list --file JWKS_FILE/);
  for (const run of [unwritable, unknown]) t.notRegex(run.stderr, /\n|at .*:\d+:\d+/);
});

test.serial('key rotation: add (published, not signing), promote (signs), retire; tokens signed by the old key verify until it is retired', async (t) => {
  const dir = tempDir('broker-keys');
  const jwksFile = join(dir, 'jwks.json');
  t.is(cli('keys', 'new', '--file', jwksFile).status, 0);
  const oldKid = (JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: Array<{ kid: string }> }).keys[0]!.kid;
  const [browser, rpServer] = await Promise.all([launchChromium(), startRpServer()]);
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), JWKS_FILE: jwksFile });
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { page, context } = await newPerson(browser, 'desktop');
    const check = await startQrLogin(page, rp, { scope: 'openid offline_access', prompt: 'consent' });
    await page.getByRole('button', { name: '同意' }).click();
    let tokens: oidc.TokenEndpointResponse = await rp.finish(await rp.landed(page), check);
    await context.close();
    const oldToken = tokens.id_token!;
    t.is(decodeProtectedHeader(oldToken).kid, oldKid);
    const verifies = async (token: string) => {
      const jwks = createRemoteJWKSet(new URL(`${broker.issuer}/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 });
      return jwtVerify(token, jwks, { issuer: broker.issuer, currentDate: new Date() }).then(() => true, () => false);
    };
    const nextIdToken = async () => {
      tokens = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      return tokens.id_token!;
    };

    const before = String((await fetch(`${broker.issuer}/jwks`)).headers.get('etag'));
    const added = cli('keys', 'add', '--file', jwksFile);
    t.is(added.status, 0);
    const newKid = /added RS256 (\S+):/.exec(added.stdout)![1]!;
    t.is(await reload(broker), 'reloaded CLIENTS_FILE and JWKS_FILE');
    const revalidated = await fetch(`${broker.issuer}/jwks`, { headers: { 'if-none-match': before } });
    t.is(revalidated.status, 200, 'a cache revalidating the JWKS it holds gets the new one');
    t.not(revalidated.headers.get('etag'), before);
    const published = await revalidated.json() as { keys: Array<{ kid: string; d?: string }> };
    t.true(published.keys.some((key) => key.kid === newKid), 'the new key is published first');
    t.true(published.keys.every((key) => key.d === undefined), 'only public keys are published');
    t.true(published.keys.every((key) => !('iat' in key)), 'when a key was made (npm run keys writes it, the doctor reads it) stays in the file');
    t.is(decodeProtectedHeader(await nextIdToken()).kid, oldKid, 'and does not sign yet');

    t.is(cli('keys', 'promote', '--file', jwksFile, '--kid', newKid).status, 0);
    await reload(broker);
    t.is(decodeProtectedHeader(await nextIdToken()).kid, newKid, 'the promoted key signs');
    t.true(await verifies(oldToken), 'a token signed with the old key still verifies during rotation');

    const refused = cli('keys', 'retire', '--file', jwksFile, '--kid', newKid);
    t.is(refused.status, 2);
    t.regex(refused.stderr, /is the RS256 signing key: promote another RS256 key first/);
    t.is(cli('keys', 'retire', '--file', jwksFile, '--kid', oldKid).status, 0);
    await reload(broker);
    t.false(await verifies(oldToken), 'once retired, its tokens no longer verify');
    t.true(await verifies(await nextIdToken()));
  } finally {
    await broker.stop();
    await Promise.all([browser.close(), rpServer.close()]);
  }
});

test.serial('a new client from the CLI, added to CLIENTS_FILE and loaded on SIGHUP while requests keep coming; a bad file is refused and the running clients stay', async (t) => {
  const rpOrigin = 'https://rp.example';
  const clientsFile = writeClientsFile(testClients(rpOrigin));
  const broker = await startBroker({ CLIENTS_FILE: clientsFile });
  try {
    const made = cli('clients', 'new', '--id', 'shop', '--name', 'Our shop', '--redirect-uri', 'https://shop.example.com/cb', '--first-party');
    t.is(made.status, 0);
    const shop = JSON.parse(made.stdout) as { client_id: string; client_secret: string };
    t.regex(shop.client_secret, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    const authorize = (clientId: string, redirectUri: string) => fetch(`${broker.issuer}/auth?${new URLSearchParams({
      client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid',
    })}`, { redirect: 'manual' });
    t.is((await authorize('shop', 'https://shop.example.com/cb')).status, 400, 'unknown before the reload');

    let running = true;
    const statuses: number[] = [];
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (running) {
        const response = await authorize('first-party', `${rpOrigin}/callback`).catch(() => undefined);
        statuses.push(response?.status ?? 0);
      }
    }));
    writeFileSync(clientsFile, JSON.stringify([...testClients(rpOrigin), shop]));
    t.is(await reload(broker), 'reloaded CLIENTS_FILE and JWKS_FILE');
    // Keep the load on for 20 more requests after the swap (counted, not timed: the machine may be busy).
    const after = statuses.length + 20;
    await until('20 more requests are answered', () => statuses.length >= after);
    running = false;
    await load;
    t.true(statuses.length > 20);
    t.deepEqual([...new Set(statuses)], [303], 'no request dropped or failed around the reload');
    const known = await authorize('shop', 'https://shop.example.com/cb');
    t.is(known.status, 303);
    t.regex(String(known.headers.get('location')), /^\/interaction\//);

    writeFileSync(clientsFile, JSON.stringify([{ client_id: 'broken', redirect_uris: ['not a url'] }]));
    const checked = cli('clients', 'check', '--file', clientsFile);
    t.is(checked.status, 2);
    t.regex(checked.stderr, /^clients: CLIENTS_FILE: client broken: /);
    t.is(await reload(broker), 'reload refused: the running configuration stays');
    t.is((await authorize('shop', 'https://shop.example.com/cb')).status, 303, 'the running clients stay');
  } finally {
    await broker.stop();
  }
});

test.serial('clients check judges a file as the broker does: an admin tool with its scope and an API are valid; a client listing an unknown API is not', async (t) => {
  const api = 'https://api.example.com/orders';
  const file = writeClientsFile([
    { client_id: 'ops', client_secret: 'ops-secret-0123456789abcdef0123456789', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read' },
    { client_id: 'orders', client_secret: 'orders-secret-0123456789abcdef012345', grant_types: [], response_types: [], redirect_uris: [], resource_server: true, resource: api, resource_scopes: { 'orders:read': 'See your orders' } },
    { client_id: 'shop', client_secret: 'shop-secret-0123456789abcdef0123456789', redirect_uris: ['https://shop.example.com/cb'], resources: [api] },
  ]);
  const valid = cli('clients', 'check', '--file', file);
  t.is(valid.status, 0, valid.stderr);
  t.regex(valid.stdout, /3 clients, all valid/);
  writeFileSync(file, JSON.stringify([{ client_id: 'shop', client_secret: 'shop-secret-0123456789abcdef0123456789', redirect_uris: ['https://shop.example.com/cb'], resources: [api] }]));
  const refused = cli('clients', 'check', '--file', file);
  t.is(refused.status, 2);
  t.regex(refused.stderr, /client shop: https:\/\/api\.example\.com\/orders in resources is no API's resource/);
});

test.serial('clients new writes one of the company\'s APIs and an app that may call it: the broker takes both and starts the app\'s login for the API; mistakes are refused with what to fix', async (t) => {
  const api = 'https://api.example.com/stock';
  const file = writeClientsFile(testClients('https://rp.example'));
  const made = cli('clients', 'new', '--id', 'stock-api', '--api', api, '--name', 'Stock', '--scope', 'stock:read=See what is in stock', '--scope', 'stock:hold[zh-CN]=为你保留商品', '--scope', 'stock:hold[en]=Hold items for you');
  t.is(made.status, 0, made.stderr);
  const entry = JSON.parse(made.stdout) as Record<string, unknown>;
  t.like(entry, { client_id: 'stock-api', client_name: 'Stock', resource_server: true, resource: api, resource_scopes: { 'stock:read': 'See what is in stock', 'stock:hold': { 'zh-CN': '为你保留商品', en: 'Hold items for you' } } });
  t.regex(String(entry.client_secret), /^[A-Za-z0-9_-]{43}$/, 'a secret to introspect opaque tokens with');
  writeFileSync(file, JSON.stringify([...testClients('https://rp.example'), entry]));

  t.regex(cli('clients', 'new', '--id', 'shop', '--redirect-uri', 'https://shop.example.com/cb', '--resource', api).stderr, /--resource needs --file CLIENTS_FILE/);
  t.regex(cli('clients', 'new', '--id', 'shop', '--redirect-uri', 'https://shop.example.com/cb', '--resource', 'https://api.example.com/none', '--file', file).stderr, /client shop: https:\/\/api\.example\.com\/none in resources is no API's resource/);
  t.regex(cli('clients', 'new', '--id', 'stock-api', '--redirect-uri', 'https://shop.example.com/cb', '--file', file).stderr, /already has a client stock-api/);
  t.regex(cli('clients', 'new', '--id', '_console', '--redirect-uri', 'https://shop.example.com/cb').stderr, /^clients: --id: a client_id beginning with "_" is the broker's own/, 'the broker\'s own pages sign in as _account and _console');
  t.regex(cli('clients', 'new', '--id', 'prices-api', '--api', 'https://api.example.com/prices', '--scope', 'stock:read=See prices', '--file', file).stderr, /the scope stock:read is already another API's/);
  t.regex(cli('clients', 'new', '--id', 'prices-api', '--api', 'https://api.example.com/prices', '--scope', 'prices=x', '--scope', 'prices[en]=y').stderr, /--scope prices: give it one text, or one text per language/);
  t.regex(cli('clients', 'new', '--id', 'prices-api', '--api', 'https://api.example.com/prices', '--scope', 'prices[fr]=x').stderr, /NAME\[LANG\]=TEXT for each language \(zh-CN, zh-TW, en\)/);
  t.regex(cli('clients', 'new', '--id', 'prices-api', '--api', 'https://api.example.com/prices').stderr, /at least one --scope/);
  t.regex(cli('clients', 'new', '--id', 'prices-api', '--api', 'https://api.example.com/prices', '--scope', 'prices=x', '--redirect-uri', 'https://x.example/cb').stderr, /--redirect-uri is for apps that log people in/);

  const app = cli('clients', 'new', '--id', 'shop', '--redirect-uri', 'https://shop.example.com/cb', '--public', '--resource', api, '--file', file);
  t.is(app.status, 0, app.stderr);
  const shop = JSON.parse(app.stdout) as Record<string, unknown>;
  t.deepEqual(shop.resources, [api]);
  writeFileSync(file, JSON.stringify([...testClients('https://rp.example'), entry, shop]));
  t.is(cli('clients', 'check', '--file', file).status, 0);

  const broker = await startBroker({ CLIENTS_FILE: file });
  try {
    const authorize = (resource: string) => fetch(`${broker.issuer}/auth?${new URLSearchParams({
      client_id: 'shop', redirect_uri: 'https://shop.example.com/cb', response_type: 'code', scope: 'openid stock:read', resource,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGEjp-cStw', code_challenge_method: 'S256',
    })}`, { redirect: 'manual' });
    const started = await authorize(api);
    t.is(started.status, 303, 'the broker takes both entries');
    t.regex(String(started.headers.get('location')), /^\/interaction\//);
    const refused = new URL(String((await authorize('https://api.example.com/none')).headers.get('location')));
    t.is(refused.searchParams.get('error'), 'invalid_target', 'an API the app does not list');
  } finally {
    await broker.stop();
  }
});
