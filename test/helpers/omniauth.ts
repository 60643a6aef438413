// OmniAuth with GitLab's OpenID Connect strategy: a relying party in Ruby, configured by the
// README's GitLab lines (test/relying-parties/omniauth_app.rb). Debian's ruby,
// ruby-omniauth-openid-connect (GitLab's gitlab-omniauth-openid-connect), ruby-rack and
// ruby-webrick (.ci/run installs them); without them the tests say so and skip.

import { fileURLToPath } from 'node:url';
import { CHILD_ENV, startProcess, stopProcess } from './process.ts';
import { runsHere, type RpProcess } from './rp-process.ts';

const RUBY = '/usr/bin/ruby';
const APP = fileURLToPath(new URL('../relying-parties/omniauth_app.rb', import.meta.url));

/** Whether Debian's Ruby has OmniAuth's OpenID Connect strategy and WEBrick here. */
export const omniauthInstalled = runsHere(RUBY, ['-e', 'require "omniauth_openid_connect"; require "webrick"; require "rack/protection"']);

/** GitLab's redirect URI on `port`: to register for the client. */
export const omniauthRedirect = (port: number) => `http://127.0.0.1:${port}/users/auth/openid_connect/callback`;

/** Starts the Rack app and resolves once it listens. */
export async function startOmniauthRp(port: number, issuer: string, clientId: string, clientSecret: string): Promise<RpProcess> {
  const started = await startProcess(RUBY, [APP, issuer, clientId, clientSecret, String(port)], {
    cwd: fileURLToPath(new URL('.', import.meta.url)), env: CHILD_ENV,
    what: `OmniAuth on 127.0.0.1:${port}`, ready: (output) => output.includes(`listening on 127.0.0.1:${port}`),
  });
  return { origin: `http://127.0.0.1:${port}`, output: started.output, stop: async () => { await stopProcess(started, 'OmniAuth'); } };
}
