// Loaded into each server by `npm run bench -- --heap` (node --import): what V8's heap does
// under the load, so that a gap in RSS between the broker and the bare provider shows where
// it is. After every collection it notes the heap's committed size (its largest is what RSS
// pays for between full collections) and the old space's; after a full one, what is still
// in use (the live heap: code, module sources and what the server keeps); and the longest
// collection on the main thread (is a p99 the collector's?). BENCH_HEAP_FILE gets the
// figures as JSON, at most once a second when they change, which the bench reads.

import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

/** What the bench reads (scripts/bench.ts, heapRows), in MiB and ms. */
export interface HeapFigures {
  /** The heap's committed size at its largest, after any collection. */
  largestMiB: number;
  /** The old space's committed size at its largest: where what outlives the young generation waits for a full collection. */
  largestOldMiB: number;
  /** In use after the latest full collection; null before the first. */
  liveMiB: number | null;
  fullCollections: number;
  /** The longest collection (or incremental step) on the main thread. */
  longestPauseMs: number;
}

const MiB = 1024 * 1024;
const file = process.env.BENCH_HEAP_FILE;

if (file) {
  const figures: HeapFigures = { largestMiB: 0, largestOldMiB: 0, liveMiB: null, fullCollections: 0, longestPauseMs: 0 };
  let changed = false;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { total_heap_size: committed, used_heap_size: used } = getHeapStatistics();
      const old = getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_size ?? 0;
      figures.largestMiB = Math.max(figures.largestMiB, committed / MiB);
      figures.largestOldMiB = Math.max(figures.largestOldMiB, old / MiB);
      figures.longestPauseMs = Math.max(figures.longestPauseMs, entry.duration);
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        figures.liveMiB = used / MiB;
        figures.fullCollections += 1;
      }
      changed = true;
    }
  }).observe({ entryTypes: ['gc'] });
  // Written off the collections' path, and never keeping the server alive.
  setInterval(() => {
    if (changed) writeFileSync(file, JSON.stringify(figures));
    changed = false;
  }, 1000).unref();
}
