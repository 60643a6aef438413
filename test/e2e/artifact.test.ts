// The production artifact, built and started the way the Dockerfile does, without Docker
// (no engine runs on our machines): its build stage's COPY and RUN steps in a clean temp
// copy (production dependencies only), then the runtime stage's ENV and CMD, with
// production settings. Then its HEALTHCHECK command and one login through it.
//
// What this does NOT cover: the base image (NODE_IMAGE, node:24-slim unless given; here the
// test's own Node 24), an npm mirror given as NPM_REGISTRY (here npm's own configuration),
// tini as PID 1 (ENTRYPOINT; here Node gets the signals directly), USER node and file
// ownership, EXPOSE, and the HEALTHCHECK timing options. `docker build` on a machine
// with an engine covers those.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKeys } from '../../src/config/keys.ts';
import { testClients } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { envOf, execForm, parseDockerfile } from '../helpers/dockerfile.ts';
import { freePort } from '../helpers/ports.ts';
import { startProcess, type StartedProcess } from '../helpers/process.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { simApp, startTestSimulator, wechatEnv } from '../helpers/simulator.ts';
import { startQrLogin } from '../helpers/wechat.ts';
import { startRedis } from '../helpers/redis.ts';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The build stage: COPY from the context, RUN in the work dir. */
function build(dir: string): void {
  const [buildStage] = parseDockerfile(join(ROOT, 'Dockerfile'));
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const { op, args } of buildStage!.instructions) {
    if (op === 'COPY') {
      const parts = args.split(' ').filter((part) => !part.startsWith('--'));
      const dest = parts.pop()!;
      for (const source of parts) {
        if (ignored.includes(source)) throw new Error(`${source} is copied but .dockerignore leaves it out`);
        cpSync(join(ROOT, source), join(dir, dest.endsWith('/') || parts.length > 1 ? join(dest, source) : dest), { recursive: true });
      }
    } else if (op === 'RUN') {
      const run = spawnSync('sh', ['-c', args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      if (run.status !== 0) throw new Error(`RUN ${args} failed:\n${run.stdout}${run.stderr}`);
    }
  }
}

/** Every file and directory under `dir`, with its size and when it last changed. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((entry) => {
    const stat = statSync(join(dir, entry));
    return `${entry} ${stat.size} ${stat.mtimeMs}`;
  });
}

test.serial('the production artifact: built like the Dockerfile, started with its CMD and ENV, healthy, a login works, and it wrote no file (a read-only root filesystem will do)', async (t) => {
  const dir = tempDir('broker-artifact');
  build(dir);
  t.false(existsSync(join(dir, 'node_modules', 'typescript')), 'production dependencies only');
  t.false(existsSync(join(dir, 'node_modules', 'node')), 'no Node binary from the dev dependencies');
  t.false(existsSync(join(dir, 'test')), 'tests stay out of the image');

  const runtime = parseDockerfile(join(ROOT, 'Dockerfile')).at(-1)!;
  const [command, ...args] = execForm(runtime, 'CMD');
  t.is(command, 'node');
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  t.is([command, ...args].join(' '), start, 'the image starts the broker as `npm start` does (the bench too), with the same Node flags');
  const open = simApp('open');
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const [browser, rpServer, simulator, redis] = await Promise.all([
    launchChromium(), startRpServer(), startTestSimulator([open], [new URL(issuer).host]), startRedis(),
  ]);
  const jwks = join(dir, 'jwks.json');
  const clients = join(dir, 'clients.json');
  writeFileSync(jwks, JSON.stringify(await generateSigningKeys()));
  writeFileSync(clients, JSON.stringify(testClients(rpServer.origin)));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...envOf(runtime),
    PORT: String(port),
    ISSUER: issuer,
    COOKIE_KEYS: randomBytes(32).toString('hex'),
    JWKS_FILE: jwks,
    CLIENTS_FILE: clients,
    ...wechatEnv(simulator, [open]),
    REDIS_URL: redis.url,
    // No TLS on this test rig: production's http refusal is lifted the documented way.
    INSECURE_LAB: 'true',
  };
  t.is(env.NODE_ENV, 'production');
  // Where a process would write if it wrote anything: its own directory, its home, the temp directory.
  const [home, tmp] = [tempDir('broker-artifact-home'), tempDir('broker-artifact-tmp')];
  Object.assign(env, { HOME: home, TMPDIR: tmp });
  const before = snapshot(dir);
  let started: StartedProcess | undefined;
  try {
    started = await startProcess(process.execPath, args, {
      cwd: dir, env, ready: (printed) => printed.includes('broker started'), what: 'the artifact',
    });
    const { child, output, exited } = started;
    t.regex(output(), /mode\s+production/);
    t.false(output().includes('simulator'), 'production never runs the simulator');

    const [healthCommand, ...healthArgs] = execForm(runtime, 'HEALTHCHECK');
    t.is(healthCommand, 'node');
    const health = spawnSync(process.execPath, healthArgs, { env, timeout: 60_000 });
    t.is(health.status, 0, 'the HEALTHCHECK command passes');

    const rp = await createRp(issuer, rpServer);
    const { page, context } = await newPerson(browser, 'desktop');
    const check = await startQrLogin(page, rp);
    t.truthy((await rp.finish(await rp.landed(page), check)).claims()!.sub);
    await context.close();

    child.kill('SIGTERM');
    t.is(await exited, 0);
    t.deepEqual(snapshot(dir), before, 'nothing written in its directory (examples/kubernetes.yaml: readOnlyRootFilesystem)');
    t.deepEqual([...snapshot(home), ...snapshot(tmp)], [], 'nor in its home or the temp directory');
  } finally {
    started?.child.kill('SIGKILL');
    await Promise.all([browser.close(), rpServer.close(), simulator.close(), redis.stop()]);
  }
});
