// Real redis-server processes for the tests: one server (optionally with AOF) or a
// 3-node Cluster, each on free ports in a temp dir, stopped whatever the outcome; and
// MONITOR, for tests that count what the broker sends.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';
import { track } from './process.ts';
import { until, WAIT_LIMIT_MS } from './wait.ts';
import { tempDir } from './temp.ts';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** Stops and starts again on the same port and dir (AOF brings the data back). */
  restart(): Promise<void>;
}

/** A redis-server that exited before it answered (a port taken meanwhile, say): the end of its log says why. */
class RedisExitedError extends Error {
  constructor(port: number, log: string | undefined) {
    const tail = log && existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : 'no log';
    super(`redis-server on ${port} exited before it answered: ${tail}`);
  }
}

/** Waits for `child` to answer PING; stops it when it never does, and says so at once when it exits. */
async function waitForPong(port: number, child: ChildProcess, log?: string): Promise<void> {
  try {
    await until(`redis-server on ${port} answers`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new RedisExitedError(port, log);
      return spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', timeout: 60_000 }).stdout.trim() === 'PONG';
    });
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
}

function launch(port: number, dir: string, extra: string[]): ChildProcess {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no',
    '--protected-mode', 'no', '--logfile', join(dir, 'redis.log'), ...extra,
  ], { stdio: 'ignore' });
  return track(child);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
  await exited;
}

export async function startRedis(options: { appendonly?: boolean; extra?: string[]; port?: number } = {}): Promise<RedisServer> {
  const port = options.port ?? await freePort();
  const dir = tempDir('broker-redis');
  const args = ['--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always', ...(options.extra ?? [])];
  let child = launch(port, dir, args);
  await waitForPong(port, child, join(dir, 'redis.log'));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pause: () => { child.kill('SIGSTOP'); },
    resume: () => { child.kill('SIGCONT'); },
    stop: () => stopProcess(child),
    async restart() {
      await stopProcess(child);
      child = launch(port, dir, args);
      await waitForPong(port, child, join(dir, 'redis.log'));
    },
  };
}

export interface RedisCluster {
  readonly url: string;
  stop(): Promise<void>;
}

/** Three nodes made into a Cluster; started again on other ports (twice at most) when a node could not start. */
export async function startRedisCluster(): Promise<RedisCluster> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await clusterOnce();
    } catch (error) {
      if (!(error instanceof RedisExitedError) || attempt === 3) throw error;
    }
  }
}

async function clusterOnce(): Promise<RedisCluster> {
  const nodes: Array<{ port: number; log: string; child: ChildProcess }> = [];
  for (let i = 0; i < 3; i += 1) {
    // Its bus port (port + 10000) below the ephemeral range too.
    const port = await freePort(10_000);
    const dir = tempDir('broker-redis-cluster');
    nodes.push({ port, log: join(dir, 'redis.log'), child: launch(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '15000', '--appendonly', 'no']) });
  }
  const stop = async () => { await Promise.all(nodes.map(({ child }) => stopProcess(child))); };
  try {
    await Promise.all(nodes.map(({ port, child, log }) => waitForPong(port, child, log)));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map(({ port }) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: WAIT_LIMIT_MS });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await until('the Redis Cluster is ready', () => nodes.every(({ port }) =>
      spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8', timeout: 60_000 }).stdout.includes('cluster_state:ok')));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis-cluster://${nodes.map(({ port }) => `127.0.0.1:${port}`).join(',')}`, stop };
}

export interface RedisSentinel {
  /** REDIS_URL naming the master through this Sentinel. */
  readonly url: string;
  stop(): Promise<void>;
}

/** A real Sentinel (redis-server --sentinel) watching `master` as "mymaster". */
export async function startSentinel(master: RedisServer): Promise<RedisSentinel> {
  const port = await freePort();
  const dir = tempDir('broker-sentinel');
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'protected-mode no',
    `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`, 'sentinel down-after-milliseconds mymaster 60000', '',
  ].join('\n'));
  const child = track(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
  await waitForPong(port, child);
  return { url: `redis-sentinel://127.0.0.1:${port}/mymaster`, stop: () => stopProcess(child) };
}

/** Redis's own view of its commands (MONITOR, through redis-cli), from the moment it resolves on. */
export async function monitor(port: number): Promise<{ seen(): string; stop(): void }> {
  const child = track(spawn('redis-cli', ['-p', String(port), 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => { seen += chunk.toString(); });
  const stop = () => child.kill();
  // MONITOR answers OK once it is watching.
  await until('MONITOR is watching', () => seen.startsWith('OK')).catch((error: unknown) => { stop(); throw error; });
  return { seen: () => seen, stop };
}
