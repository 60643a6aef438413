// A process a test starts and waits for: ready when its output says so, killed whatever
// happens (a hang, a failed start, the test process exiting), and on failure the error
// carries everything it printed, so that a slow or broken start explains itself.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { atCompletion } from './completion.ts';

/**
 * The environment every Node process a test starts begins from: the PATH, and V8's compile
 * cache, so that the broker's sources are compiled once in a run instead of at each of the
 * suite's hundred-odd starts (a third of a start's CPU on a 2-core machine).
 */
export const CHILD_ENV = {
  PATH: process.env.PATH ?? '',
  NODE_COMPILE_CACHE: fileURLToPath(new URL('../../node_modules/.cache/node-compile', import.meta.url)),
} as const;

/** Generous: it only catches a hang. A slow, loaded machine starts well within it. */
export const START_LIMIT_MS = 120_000;

/**
 * Processes the tests started and have not seen end. When a file's tests are done, any
 * still running is a test's leak: it is killed and named, since its pipes would
 * otherwise keep the test worker (and so the whole run) waiting.
 */
const running = new Set<ChildProcess>();
/** Children started in a process group of their own (StartOptions.ownGroup): killed with their group. */
const groupLeaders = new WeakSet<ChildProcess>();

/** Kills `child` at once, and its whole group where it leads one (a server's workers go with it). */
function kill(child: ChildProcess): void {
  if (!groupLeaders.has(child) || child.pid === undefined) {
    child.kill('SIGKILL');
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

const killLeft = () => {
  for (const child of running) {
    process.stderr.write(`a test left ${child.spawnargs.join(' ').slice(0, 120)} (pid ${child.pid}) running: killed\n`);
    kill(child);
  }
};
await atCompletion(killLeft);

/** Tracks `child` until it ends (see `running`). */
export function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export interface StartedProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr, as they came). */
  output(): string;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether what it printed so far says it is ready. */
  readonly ready: (output: string) => boolean;
  /** What it is, for the error ("broker on 127.0.0.1:3000"). */
  readonly what: string;
  readonly limitMs?: number;
  /** Once ready, what it prints is read and dropped, not kept (a benchmark's server logs every request). */
  readonly dropOutputWhenReady?: boolean;
  /**
   * In a process group of its own: for a server that ends its whole group when it stops
   * (Apache's parent signals its group), which would otherwise be the test's too.
   */
  readonly ownGroup?: boolean;
}

/**
 * Generous: it only catches a hang. Node's own exit can deadlock, rarely (its platform's
 * shutdown joins a V8 compiler thread that waits for a garbage collection the exiting main
 * thread never runs: nodejs/node#54918, open), and a process stopped with SIGTERM then
 * never exits; a loaded machine stops a broker well within it (after its SHUTDOWN_DELAY_MS).
 */
export const STOP_LIMIT_MS = 120_000;

/**
 * Stops `started` with SIGTERM and gives its exit code (null: a signal ended it); one that
 * has not exited within `limitMs` is killed, and named on stderr.
 */
export async function stopProcess(started: StartedProcess, what: string, limitMs = STOP_LIMIT_MS): Promise<number | null> {
  const { child, exited } = started;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    process.stderr.write(`${what} (pid ${child.pid}) did not exit within ${limitMs / 1000} s of SIGTERM: killed\n`);
    kill(child);
  }, limitMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `command` and resolves once `ready` holds; otherwise kills it and rejects with its output. */
export async function startProcess(command: string, args: readonly string[], options: StartOptions): Promise<StartedProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup === true });
  if (options.ownGroup) groupLeaders.add(child);
  track(child);
  let output = '';
  // 'close', not 'exit': by then everything it printed has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const started = Date.now();
  const limitMs = options.limitMs ?? START_LIMIT_MS;
  const failure = (why: string) => new Error(`${options.what} ${why}\n--- its output ---\n${output || '(it printed nothing)'}`);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(child);
      reject(failure(`did not start within ${limitMs / 1000} s (pid ${child.pid}; killed)`));
    }, limitMs);
    let ready = false;
    const take = (chunk: Buffer) => {
      if (ready && options.dropOutputWhenReady) return;
      output += chunk.toString();
      if (!ready && options.ready(output)) { ready = true; clearTimeout(timer); resolve(); }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('error', (error) => { clearTimeout(timer); reject(failure(`could not be started: ${error.message}`)); });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(failure(`exited (${code ?? child.signalCode}) after ${((Date.now() - started) / 1000).toFixed(1)} s, before it was ready`));
    });
  }).catch(async (error: unknown) => {
    if (child.pid !== undefined) await exited;
    throw error;
  });
  return { child, output: () => output, exited };
}

export interface Finished {
  /** Its exit code (null when a signal ended it). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Both, as they came. */
  readonly output: string;
}

/**
 * Runs a Node script (`args`: its flags, file and arguments) to its end, in a process group of
 * its own, so that whatever it starts (a benchmark's servers) is killed with it if the file's
 * tests end first.
 */
export function runToEnd(args: readonly string[], options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv }): Promise<Finished> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groupLeaders.add(child);
  track(child);
  let [stdout, stderr, output] = ['', '', ''];
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); output += chunk.toString(); });
  // 'close', not 'exit': by then everything it printed has been read.
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr, output })));
}
