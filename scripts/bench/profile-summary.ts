// Summarizes a V8 profile that the bench had a server write: a CPU profile (--profile, node
// --cpu-prof: self time) or an allocation profile (--allocations, scripts/bench/allocations.ts:
// bytes allocated, sampled), by function and by package or source file, the largest first,
// so that what the broker adds to a request shows plainly.
// Usage: node --experimental-strip-types scripts/bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile [TOP]

import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface CpuProfile { nodes: Array<{ id: number; callFrame: CallFrame }>; samples: number[]; timeDeltas: number[] }
interface HeapNode { id: number; callFrame: CallFrame; children: HeapNode[] }
interface HeapProfile { head: HeapNode; samples: Array<{ nodeId: number }>; samplingInterval?: number }

/** The package a frame belongs to (node_modules/<name>), the project file, or node's internals. */
function placeOf(url: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  const own = /\/(src|scripts)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url.startsWith('node:') ? url : url === '' ? '(native)' : url.replace(/^file:\/\//, '');
}

/** What each sample weighs (µs of CPU, or bytes), by the frame it was taken in. */
type Weighed = Array<{ frame: CallFrame; weight: number }>;

function cpuSamples(profile: CpuProfile): Weighed {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  return profile.samples.map((id, index) => ({ frame: byId.get(id)!, weight: profile.timeDeltas[index] ?? 0 }));
}

/** Each sample stands for the sampling interval's bytes on average (V8 samples by bytes allocated). */
function heapSamples(profile: HeapProfile): Weighed {
  const byId = new Map<number, CallFrame>();
  const walk = (node: HeapNode): void => { byId.set(node.id, node.callFrame); node.children.forEach(walk); };
  walk(profile.head);
  const bytes = profile.samplingInterval ?? 1;
  // A sample taken as the sampling stopped can name a node the tree no longer holds.
  return profile.samples.flatMap((sample) => { const frame = byId.get(sample.nodeId); return frame ? [{ frame, weight: bytes }] : []; });
}

function table(totals: Map<string, number>, all: number, top: number, unit: (weight: number) => string): string {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, weight]) => `${unit(weight).padStart(10)} ${(100 * weight / all).toFixed(1).padStart(5)} %  ${name}`).join('\n');
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile|FILE.heapprofile [TOP]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | HeapProfile;
const allocations = 'head' in profile;
const samples = allocations ? heapSamples(profile) : cpuSamples(profile);
const unit = allocations ? (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB` : (us: number) => `${(us / 1000).toFixed(0)} ms`;
const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
let all = 0;
for (const { frame, weight } of samples) {
  const place = placeOf(frame.url);
  const name = `${frame.functionName || '(anonymous)'} ${place}:${frame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + weight);
  byPlace.set(place, (byPlace.get(place) ?? 0) + weight);
  all += weight;
}
const top = Number(topArg ?? 30);
const what = allocations ? 'allocated (sampled, collected objects included)' : 'sampled';
process.stdout.write(`${unit(all)} ${what}\n\nby package or file\n${table(byPlace, all, top, unit)}\n\nby function (${allocations ? 'where allocated' : 'self time'})\n${table(byFunction, all, top, unit)}\n`);
