// Running a CLI command: its message on stdout, or one line on stderr and exit code 2 for
// a mistake the operator can fix (bad arguments, a bad file, a path that cannot be read or
// written). Anything else is a bug. `--help` (or `-h`) prints the command's help and does
// nothing else, as operators expect of any command line tool.

import { ConfigError } from '../config/errors.ts';

/** A wrong command line. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** The file system refused a path (ENOENT, EACCES, EISDIR…): Node's message names the path and why. */
const isFileError = (error: unknown): boolean => error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string'
  && typeof (error as NodeJS.ErrnoException).path === 'string';

/** Node's parseArgs refused the line: an option the command does not have, or one without its value. */
const isParseError = (error: unknown): boolean => error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');

/** `--help` or `-h` among the options; after `--` every word is an argument (an account id may begin with `-`). */
const asksForHelp = (argv: readonly string[]): boolean => {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((word) => word === '--help' || word === '-h');
};

export function runCli(name: string, help: string, command: (argv: string[]) => Promise<string>): void {
  const argv = process.argv.slice(2);
  if (asksForHelp(argv)) {
    process.stdout.write(`${help}\n`);
    return;
  }
  command(argv).then(
    // An empty message: the command wrote what it had to say itself (a dump to standard output).
    (message) => { if (message !== '') process.stdout.write(`${message}\n`); },
    (error: unknown) => {
      const parseError = isParseError(error);
      if (!(error instanceof UsageError || error instanceof ConfigError || error instanceof SyntaxError || parseError || isFileError(error))) throw error;
      // Node's own words name the option it refused, not the ones there are.
      const hint = parseError ? `; see npm run ${name} -- --help` : '';
      process.stderr.write(`${name}: ${(error as Error).message}${hint}\n`);
      process.exitCode = 2;
    },
  );
}
