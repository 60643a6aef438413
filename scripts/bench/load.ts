// The benchmark's measuring: `workers` concurrent loops of one operation against one server
// for a while, the server's own CPU time read from /proc before and after (so the load
// generator's CPU, on the same machine, is not counted), and every operation's latency.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** User plus system CPU of a process so far, in ms (Linux /proc; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

/**
 * The flags a Node process was started with, as it runs: its command line between node and
 * the script, with their values (a module --import loads, say), paths inside this checkout from here.
 */
export function nodeFlags(pid: number): string {
  const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return words.slice(1, -1).map((word) => (word.startsWith(`${process.cwd()}/`) ? relative(process.cwd(), word) : word)).join(' ');
}

/** The whole machine's CPU time so far, in ticks: busy (its processes and the kernel's) and in all (/proc/stat, all cores). */
export function machineTicks(): { busy: number; all: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, all: user + nice + system + idle + iowait + irq + softirq + steal };
}

export interface Round {
  readonly ops: number;
  readonly perSecond: number;
  /** The server's CPU per operation, ms. */
  readonly cpuPerOp: number;
  readonly p99Ms: number;
  /** HTTP requests the server received per operation (counted as the load generator sends them). */
  readonly requestsPerOp: number;
  /** How busy the machine was, every process on every core: 1 when no core had a moment to spare. */
  readonly machineBusy: number;
  /** Storage commands, bytes sent to it and its CPU (ms) per operation, where the target can count them (Target.storageCounts). */
  readonly storagePerOp?: StorageCounts;
}

/** What a storage has done: the commands it processed, the bytes it received (its network in), and its CPU in ms. */
export interface StorageCounts {
  readonly commands: number;
  readonly bytesIn: number;
  readonly cpuMs: number;
}

const sent = new Map<string, number>();

/** Counts every request this process sends, by origin (the load generator's fetch, wrapped once). */
export function countRequests(): void {
  const send = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const origin = new URL(input instanceof Request ? input.url : String(input)).origin;
    sent.set(origin, (sent.get(origin) ?? 0) + 1);
    return send(input, init);
  };
}

/** Requests sent to `origin` so far. */
export const requestsTo = (origin: string): number => sent.get(origin) ?? 0;

function summary(latencies: number[], elapsedS: number, cpu: number, requests: number, machine: { busy: number; all: number }, storage: StorageCounts | undefined): Round {
  latencies.sort((a, b) => a - b);
  const ops = Math.max(1, latencies.length);
  return {
    ops: latencies.length, perSecond: latencies.length / elapsedS, cpuPerOp: cpu / ops, requestsPerOp: requests / ops, machineBusy: machine.busy / Math.max(1, machine.all),
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
    ...(storage === undefined ? {} : { storagePerOp: { commands: storage.commands / ops, bytesIn: storage.bytesIn / ops, cpuMs: storage.cpuMs / ops } }),
  };
}

/** The server under load: its processes (for their CPU) and origins (for the requests they get). */
export interface Target {
  readonly pids: readonly number[];
  readonly origins: readonly string[];
  /** What its storage has done so far (a shared Redis's counts, while only this server is loaded). */
  readonly storageCounts?: () => Promise<StorageCounts>;
}

const since = (before: { busy: number; all: number }) => { const now = machineTicks(); return { busy: now.busy - before.busy, all: now.all - before.all }; };
const cpuOf = (target: Target) => target.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
const requestsOf = (target: Target) => target.origins.reduce((sum, origin) => sum + requestsTo(origin), 0);

/**
 * Runs `operation` (made once per worker by `prepare`) in `workers` loops for `seconds`;
 * a failed operation stops the round with its error (a benchmark of errors measures nothing).
 */
export async function round(target: Target, workers: number, seconds: number, prepare: () => Promise<() => Promise<void>>): Promise<Round> {
  const operations = await Promise.all(Array.from({ length: workers }, prepare));
  const latencies: number[] = [];
  const storageBefore = await target.storageCounts?.();
  const cpuBefore = cpuOf(target);
  const requestsBefore = requestsOf(target);
  const machineBefore = machineTicks();
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(operations.map(async (operation) => {
    while (performance.now() < until) {
      const at = performance.now();
      await operation();
      latencies.push(performance.now() - at);
    }
  }));
  const cpu = cpuOf(target) - cpuBefore;
  const storageAfter = await target.storageCounts?.();
  const storage = storageBefore && storageAfter && {
    commands: storageAfter.commands - storageBefore.commands, bytesIn: storageAfter.bytesIn - storageBefore.bytesIn, cpuMs: storageAfter.cpuMs - storageBefore.cpuMs,
  };
  return summary(latencies, (performance.now() - started) / 1000, cpu, requestsOf(target) - requestsBefore, since(machineBefore), storage);
}

/**
 * Starts `operation` `perSecond` times a second for `seconds`, whether or not earlier ones
 * have finished (an open load, as independent people arrive), and waits for all: each
 * latency is measured from its start, so a server falling behind shows in the p99.
 * `sample` is called every `sampleEveryS` seconds (the soak's memory readings).
 */
export async function pacedRound(target: Target, perSecond: number, seconds: number, operation: () => Promise<void>, sample?: () => void, sampleEveryS = 10): Promise<Round> {
  const latencies: number[] = [];
  const running: Array<Promise<void>> = [];
  const cpuBefore = cpuOf(target);
  const requestsBefore = requestsOf(target);
  const machineBefore = machineTicks();
  const started = performance.now();
  let nextSample = sampleEveryS * 1000;
  for (let index = 0; index < Math.round(perSecond * seconds); index += 1) {
    const due = started + (index * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (sample && performance.now() - started >= nextSample) { sample(); nextSample += sampleEveryS * 1000; }
    running.push(operation().then(() => { latencies.push(performance.now() - due); }));
  }
  await Promise.all(running);
  return summary(latencies, (performance.now() - started) / 1000, cpuOf(target) - cpuBefore, requestsOf(target) - requestsBefore, since(machineBefore), undefined);
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
