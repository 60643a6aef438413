// Running a CLI command: its message on stdout, or one line on stderr and exit code 2 for
// a mistake the operator can fix (bad arguments, a bad file). Anything else is a bug.

import { ConfigError } from '../config/errors.ts';

/** A wrong command line. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export function runCli(name: string, command: (argv: string[]) => Promise<string>): void {
  command(process.argv.slice(2)).then(
    (message) => { process.stdout.write(`${message}\n`); },
    (error: unknown) => {
      const operatorError = error instanceof UsageError || error instanceof ConfigError
        || error instanceof SyntaxError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
      if (!operatorError) throw error;
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
