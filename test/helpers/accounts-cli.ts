// `npm run accounts -- …` as an operator runs it, beside the test rather than blocking it:
// a synchronous child would freeze the test's own HTTP connections (openid-client's, the
// fetch logins'), and one its server closed meanwhile (its keep-alive ran out while the
// command ran on a loaded machine) is then reused: "fetch failed".

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHILD_ENV } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as the command's JSON answer. */
  json(): Record<string, unknown>;
}

/** The accounts command with `env` over the test's child environment (its storage, at least). */
export function accountsCli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return accountsCliFed(env, undefined, ...args);
}

/** The same, with `input` written to its standard input (`import -`). */
export function accountsCliFed(env: Record<string, string>, input: string | undefined, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--experimental-strip-types', 'src/cli/accounts.ts', ...args], {
      cwd: ROOT, encoding: 'utf8', env: { ...CHILD_ENV, ...env }, timeout: 120_000,
    }, (error, stdout, stderr) => resolve({
      status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown>,
    }));
    child.stdin?.end(input);
  });
}

/** The command, its standard output closed by its reader after the first chunk (`dump - | head`); killed if it outlasts execFile's limit. */
export function accountsCliCutShort(env: Record<string, string>, ...args: string[]): Promise<Pick<CliRun, 'status' | 'stderr'>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', 'src/cli/accounts.ts', ...args], { cwd: ROOT, env: { ...CHILD_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (status) => { clearTimeout(limit); resolve({ status, stderr }); });
  });
}
