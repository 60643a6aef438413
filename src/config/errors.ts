/** A setting is missing or wrong. Printed to the operator as one line, never a stack trace. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** The environment variable (or file) at fault. */
  readonly variable: string;
  /** What is wrong with it. */
  readonly problem: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.problem = problem;
  }
}
