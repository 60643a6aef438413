// Temporary directories a test file makes (clients files, apps files, Redis data): removed
// when the file's tests are done, so that a run leaves nothing behind in the system's
// temporary folder.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atCompletion } from './completion.ts';

const made = new Set<string>();
const removeAll = () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
};
await atCompletion(removeAll);

/** A new empty directory under the system's temporary folder, named `<prefix>-…`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.add(dir);
  return dir;
}
