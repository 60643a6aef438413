// Loaded into each server by `npm run bench -- --allocations` (node --import): V8's sampling
// heap profiler, counting every allocation sampled, the objects collected since included (a
// request's garbage is what its allocations cost: the collector's time, and the caches it
// sweeps), so that what each request allocates, and where, shows beside the bare provider's.
// It starts at the bench's SIGUSR2, once the server is up (its start-up is not the
// requests'), and writes BENCH_ALLOCATIONS_FILE at exit, in the format Chrome DevTools'
// Memory panel opens (.heapprofile), with the sampling interval beside it for the summary
// (scripts/bench/profile-summary.ts).

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** Bytes between samples, on average: small enough for a few thousand samples a second under load. */
const SAMPLING_INTERVAL = 4096;

const file = process.env.BENCH_ALLOCATIONS_FILE;
if (file) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.once('SIGUSR2', () => {
    session.post('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    sampling = true;
  });
  // An in-process session answers at once, so the profile is written before the process is gone.
  process.once('exit', () => {
    if (!sampling) return;
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify({ ...result.profile, samplingInterval: SAMPLING_INTERVAL }));
    });
  });
}
