// A relying party written by someone else that runs as a process of its own (Flask with
// Authlib, a Go binary with go-oidc): what a test holds of it, and its client.

export interface RpProcess {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** What it printed so far, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** The client to register in CLIENTS_FILE for the one on `port`: confidential, its redirect URI `/callback`. */
export function rpProcessClient(port: number, clientId: string, clientSecret: string, name: string) {
  return { client_id: clientId, client_secret: clientSecret, client_name: name, redirect_uris: [`http://127.0.0.1:${port}/callback`], first_party: true };
}
