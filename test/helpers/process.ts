// A process a test starts and waits for: ready when its output says so, killed whatever
// happens (a hang, a failed start, the test process exiting), and on failure the error
// carries everything it printed, so that a slow or broken start explains itself.

import { spawn, type ChildProcess } from 'node:child_process';

/** Generous: it only catches a hang. A slow, loaded machine starts well within it. */
export const START_LIMIT_MS = 120_000;

/** Processes still running when the test process exits are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => { for (const child of running) child.kill('SIGKILL'); });

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
}

/** Starts `command` and resolves once `ready` holds; otherwise kills it and rejects with its output. */
export async function startProcess(command: string, args: readonly string[], options: StartOptions): Promise<StartedProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { running.delete(child); resolve(code); }));
  const started = Date.now();
  const limitMs = options.limitMs ?? START_LIMIT_MS;
  const failure = (why: string) => new Error(`${options.what} ${why}\n--- its output ---\n${output || '(it printed nothing)'}`);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(failure(`did not start within ${limitMs / 1000} s (pid ${child.pid}; killed)`));
    }, limitMs);
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.ready(output)) { clearTimeout(timer); resolve(); }
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
