// Summarizes a V8 CPU profile (node --cpu-prof): self time by function and by package or
// source file, the largest first, so that what the broker adds to a request shows plainly.
// Usage: node --experimental-strip-types scripts/bench/profile-summary.ts FILE.cpuprofile [TOP]

import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** The package a frame belongs to (node_modules/<name>), the project file, or node's internals. */
function placeOf(url: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  const own = /\/(src|scripts)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url.startsWith('node:') ? url : url === '' ? '(native)' : url.replace(/^file:\/\//, '');
}

function table(totals: Map<string, number>, all: number, top: number): string {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${(100 * us / all).toFixed(1).padStart(5)} %  ${name}`).join('\n');
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [TOP]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, index) => {
  const node = byId.get(id)!;
  const us = profile.timeDeltas[index] ?? 0;
  const place = placeOf(node.callFrame.url);
  const name = `${node.callFrame.functionName || '(anonymous)'} ${place}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  all += us;
});
const top = Number(topArg ?? 30);
process.stdout.write(`${(all / 1000).toFixed(0)} ms sampled\n\nby package or file\n${table(byPlace, all, top)}\n\nby function (self time)\n${table(byFunction, all, top)}\n`);
