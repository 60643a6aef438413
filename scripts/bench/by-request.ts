// Where a login's CPU goes, request by request: logins one at a time, each request the
// server answers timed by the server's own CPU (every thread's, as the kernel's scheduler
// counts it in /proc/<pid>/task/*/schedstat, in nanoseconds; and how much of it was off the
// main thread, where V8 collects garbage and libuv's pool signs) from the moment it is sent
// until its answer has arrived and the server's main thread waits again. One at a time, so
// that what the server does in that span is that request's. What the server does between
// that and the next request (work it put off: timers, writes it did not wait for, garbage
// collection on V8's threads) is counted apart.

import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';

/** CPU in ms: every thread's, and the main thread's (the JavaScript; the others are V8's collector and compiler, libuv's pool). */
interface Cpu {
  readonly all: number;
  readonly main: number;
}

const NONE: Cpu = { all: 0, main: 0 };
const plus = (a: Cpu, b: Cpu): Cpu => ({ all: a.all + b.all, main: a.main + b.main });
const minus = (a: Cpu, b: Cpu): Cpu => ({ all: a.all - b.all, main: a.main - b.main });

/** A process's threads' CPU so far, by thread id (the scheduler's count, in ns; a thread that ended before its read is left out). */
function threadsOf(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(task, Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/**
 * The process's CPU since `before` (threadsOf's), thread by thread: a thread started since
 * counts from nothing, and one that ended since is left out rather than taken away (summing
 * each side instead would subtract what such a thread had spent before).
 */
function cpuSince(pid: number, before: ReadonlyMap<string, number>): Cpu {
  let all = 0;
  let main = 0;
  for (const [task, ns] of threadsOf(pid)) {
    const spent = ns - (before.get(task) ?? 0);
    all += spent;
    if (task === String(pid)) main += spent;
  }
  return { all: all / 1e6, main: main / 1e6 };
}

/** Whether the process's main thread is running or waiting to run (its state in /proc/<pid>/stat, after the command's closing bracket). */
function running(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat[stat.lastIndexOf(')') + 2] === 'R';
}

/**
 * Waits until the server's main thread has gone back to waiting (or a bound of reads has
 * passed): the answer is on its way once the server writes it, but the server still finishes
 * the request (among it the request's log line, which goes out at the end of the event
 * loop's turn). Read at once, that tail would count as "between the answers" when the
 * server ran on another core than this process, and as the request's when it shared this
 * one (so it moved with the scheduler's placement, not with the code).
 */
async function settled(pid: number): Promise<void> {
  for (let reads = 0; reads < 10_000 && running(pid); reads += 1) await setImmediate();
}

/** A request as the table names it: its method and path, every id in the path as `:id` (oidc-provider's are 21 characters and more). */
const requestKind = (method: string, url: string): string => `${method} ${new URL(url).pathname.replace(/\/[A-Za-z0-9_-]{16,}(?=\/|$)/g, '/:id')}`;

export interface ByRequest {
  readonly logins: number;
  /** By request kind, in the order first sent: how many were sent, and the server's CPU while it answered them. */
  readonly requests: ReadonlyMap<string, { readonly count: number; readonly cpu: Cpu }>;
  /** The server's CPU in all, over the logins. */
  readonly total: Cpu;
}

/** A server whose logins are timed: its process, where it answers, and one login. */
export interface Timed {
  readonly pid: number;
  readonly origin: string;
  login(): Promise<unknown>;
}

/**
 * Runs `logins` logins on each server, one at a time and the servers in turn (so that both
 * meet this shared machine's moods alike), timing each request this process sends to a
 * server (its fetch wrapped for the while) by that server's CPU.
 */
export async function byRequest(servers: readonly Timed[], logins: number): Promise<ByRequest[]> {
  const kept = servers.map(() => ({ requests: new Map<string, { count: number; cpu: Cpu }>(), total: NONE }));
  const send = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const at = servers.findIndex(({ origin }) => new URL(url).origin === origin);
    if (at < 0) return send(input, init);
    const before = threadsOf(servers[at]!.pid);
    // The answer's headers and body go out in one write; the server is done with the request once it waits again.
    const response = await send(input, init);
    await settled(servers[at]!.pid);
    const kind = requestKind(init?.method ?? (input instanceof Request ? input.method : 'GET'), url);
    const seen = kept[at]!.requests.get(kind) ?? { count: 0, cpu: NONE };
    kept[at]!.requests.set(kind, { count: seen.count + 1, cpu: plus(seen.cpu, cpuSince(servers[at]!.pid, before)) });
    return response;
  };
  try {
    for (let index = 0; index < logins; index += 1) {
      // Which server goes first alternates, as in the rounds.
      for (const at of index % 2 ? [...servers.keys()].reverse() : servers.keys()) {
        const start = threadsOf(servers[at]!.pid);
        await servers[at]!.login();
        kept[at]!.total = plus(kept[at]!.total, cpuSince(servers[at]!.pid, start));
      }
    }
  } finally {
    globalThis.fetch = send;
  }
  return kept.map(({ requests, total }) => ({ logins, requests, total }));
}

/** CPU `per` something, with the part off the main thread. */
const shown = (cpu: Cpu, per: number) => `${(cpu.all / per).toFixed(2)} ms (${((cpu.all - cpu.main) / per).toFixed(2)} off the main thread)`;

/** Each server's logins as one table: a row per request kind (how many a login sends, the CPU of each), then between the answers, then a login. */
export function byRequestTable(columns: readonly { readonly label: string; readonly measured: ByRequest }[]): string {
  const kinds = [...new Set(columns.flatMap(({ measured }) => [...measured.requests.keys()]))];
  const cell = (measured: ByRequest, kind: string) => {
    const seen = measured.requests.get(kind);
    return seen ? `${(seen.count / measured.logins).toFixed(1)} × ${shown(seen.cpu, seen.count)}` : '';
  };
  const between = (measured: ByRequest) => [...measured.requests.values()].reduce((left, { cpu }) => minus(left, cpu), measured.total);
  return [
    `| request | ${columns.map(({ label }) => label).join(' | ')} |`,
    `|---|${columns.map(() => '---|').join('')}`,
    ...kinds.map((kind) => `| ${kind} | ${columns.map(({ measured }) => cell(measured, kind)).join(' | ')} |`),
    `| between the answers | ${columns.map(({ measured }) => shown(between(measured), measured.logins)).join(' | ')} |`,
    `| a login | ${columns.map(({ measured }) => shown(measured.total, measured.logins)).join(' | ')} |`,
  ].join('\n');
}
