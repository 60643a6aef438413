// Waiting for an event that a test cannot be told of directly (a log line, a delivery, a
// server that comes back): poll until it has happened. The limit is generous: it only
// catches an event that never comes, so a slow, loaded machine passes as an idle one does.

import { setTimeout as sleep } from 'node:timers/promises';

export const WAIT_LIMIT_MS = 60_000;
const POLL_MS = 50;

/** `check`'s first truthy answer, or its last (falsy) one once `limitMs` has passed. */
export async function eventually<T>(check: () => T | Promise<T>, limitMs = WAIT_LIMIT_MS): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() >= deadline) return value;
    await sleep(POLL_MS);
  }
}

/** Like `eventually`, but an event that never comes is an error naming `what`. */
export async function until<T>(what: string, check: () => T | Promise<T>, limitMs = WAIT_LIMIT_MS): Promise<NonNullable<T>> {
  const value = await eventually(check, limitMs);
  if (!value) throw new Error(`gave up waiting until ${what} (${limitMs / 1000} s)`);
  return value as NonNullable<T>;
}
