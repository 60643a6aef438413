// Reading the JSON files that settings point to, with errors that name the variable.

import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

export function readJsonFile(variable: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read';
    throw new ConfigError(variable, `${path}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(variable, `${path}: not valid JSON (${(error as Error).message})`);
  }
}
