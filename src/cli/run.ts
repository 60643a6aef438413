// Running a CLI command: its message on stdout, or one line on stderr and exit code 2 for
// a mistake the operator can fix (bad arguments, a bad file, a path that cannot be read or
// written). Anything else is a bug.

import { ConfigError } from '../config/errors.ts';

/** A wrong command line. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** The file system refused a path (ENOENT, EACCES, EISDIR…): Node's message names the path and why. */
const isFileError = (error: unknown): boolean => error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string'
  && typeof (error as NodeJS.ErrnoException).path === 'string';

export function runCli(name: string, command: (argv: string[]) => Promise<string>): void {
  command(process.argv.slice(2)).then(
    // An empty message: the command wrote what it had to say itself (a dump to standard output).
    (message) => { if (message !== '') process.stdout.write(`${message}\n`); },
    (error: unknown) => {
      const operatorError = error instanceof UsageError || error instanceof ConfigError || error instanceof SyntaxError
        || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) || isFileError(error);
      if (!operatorError) throw error;
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
