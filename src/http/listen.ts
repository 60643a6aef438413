// A server started on its port, or the reason it cannot be, in words that name the setting
// to change: an operator starting a second broker, or one beside another program, reads
// one line instead of Node's stack trace.

import { once } from 'node:events';
import type { Server } from 'node:http';

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use (another broker, or another program): stop it or choose another port',
  EACCES: 'not allowed (ports under 1024 need privileges): choose a port from 1024',
  EADDRNOTAVAIL: 'this machine has no such address (HOST)',
};

/** A server could not listen; the message starts with `variable`, the setting that chose its port. */
export class ListenError extends Error {
  readonly code = 'LISTEN_FAILED';

  constructor(variable: string, host: string, port: number, cause: NodeJS.ErrnoException) {
    super(`${variable}: cannot listen on ${host}:${port}${cause.code ? ` (${cause.code})` : ''}: ${REASONS[cause.code ?? ''] ?? cause.message}`, { cause });
    this.name = 'ListenError';
  }
}

/** Listens, and resolves once the server does; rejects with a ListenError otherwise. */
export async function listen(server: Server, port: number, host: string, variable: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw new ListenError(variable, host, port, error as NodeJS.ErrnoException);
  }
}
