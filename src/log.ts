// The broker's logger: JSON lines (pino), or with LOG_FORMAT=pretty lines for a person at a
// terminal. Secrets never reach it, in either: WeChat URLs are not logged, request lines
// carry the path without its query, and these fields are redacted wherever they appear.

import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';
import type { LogFormat, LogLevel } from './config/config.ts';

export type { Logger };

// `code` is redacted where a request's code could be (the top level, a query or params),
// not everywhere: `err.code` is an error's class code, which the operator needs.
const REDACT = [
  'secret', '*.secret', 'code', 'query.code', 'params.code', 'state', '*.state', 'access_token', '*.access_token',
  'refresh_token', '*.refresh_token', 'id_token', '*.id_token', 'cookie', '*.cookie',
  'authorization', '*.authorization', 'headers.cookie', 'headers.authorization',
];

/**
 * The lines logged in one turn of the event loop, written to stdout together when the turn
 * ends: under load many requests finish in one turn, and one write for all their lines
 * costs a fraction of a write for each (the bench, the broker against itself before:
 * 6–17 % of a userinfo request's CPU). No line waits longer than its turn; the writes are synchronous (pino's
 * default), so whatever is collected is out before the process exits, even on a crash.
 */
export class TurnBatch {
  #lines: string[] = [];
  readonly #out: { write(text: string): unknown };

  constructor(out: { write(text: string): unknown }) {
    this.#out = out;
  }

  write(line: string): void {
    if (this.#lines.push(line) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#out.write(text);
  }
}

/** stdout's one batch, shared by every logger of the process. */
let stdout: TurnBatch | undefined;

function stdoutBatch(): TurnBatch {
  if (!stdout) {
    const batch = new TurnBatch(pino.destination({ dest: 1, sync: true }));
    process.once('exit', () => batch.flush());
    stdout = batch;
  }
  return stdout;
}

/** The request being handled: its id (X-Request-Id) and, when its caller sent one, its trace (traceparent). */
export interface RequestScope {
  readonly reqId: string;
  readonly traceId?: string | undefined;
}

/** The request being handled, for every line logged while it runs. */
const requests = new AsyncLocalStorage<RequestScope>();

/**
 * Runs `handle` with `scope` on every line it logs (`reqId`, and `traceId` when there is
 * one): the id the person's error page shows leads the operator to the lines that say why
 * (WeChat's errcode and rid, the login's outcome), not only to the request line.
 */
export function withRequest<T>(scope: RequestScope, handle: () => T): T {
  return requests.run(scope, handle);
}

/** The request's id and trace, on lines logged while one is handled. */
function requestOf(): Partial<RequestScope> {
  const scope = requests.getStore();
  if (scope === undefined) return {};
  return scope.traceId === undefined ? { reqId: scope.reqId } : { reqId: scope.reqId, traceId: scope.traceId };
}

/** What a pretty line leaves out: said by its time and level, or the same on every line. */
const UNSAID = new Set(['level', 'time', 'service', 'msg']);

/** A field as a pretty line shows it: text as it is, anything else as compact JSON; an error with its stack below. */
function fieldOf(key: string, value: unknown): string {
  if (key === 'err' && typeof value === 'object' && value !== null) {
    const { type, message, stack } = value as { type?: string; message?: string; stack?: string };
    return `err=${type ?? 'Error'}: ${message ?? ''}${stack ? `\n${stack.split('\n').slice(1).join('\n')}` : ''}`;
  }
  return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

/** One line for a person at a terminal: the request line as "GET /path 200 4 ms", any other as its message and fields. */
function prettyLine(line: Record<string, unknown>): string {
  if (line.msg === 'request') {
    const { req, res, ms } = line as { req?: { method?: string; path?: string }; res?: { status?: number }; ms?: number };
    return `${req?.method} ${req?.path} ${res?.status} ${ms} ms`;
  }
  return [String(line.msg ?? ''), ...Object.entries(line).filter(([key]) => !UNSAID.has(key)).map(([key, value]) => fieldOf(key, value))].join('  ');
}

/**
 * LOG_FORMAT=pretty (dev mode at a terminal by default): pino-pretty, synchronous, one line
 * each with the time and level; loaded only then.
 */
function prettyStream(): pino.DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: Record<string, unknown>) => pino.DestinationStream;
  return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', hideObject: true, ignore: 'pid,hostname', messageFormat: prettyLine });
}

/** Lines go to `destination` (a test's), or to stdout: JSON a turn of the event loop at a time, or pretty lines. */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  return pino({
    level,
    base: { service: 'wechat-oidc-broker' },
    redact: { paths: REDACT, censor: '[redacted]' },
    mixin: requestOf,
  }, (destination as pino.DestinationStream | undefined) ?? (format === 'pretty' ? prettyStream() : stdoutBatch()));
}
