// Numbered, once-only changes to what earlier versions left in MongoDB. Each step is
// recorded in the `migrations` collection when done, so a start runs only what was never
// run (at most once per deployment, not a scan at every start); one instance at a time
// runs them, under a lease in `migrations_lock` that it renews before each step, and the
// others wait for the next setup attempt. A step must be resumable: an instance that dies
// halfway leaves it unrecorded, and the next one runs it again from the start.

import { randomUUID } from 'node:crypto';
import { MongoServerError, type Db } from 'mongodb';
import { StorageUnavailableError } from './errors.ts';

export interface Migration {
  /** Its number: steps run in this order, and a number is never reused. */
  readonly id: number;
  /** What it does, for the record and the log. */
  readonly name: string;
  run(db: Db): Promise<void>;
}

interface MigrationDoc { _id: number; name: string; doneAt: Date }
interface LockDoc { _id: string; holder: string; until: Date }

const STORE = 'MongoDB (migrations)';
const DUPLICATE_KEY = 11000;
/** How long a lease lasts without renewal: an instance that died frees it after this. */
const LEASE_MS = 10 * 60_000;
/** This process, as a lease holder. */
const HOLDER = randomUUID();

/** Takes or renews the lease; false when another instance holds it. */
async function lease(db: Db, now: number): Promise<boolean> {
  try {
    await db.collection<LockDoc>('migrations_lock').updateOne(
      { _id: 'migrations', $or: [{ holder: HOLDER }, { until: { $lt: new Date(now) } }] },
      { $set: { holder: HOLDER, until: new Date(now + LEASE_MS) } },
      { upsert: true },
    );
    return true;
  } catch (error) {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
    throw error;
  }
}

/**
 * Runs the steps of `steps` not recorded yet, in order, recording each; nothing when all
 * are. StorageUnavailableError while another instance runs them (setup tries again later).
 */
export async function migrate(db: Db, steps: readonly Migration[], now: () => number = Date.now): Promise<number[]> {
  const migrations = db.collection<MigrationDoc>('migrations');
  const done = new Set((await migrations.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
  const pending = [...steps].filter((step) => !done.has(step.id)).sort((a, b) => a.id - b.id);
  if (pending.length === 0) return [];
  for (const step of pending) {
    if (!await lease(db, now())) throw new StorageUnavailableError(STORE, `another instance is running migration ${step.id} (${step.name})`);
    await step.run(db);
    await migrations.updateOne({ _id: step.id }, { $set: { name: step.name, doneAt: new Date(now()) } }, { upsert: true });
  }
  await db.collection<LockDoc>('migrations_lock').deleteOne({ _id: 'migrations', holder: HOLDER });
  return pending.map((step) => step.id);
}
