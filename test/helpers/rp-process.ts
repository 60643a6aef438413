// A relying party written by someone else that runs as a process of its own (Flask with
// Authlib, a Go binary with go-oidc, OmniAuth on Rack): what a test holds of it, its client,
// and whether what it needs is installed.

import { execFileSync } from 'node:child_process';

export interface RpProcess {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** What it printed so far, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** The client to register in CLIENTS_FILE for the one on `port`: confidential, its redirect URI `/callback` unless given. */
export function rpProcessClient(port: number, clientId: string, clientSecret: string, name: string, redirectUri = `http://127.0.0.1:${port}/callback`) {
  return { client_id: clientId, client_secret: clientSecret, client_name: name, redirect_uris: [redirectUri], first_party: true };
}

/** Whether `command` with `args` runs and exits 0 here (an interpreter that loads the libraries a relying party needs). */
export function runsHere(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
