// Reads the project's Dockerfile (the instructions it uses) so that a test can repeat
// its steps without a Docker engine.

import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export function parseDockerfile(path: string): Stage[] {
  const lines = readFileSync(path, 'utf8').replace(/\\\n/g, ' ').split('\n')
    .map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages: Array<{ from: string; name: string | undefined; instructions: Instruction[] }> = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** `ENV A=1 B=2` → { A: '1', B: '2' } */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage.instructions) {
    if (op !== 'ENV') continue;
    for (const [, key = '', value = ''] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[key] = value.replace(/^"|"$/g, '');
  }
  return env;
}

/** The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK … CMD. */
export function execForm(stage: Stage, op: 'CMD' | 'ENTRYPOINT' | 'HEALTHCHECK'): string[] {
  const args = stage.instructions.filter((instruction) => instruction.op === op).at(-1)?.args ?? '';
  const json = op === 'HEALTHCHECK' ? args.slice(args.indexOf('CMD ') + 4) : args;
  return JSON.parse(json) as string[];
}
