// The benchmark's measuring: `workers` concurrent loops of one operation against one server
// for a while, the server's own CPU time read from /proc before and after (so the load
// generator's CPU, on the same machine, is not counted), and every operation's latency.

import { readFileSync } from 'node:fs';

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

export interface Round {
  readonly ops: number;
  readonly perSecond: number;
  /** The server's CPU per operation, ms. */
  readonly cpuPerOp: number;
  readonly p99Ms: number;
}

/**
 * Runs `operation` (made once per worker by `prepare`) in `workers` loops for `seconds`;
 * a failed operation stops the round with its error (a benchmark of errors measures nothing).
 */
export async function round(pid: number, workers: number, seconds: number, prepare: () => Promise<() => Promise<void>>): Promise<Round> {
  const operations = await Promise.all(Array.from({ length: workers }, prepare));
  const latencies: number[] = [];
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(operations.map(async (operation) => {
    while (performance.now() < until) {
      const at = performance.now();
      await operation();
      latencies.push(performance.now() - at);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length, perSecond: latencies.length / elapsed, cpuPerOp: cpu / Math.max(1, latencies.length),
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
  };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
