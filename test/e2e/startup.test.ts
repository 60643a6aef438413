// Starting the broker as an operator does: a banner when it starts, one clear line when
// the configuration is wrong (never a stack trace), health endpoints once up.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKey } from '../../src/config/keys.ts';
import { startBroker } from '../helpers/broker.ts';
import { tempDir } from '../helpers/temp.ts';
import { CHILD_ENV, startProcess, stopProcess } from '../helpers/process.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('a configuration error: one line naming the variable, exit code 1, no stack trace', (t) => {
  const run = spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts'], {
    cwd: ROOT, env: { ...CHILD_ENV, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 120_000,
  });
  t.is(run.status, 1);
  t.is(run.stderr.trim(), 'Configuration error: COOKIE_KEYS, JWKS_FILE, CLIENTS_FILE: required when NODE_ENV=production');
  t.notRegex(run.stderr + run.stdout, /at .*:\d+:\d+/);
});

test('an argument (npm start -- --port 4000): refused with where the settings are, exit code 2, before anything starts; --help prints the same and --version the version, exit code 0', (t) => {
  // In production with nothing set, a start that read its configuration would stop on it (exit code 1).
  const start = (...args: string[]) => spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts', ...args], {
    cwd: ROOT, env: { ...CHILD_ENV, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 120_000,
  });
  const refused = start('--port', '4000');
  t.is(refused.status, 2);
  t.regex(refused.stderr, /^npm start takes no arguments but --help and --version \(given: --port 4000\)\.\nusage: npm start \[-- --help \| --version\]\n\nThe broker takes no other arguments: it is configured by environment variables/);
  t.regex(refused.stderr, /PORT=4000 npm start/);
  t.is(refused.stdout, '');
  for (const asked of [start('--help'), start('-h')]) {
    t.is(asked.status, 0);
    t.regex(asked.stdout, /^usage: npm start[^\n]*\n[\s\S]*README\.md, "Configuration"; \.env\.example lists them[\s\S]*dev mode, with the built-in WeChat simulator\.\n$/);
    t.is(asked.stderr, '');
  }
  for (const asked of [start('--version'), start('-v')]) t.like(asked, { status: 0, stdout: `${VERSION}\n`, stderr: '' });
  t.is(start('--version', '--help').status, 2, 'one at a time');
});

test('a client that oidc-provider finds wrong in CLIENTS_FILE: one line naming the client, exit code 1, no stack trace', (t) => {
  const dir = tempDir('broker-clients');
  const clients = join(dir, 'clients.json');
  writeFileSync(clients, JSON.stringify([{ client_id: 'shop', client_secret: 'shop-secret-0123456789abcdef0123456789', redirect_uris: 'https://shop.example/cb' }]));
  const run = spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts'], {
    cwd: ROOT, env: { ...CHILD_ENV, CLIENTS_FILE: clients, PORT: '0', WECHAT_SIMULATOR_PORT: '0' }, encoding: 'utf8', timeout: 120_000,
  });
  t.is(run.status, 1);
  t.regex(run.stderr.trim(), /^Configuration error: CLIENTS_FILE: client shop: redirect_uris must be an array$/);
  t.notRegex(run.stderr + run.stdout, /at .*:\d+:\d+|throw new/);
});

test('a port another process holds (the public one, METRICS_PORT, the simulator\'s): one line naming the variable, exit code 1, no stack trace', async (t) => {
  const running = await startBroker({});
  try {
    const held = (url: string) => new URL(url).port;
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: held(running.origin), WECHAT_SIMULATOR_PORT: '0' }, 'PORT'],
      [{ PORT: '0', WECHAT_SIMULATOR_PORT: held(running.simulator) }, 'WECHAT_SIMULATOR_PORT'],
      [{ PORT: '0', WECHAT_SIMULATOR_PORT: '0', METRICS_PORT: held(running.origin) }, 'METRICS_PORT'],
    ];
    for (const [env, variable] of cases) {
      const run = spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts'], { cwd: ROOT, env: { ...CHILD_ENV, ...env }, encoding: 'utf8', timeout: 120_000 });
      t.is(run.status, 1, variable);
      t.regex(run.stderr.trim(), new RegExp(`^Cannot start: ${variable}: cannot listen on [^ ]+:\\d+ \\(EADDRINUSE\\): the port is in use \\(another broker, or another program\\): stop it or choose another port$`), variable);
      t.notRegex(run.stderr + run.stdout, /at .*:\d+:\d+|throw new/, variable);
    }
  } finally {
    await running.stop();
  }
});

test('dev mode: a banner with URL, mode, storage, the estate, simulator, demo and warnings; health endpoints answer; SIGTERM exits 0', async (t) => {
  const broker = await startBroker({});
  try {
    const banner = broker.output();
    for (const label of ['URL', 'mode', 'storage', 'upstreams', 'platforms', 'sessions', 'simulator', 'demo', 'warning']) t.regex(banner, new RegExp(`\\n  ${label}\\s`));
    t.regex(banner, /\n {2}sessions {3}end 14 days unused, 30 days after the login at most\n/, 'the lifetimes in force, as SESSION_IDLE_HOURS and SESSION_MAX_HOURS set them');
    t.true(banner.includes(`\n  WeChat OIDC broker ${VERSION} on Node.js ${process.versions.node}\n`), 'which version runs, on which Node');
    t.true(await broker.logged((line) => line.msg === 'broker started' && line.version === VERSION), 'and the start\'s log line says it');
    t.regex(banner, /mode\s+development/);
    t.regex(banner, /\n {2}admin API {2}http:\S+\/admin\/openapi\.json \(OpenAPI 3\.1\)\n/, 'where an operator\'s tools find the admin API');
    t.regex(banner, /\n {2}console {4}http:\S+\/console \(anyone who logs in: the simulator's people; CONSOLE_OPERATORS names operators\)\n/);
    t.regex(banner, /upstreams\s+open: website app .*; mp: Official Account .*; shop-mp: Official Account .* through platform platform/);
    t.deepEqual(broker.logs().filter((line) => Number(line.level) >= 40).map((line) => line.msg), [], 'nothing to warn of: the banner says what dev mode lacks');
    const health = await fetch(`${broker.issuer}/healthz`);
    t.deepEqual(await health.json(), { status: 'ok' });
    // The simulated platform pushes its first ticket a second after start, as WeChat would within 10 minutes.
    t.true(await broker.logged((line) => line.msg === 'component_verify_ticket received', 20_000));
    const ready = await fetch(`${broker.issuer}/readyz`);
    t.deepEqual(await ready.json(), { status: 'ready', storage: { protocol: 'memory', accounts: 'memory' }, platforms: { platform: 'ready' } });
    const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    t.deepEqual(discovery.response_types_supported, ['code', 'none'], 'none only for the broker\'s own account page client');
    t.true(discovery.backchannel_logout_supported);
    t.true(discovery.backchannel_logout_session_supported);
    t.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    t.true(discovery.authorization_response_iss_parameter_supported);
    t.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256', 'ES256'], 'dev mode makes an RS256 and an ES256 key');
    t.true((discovery.scopes_supported as string[]).includes('wechat'));
  } finally {
    t.is(await broker.stop(), 0);
  }
});

test('discovery offers exactly the algorithms the keys sign with; a key the broker cannot use stops the start with one line naming it', async (t) => {
  const dir = tempDir('broker-jwks');
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: await Promise.all([generateSigningKey('RS256'), generateSigningKey('EdDSA')]) }));
  const broker = await startBroker({ JWKS_FILE: jwks });
  try {
    const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    t.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256', 'EdDSA']);
    const signedByBroker = Object.entries(discovery).filter(([key]) => /^(id_token|userinfo|introspection|authorization)_signing_alg_values_supported$/.test(key));
    t.true(signedByBroker.every(([, algs]) => (algs as string[]).every((alg) => ['RS256', 'EdDSA'].includes(alg))), 'nothing the broker signs offers an algorithm it has no key for');
  } finally {
    await broker.stop();
  }
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...weak, kid: 'weak' }] }));
  const run = spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts'], {
    cwd: ROOT, env: { ...CHILD_ENV, JWKS_FILE: jwks, PORT: '0' }, encoding: 'utf8', timeout: 120_000,
  });
  t.is(run.status, 1);
  t.is(run.stderr.trim(), 'Configuration error: JWKS_FILE: key 0 (kid weak) is an RSA key of 1024 bits: at least 2048 are needed');
});

test('LOG_FORMAT=pretty: a line for a person at a terminal (its time, level, the request as "GET /path 200 4 ms", a message with its fields), no JSON', async (t) => {
  const port = await freePort();
  const env = { ...CHILD_ENV, PORT: String(port), HOST: '127.0.0.1', ISSUER: `http://127.0.0.1:${port}`, WECHAT_SIMULATOR_PORT: '0', LOG_FORMAT: 'pretty' };
  const started = await startProcess(process.execPath, ['--experimental-strip-types', 'src/main.ts'], { cwd: ROOT, env, ready: (printed) => printed.includes('broker started'), what: 'a pretty broker' });
  try {
    t.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    t.is((await fetch(`http://127.0.0.1:${port}/interaction/abc/wechat?code=c&state=s`)).status, 400);
    const lines = () => started.output().split('\n').filter((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] /.test(line));
    t.true(await eventually(() => lines().some((line) => /INFO: GET \/interaction\/abc\/wechat 400 \d+ ms$/.test(line))), started.output());
    t.true(lines().some((line) => /INFO: GET \/healthz 200 \d+ ms$/.test(line)));
    t.true(lines().some((line) => /INFO: WeChat callback without a live interaction in this browser {2}reqId=[\w-]+ {2}uid=abc$/.test(line)), 'a message, then its fields as key=value');
    t.false(started.output().split('\n').some((line) => line.startsWith('{')), 'no JSON line');
  } finally {
    t.is(await stopProcess(started, 'a pretty broker'), 0);
  }
  t.regex(started.output(), /INFO: stopped/);
});
