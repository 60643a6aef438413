// Flask with Authlib: a relying party in Python, registered as the README's "With your
// library" shows (test/relying-parties/authlib_app.py). Debian's python3-flask,
// python3-authlib and python3-requests (.ci/run installs them); without them the tests say so and skip.

import { fileURLToPath } from 'node:url';
import { CHILD_ENV, startProcess, stopProcess } from './process.ts';
import { runsHere, type RpProcess } from './rp-process.ts';

const PYTHON = '/usr/bin/python3';
const APP = fileURLToPath(new URL('../relying-parties/authlib_app.py', import.meta.url));

/** Whether Debian's Python has Flask and Authlib here. */
export const authlibInstalled = runsHere(PYTHON, ['-c', 'import authlib.integrations.flask_client, flask']);

/** Starts the Flask app and resolves once it says it serves. */
export async function startAuthlibRp(port: number, issuer: string, clientId: string, clientSecret: string): Promise<RpProcess> {
  const started = await startProcess(PYTHON, [APP, issuer, clientId, clientSecret, String(port)], {
    cwd: fileURLToPath(new URL('.', import.meta.url)), env: { ...CHILD_ENV, PYTHONUNBUFFERED: '1' },
    what: `Flask with Authlib on 127.0.0.1:${port}`, ready: (output) => output.includes(`Running on http://127.0.0.1:${port}`),
  });
  return { origin: `http://127.0.0.1:${port}`, output: started.output, stop: async () => { await stopProcess(started, 'Flask with Authlib'); } };
}
