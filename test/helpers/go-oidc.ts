// go-oidc with golang.org/x/oauth2: a relying party in Go, set up by the README's "With your
// library" lines (test/relying-parties/go_oidc_app.go, with the README's ```go block put in at
// its marker) and built with Debian's Go and packages (.ci/run installs golang-go,
// golang-github-coreos-go-oidc-dev and golang-golang-x-oauth2-dev); without them the tests say
// so and skip.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CHILD_ENV, startProcess, stopProcess } from './process.ts';
import type { RpProcess } from './rp-process.ts';
import { tempDir } from './temp.ts';

const GO = '/usr/bin/go';
/** Where Debian's Go libraries are: a GOPATH. */
const GOPATH = '/usr/share/gocode';
const APP = fileURLToPath(new URL('../relying-parties/go_oidc_app.go', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** Whether Debian's Go and its go-oidc and x/oauth2 are here. */
export const goOidcInstalled = existsSync(GO) && ['github.com/coreos/go-oidc', 'golang.org/x/oauth2'].every((path) => existsSync(join(GOPATH, 'src', path)));

/** The README's ```go block, with this test's issuer, client and redirect URI in place of the example's. */
function readmeLines(issuer: string, clientId: string, clientSecret: string, port: number): string {
  const block = /```go\n(\/\/ go-oidc[\s\S]*?)```/.exec(readFileSync(README, 'utf8'))?.[1];
  if (!block) throw new Error('the README has no ```go block for go-oidc');
  return block.replaceAll('https://login.example.com', issuer).replaceAll('ClientID: "shop"', `ClientID: ${JSON.stringify(clientId)}`)
    .replace('ClientSecret: "…"', `ClientSecret: ${JSON.stringify(clientSecret)}`).replace('https://shop.example.com/callback', `http://127.0.0.1:${port}/callback`);
}

/** Builds the app with the README's lines, starts it on `port`, and resolves once it listens. */
export async function startGoOidcRp(port: number, issuer: string, clientId: string, clientSecret: string): Promise<RpProcess> {
  const dir = tempDir('go-oidc');
  const source = readFileSync(APP, 'utf8');
  if (!source.includes('\t// README\n')) throw new Error(`${APP} has no README marker`);
  writeFileSync(join(dir, 'main.go'), source.replace('\t// README\n', readmeLines(issuer, clientId, clientSecret, port)));
  // GOPATH mode, on Debian's library sources; the build cache beside the source, removed with it.
  const env = { ...CHILD_ENV, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' };
  await promisify(execFile)(GO, ['build', '-o', join(dir, 'app'), join(dir, 'main.go')], { cwd: dir, env, timeout: 300_000 });
  const started = await startProcess(join(dir, 'app'), [String(port)], {
    cwd: dir, env: CHILD_ENV, what: `go-oidc on 127.0.0.1:${port}`, ready: (output) => output.includes(`listening on 127.0.0.1:${port}`),
  });
  return { origin: `http://127.0.0.1:${port}`, output: started.output, stop: async () => { await stopProcess(started, 'go-oidc'); } };
}
