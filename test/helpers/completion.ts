// Clean-up when a test file's tests are done (AVA's completion handler) and, whatever
// runs these helpers, at the process's exit. Outside AVA (a script that reuses the helpers:
// npm run bench, npm run screenshots) there is no AVA to ask, only the exit.

import { isMainThread } from 'node:worker_threads';

/** Runs `cleanUp` when the file's tests are done (under AVA), and at exit. */
export async function atCompletion(cleanUp: () => void): Promise<void> {
  // An AVA worker is a thread, or a child process with an IPC channel.
  if (!isMainThread || process.send) (await import('ava')).registerCompletionHandler(cleanUp);
  process.once('exit', cleanUp);
}
