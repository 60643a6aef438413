// The helper every test uses to start a process (the broker, the artifact): a failed start
// explains itself with what the process printed, and never leaves the process running.

import test from 'ava';
import { startProcess, stopProcess } from '../helpers/process.ts';

const env = { PATH: process.env.PATH ?? '' };
const node = (script: string) => [process.execPath, ['-e', script]] as const;

test('a process that exits before it is ready: the error gives its exit code and everything it printed', async (t) => {
  const error = await t.throwsAsync(startProcess(...node("console.log('half way there'); console.error('Configuration error: X'); process.exit(3)"), {
    cwd: process.cwd(), env, ready: (output) => output.includes('started'), what: 'a failing process',
  }));
  t.regex(error!.message, /^a failing process exited \(3\) after [\d.]+ s, before it was ready/);
  t.regex(error!.message, /half way there/);
  t.regex(error!.message, /Configuration error: X/);
});

test('a process that never becomes ready: killed once the limit passes, and the error says so', async (t) => {
  const error = await t.throwsAsync(startProcess(...node('setInterval(() => {}, 1000)'), {
    cwd: process.cwd(), env, ready: () => false, what: 'a stuck process', limitMs: 500,
  }));
  t.regex(error!.message, /^a stuck process did not start within 0.5 s \(pid \d+; killed\)/);
  const pid = Number(/pid (\d+)/.exec(error!.message)![1]);
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the process is gone');
});

test('a process that says it is ready: running, with its output so far', async (t) => {
  const started = await startProcess(...node("console.log('broker started'); setInterval(() => {}, 1000)"), {
    cwd: process.cwd(), env, ready: (output) => output.includes('broker started'), what: 'a process',
  });
  t.regex(started.output(), /broker started/);
  t.is(started.child.exitCode, null);
  started.child.kill('SIGTERM');
  t.is(await started.exited, null, 'ended by the signal');
});

test('stopping a process: SIGTERM, its exit code; one that does not exit is killed once the limit passes, and named', async (t) => {
  const ready = { cwd: process.cwd(), env, ready: (output: string) => output.includes('started'), what: 'a process' };
  const clean = await startProcess(...node("process.on('SIGTERM', () => process.exit(0)); console.log('started'); setInterval(() => {}, 1000)"), ready);
  t.is(await stopProcess(clean, 'a clean process'), 0);
  // As a broker caught in Node's exit deadlock: SIGTERM lands, the process never ends.
  const stuck = await startProcess(...node("process.on('SIGTERM', () => {}); console.log('started'); setInterval(() => {}, 1000)"), ready);
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    t.is(await stopProcess(stuck, 'a stuck process', 500), null, 'ended by SIGKILL');
  } finally {
    process.stderr.write = write;
  }
  t.is(stuck.child.signalCode, 'SIGKILL');
  t.regex(written.join(''), /^a stuck process \(pid \d+\) did not exit within 0.5 s of SIGTERM: killed/);
});
