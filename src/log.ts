// The broker's logger: JSON lines (pino). Secrets never reach it: WeChat URLs are not
// logged, request lines carry the path without its query, and these fields are redacted
// wherever they appear.

import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/config.ts';

export type { Logger };

// `code` is redacted where a request's code could be (the top level, a query or params),
// not everywhere: `err.code` is an error's class code, which the operator needs.
const REDACT = [
  'secret', '*.secret', 'code', 'query.code', 'params.code', 'state', '*.state', 'access_token', '*.access_token',
  'refresh_token', '*.refresh_token', 'id_token', '*.id_token', 'cookie', '*.cookie',
  'authorization', '*.authorization', 'headers.cookie', 'headers.authorization',
];

/**
 * Lines go to `destination`, or to stdout without blocking: a line per request written
 * synchronously is a system call per request, which under load costs more than the
 * request's own work. pino flushes what is buffered when the process exits, even on a
 * crash (its exit hooks), so no line is lost to a stop.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'wechat-oidc-broker' },
    redact: { paths: REDACT, censor: '[redacted]' },
  }, (destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }));
}
