// Apache httpd with mod_auth_openidc: a relying party written by someone else, in C, and a
// strict one (it checks the ID token's signature, iss, aud, nonce and at_hash itself, the
// authorization response's iss, RFC 9207, and does PKCE), configured exactly as the README's
// "With your library" says. It protects /protected/, a page that shows the claims it got
// (server-side includes of the OIDC_CLAIM_* variables it sets), with the README's block
// itself as its mod_auth_openidc configuration. Debian's apache2 and
// libapache2-mod-auth-openidc (.ci/run installs them); without them the tests say so and skip.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHILD_ENV, startProcess, stopProcess } from './process.ts';
import { tempDir } from './temp.ts';

const HTTPD = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/** Whether Apache and mod_auth_openidc are installed here. */
export const apacheInstalled = existsSync(HTTPD) && existsSync(join(MODULES, 'mod_auth_openidc.so'));

export interface ApacheRp {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** What it printed (its error log): mod_auth_openidc says there why it refused a login. */
  output(): string;
  stop(): Promise<void>;
}

export interface ApacheRpOptions {
  readonly port: number;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The client to register in CLIENTS_FILE for an Apache on `port`. */
export function apacheClient(port: number, clientId: string, clientSecret: string) {
  const origin = `http://127.0.0.1:${port}`;
  return {
    client_id: clientId, client_secret: clientSecret, client_name: 'Apache',
    redirect_uris: [`${origin}/protected/redirect_uri`], post_logout_redirect_uris: [`${origin}/logged-out.html`], first_party: true,
    // OIDC Back-Channel Logout 1.0, where mod_auth_openidc takes it: its redirect URI.
    backchannel_logout_uri: `${origin}/protected/redirect_uri?logout=backchannel`,
  };
}

/** The claims page: each claim mod_auth_openidc passes on, from the ID token and userinfo. */
const CLAIMS_PAGE = `<!doctype html><meta charset="utf-8"><title>claims</title>
<p id="sub"><!--#echo var="OIDC_CLAIM_sub" --></p>
<p id="iss"><!--#echo var="OIDC_CLAIM_iss" --></p>
<p id="nickname"><!--#echo var="OIDC_CLAIM_nickname" --></p>
<p id="user"><!--#echo var="REMOTE_USER" --></p>
`;

/**
 * The README's mod_auth_openidc block (under "With your library"), as written, with this
 * test's broker, Apache and client in place of the example's: what the README promises is
 * what runs.
 */
function readmeBlock({ port, issuer, clientId, clientSecret }: ApacheRpOptions): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /```apache\n(# Apache mod_auth_openidc[^]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('the README has no Apache mod_auth_openidc block');
  return block
    .replaceAll('https://login.example.com', issuer)
    .replaceAll('https://shop.example.com', `http://127.0.0.1:${port}`)
    .replace(/^OIDCClientID .*$/m, `OIDCClientID ${clientId}`)
    .replace(/^OIDCClientSecret .*$/m, `OIDCClientSecret ${clientSecret}`)
    .replace(/^OIDCCryptoPassphrase .*$/m, 'OIDCCryptoPassphrase a-passphrase-for-the-test-only');
}

/** The server around it: a port, the modules, the pages (the claims page under /protected). */
function config(dir: string, options: ApacheRpOptions): string {
  const modules = ['mpm_prefork', 'authn_core', 'authz_core', 'authz_user', 'dir', 'mime', 'include', 'auth_openidc'];
  return `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${options.port}
PidFile "${dir}/httpd.pid"
# Piped: the test reads what it says (a pipe cannot be opened as /dev/stderr).
ErrorLog "|/bin/cat"
LogLevel warn core:notice
${modules.map((name) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`).join('\n')}
User www-data
Group www-data
DocumentRoot "${dir}/htdocs"
DirectoryIndex index.html
TypesConfig /etc/mime.types
<Directory "${dir}/htdocs">
  Require all granted
</Directory>
<Directory "${dir}/htdocs/protected">
  Options +Includes
  SetOutputFilter INCLUDES
</Directory>

${readmeBlock(options)}`;
}

/** Starts Apache in the foreground (as Docker runs it) and resolves once it says it serves. */
export async function startApacheRp(options: ApacheRpOptions): Promise<ApacheRp> {
  const dir = tempDir('broker-apache');
  mkdirSync(join(dir, 'htdocs', 'protected'), { recursive: true });
  writeFileSync(join(dir, 'htdocs', 'protected', 'index.html'), CLAIMS_PAGE);
  writeFileSync(join(dir, 'htdocs', 'logged-out.html'), '<!doctype html><title>logged out</title><p>Logged out of Apache.</p>\n');
  writeFileSync(join(dir, 'httpd.conf'), config(dir, options));
  // Apache serves as www-data: the folders and pages must be readable by it, whatever the umask.
  for (const path of [dir, join(dir, 'htdocs'), join(dir, 'htdocs', 'protected')]) chmodSync(path, 0o755);
  for (const path of [join(dir, 'htdocs', 'protected', 'index.html'), join(dir, 'htdocs', 'logged-out.html')]) chmodSync(path, 0o644);
  const started = await startProcess(HTTPD, ['-DFOREGROUND', '-f', join(dir, 'httpd.conf')], {
    cwd: dir, env: CHILD_ENV, what: `Apache on 127.0.0.1:${options.port}`, ownGroup: true,
    ready: (output) => output.includes('resuming normal operations'),
  });
  return {
    origin: `http://127.0.0.1:${options.port}`,
    output: started.output,
    stop: async () => { await stopProcess(started, 'Apache'); },
  };
}
