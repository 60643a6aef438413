// Every command an operator or a developer runs (`npm run keys|clients|accounts|doctor|bench`)
// answers `--help` (or `-h`) with what it does and every option it takes, and does nothing
// else; an option it does not have is one line that says where the help is, exit code 2.

import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as accounts from '../../src/cli/accounts.ts';
import * as clients from '../../src/cli/clients.ts';
import * as doctor from '../../src/cli/doctor.ts';
import * as keys from '../../src/cli/keys.ts';
import { CHILD_ENV, runToEnd } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIS = { keys, clients, accounts, doctor } as const;
const FILES = { keys: 'src/cli/keys.ts', clients: 'src/cli/clients.ts', accounts: 'src/cli/accounts.ts', doctor: 'src/cli/doctor.ts', bench: 'scripts/bench.ts' } as const;

/** The command as `npm run NAME -- …` runs it, to its end. */
const run = (name: keyof typeof FILES, args: readonly string[], env: Record<string, string> = {}) => runToEnd(['--experimental-strip-types', FILES[name], ...args], { cwd: ROOT, env: { ...CHILD_ENV, ...env } });

for (const [name, cli] of Object.entries(CLIS)) {
  test(`npm run ${name} -- --help: what it does and every option it takes, on stdout, exit code 0`, async (t) => {
    for (const option of Object.keys(cli.OPTIONS)) t.regex(cli.HELP, new RegExp(`--${option}\\b`), `--${option} is in the help`);
    const [long, short] = await Promise.all([run(name as keyof typeof FILES, ['--help']), run(name as keyof typeof FILES, ['-h'])]);
    for (const asked of [long, short]) t.like(asked, { status: 0, stdout: `${cli.HELP}\n`, stderr: '' });
    t.regex(cli.HELP, new RegExp(`^usage: npm run ${name}\\b`));
  });

  test(`npm run ${name} with an option it does not have: one line naming it and where the help is, exit code 2`, async (t) => {
    const refused = await run(name as keyof typeof FILES, ['--no-such-option']);
    t.is(refused.status, 2);
    t.regex(refused.stderr, new RegExp(`^${name}: Unknown option '--no-such-option'.*; see npm run ${name} -- --help\\n$`));
    t.is(refused.stdout, '');
  });
}

test('--help does nothing else: keys writes no file, the doctor reads no configuration', async (t) => {
  const file = join(tempDir('cli-help'), 'jwks.json');
  t.like(await run('keys', ['new', '--file', file, '--help']), { status: 0, stdout: `${keys.HELP}\n` });
  t.false(existsSync(file));
  // A configuration the doctor could not load (exit code 2) does not stop the help.
  t.like(await run('doctor', ['--help'], { REDIS_URL: 'not a url' }), { status: 0, stdout: `${doctor.HELP}\n` });
});

test('after `--`, --help is an argument: an account id may begin with `-`', async (t) => {
  const asked = await run('accounts', ['show', '--', '--help']);
  t.is(asked.status, 2);
  t.regex(asked.stderr, /^accounts: accounts live in memory inside a running broker/);
});

test('npm run bench -- --help: its usage line and what each option does, before it starts anything; a bad option or count: one line, exit code 2', async (t) => {
  const [help, unknown, count] = await Promise.all([run('bench', ['--help']), run('bench', ['--quick', '--no-such-option']), run('bench', ['--rounds', 'many'])]);
  t.like(help, { status: 0, stderr: '' });
  t.regex(help.stdout, /^npm run bench \[-- --quick\]/);
  for (const option of ['--redis', '--only', '--profile', '--allocations', '--heap', '--soak', '--capacity', '--scale', '--log-level', '--against', '--traces', '--rounds']) {
    t.regex(help.stdout, new RegExp(`\\n[^\\n]*${option}\\b`), `the help's text (not only its usage line) says what ${option} does`);
  }
  t.notRegex(help.stdout, /^import /m, 'the opening comment only');
  t.like(unknown, { status: 2, stdout: '', stderr: "bench: Unknown option '--no-such-option'; see npm run bench -- --help\n" });
  t.like(count, { status: 2, stdout: '', stderr: 'bench: --rounds takes a whole number from 1 to 9999, not "many"; see npm run bench -- --help\n' });
});
