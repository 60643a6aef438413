// Starting the broker as an operator does: a banner when it starts, one clear line when
// the configuration is wrong (never a stack trace), health endpoints once up.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../helpers/broker.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a configuration error: one line naming the variable, exit code 1, no stack trace', (t) => {
  const run = spawnSync(process.execPath, ['--experimental-strip-types', 'src/main.ts'], {
    cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 20_000,
  });
  t.is(run.status, 1);
  t.is(run.stderr.trim(), 'Configuration error: COOKIE_KEYS, JWKS_FILE, CLIENTS_FILE: required when NODE_ENV=production');
  t.notRegex(run.stderr + run.stdout, /at .*:\d+:\d+/);
});

test('dev mode: a banner with URL, mode, storage, upstreams, simulator, demo and warnings; health endpoints answer; SIGTERM exits 0', async (t) => {
  const broker = await startBroker({});
  try {
    const banner = broker.output();
    for (const label of ['URL', 'mode', 'storage', 'upstreams', 'simulator', 'demo', 'warning']) t.regex(banner, new RegExp(`\\n  ${label}\\s`));
    t.regex(banner, /mode\s+development/);
    const health = await fetch(`${broker.issuer}/healthz`);
    t.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${broker.issuer}/readyz`);
    t.deepEqual(await ready.json(), { status: 'ready', storage: { protocol: 'memory', accounts: 'memory' } });
    const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    t.deepEqual(discovery.response_types_supported, ['code']);
    t.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    t.true(discovery.authorization_response_iss_parameter_supported);
    t.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
    t.true((discovery.scopes_supported as string[]).includes('wechat'));
  } finally {
    t.is(await broker.stop(), 0);
  }
});
