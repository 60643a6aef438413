// examples/kubernetes.yaml, held to the broker it deploys (no cluster runs here): its settings
// are variables the broker has and load in production as they stand (with placeholder
// secrets), its probes are the broker's, its timings let a pod stop by itself after the
// endpoints drop it, and the files and ports it names are the ones the settings name.
// That the broker writes no file (readOnlyRootFilesystem) is e2e/artifact's check.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import { generateSigningKeys } from '../../src/config/keys.ts';
import { VARIABLES } from '../../src/config/variables.ts';
import { envOf, parseDockerfile } from '../helpers/dockerfile.ts';
import { tempDir } from '../helpers/temp.ts';

type Manifest = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
type Probe = { httpGet: { path: string; port: string }; periodSeconds: number };
type Container = {
  ports: Array<{ name: string; containerPort: number }>; env: Array<{ name: string; value: string }>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly: boolean }>;
  readinessProbe: Probe; livenessProbe: Probe; startupProbe: Probe;
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
};
type PodSpec = { terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean; runAsUser: number }; containers: Container[] };

const ROOT = new URL('../..', import.meta.url);
const manifests = parseAllDocuments(readFileSync(new URL('examples/kubernetes.yaml', ROOT), 'utf8')).map((document) => document.toJSON() as Manifest);
const byKind = (kind: string) => manifests.find((manifest) => manifest.kind === kind)!;
const pod = (byKind('Deployment').spec.template as { spec: PodSpec }).spec;
const container = pod.containers[0]!;
const env = Object.fromEntries(container.env.map(({ name, value }) => [name, value]));

test('every setting is one of the broker\'s variables, and together with the secret\'s (placeholders here) they load in production', async (t) => {
  t.deepEqual(Object.keys(env).filter((name) => !(name in VARIABLES)), []);
  t.is(env.NODE_ENV, 'production');
  const dir = tempDir('broker-kubernetes');
  const jwks = join(dir, 'jwks.json');
  const clients = join(dir, 'clients.json');
  writeFileSync(jwks, JSON.stringify(await generateSigningKeys()));
  writeFileSync(clients, JSON.stringify([{ client_id: 'shop', client_secret: randomBytes(32).toString('base64url'), redirect_uris: ['https://shop.example.com/cb'] }]));
  const secret = {
    ISSUER: 'https://login.example.com', COOKIE_KEYS: '3f9a1c7e5b2d8064af3c9e1b7d5f2a8c', METRICS_TOKEN: 'm'.repeat(32),
    WECHAT_MP_APPID: 'wx1234567890abcdef', WECHAT_MP_SECRET: 'b'.repeat(32),
  };
  const config = await loadConfig({ ...secret, ...env, JWKS_FILE: jwks, CLIENTS_FILE: clients });
  t.is(config.metrics.port, Number(env.METRICS_PORT));
  t.true(config.trustProxy);
});

test('probes, ports and files are the broker\'s: /readyz and /healthz on PORT, metrics on METRICS_PORT, the secret\'s files where the settings look', (t) => {
  const ports = Object.fromEntries(container.ports.map(({ name, containerPort }) => [name, containerPort]));
  const image = envOf(parseDockerfile(new URL('Dockerfile', ROOT).pathname).at(-1)!);
  t.is(ports.http, Number(image.PORT), 'the image listens on PORT');
  t.is(ports.metrics, Number(env.METRICS_PORT));
  t.like(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  t.like(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  t.like(container.startupProbe.httpGet, { path: '/healthz', port: 'http' });
  const mount = container.volumeMounts.find((volume) => volume.name === 'files')!;
  t.true(mount.readOnly);
  t.is(dirname(env.JWKS_FILE!), mount.mountPath);
  t.is(dirname(env.CLIENTS_FILE!), mount.mountPath);
  const service = byKind('Service').spec as { ports: Array<{ targetPort: string }>; selector: Record<string, string> };
  t.is(service.ports[0]!.targetPort, 'http');
  t.deepEqual(service.selector, (byKind('Deployment').spec.selector as { matchLabels: Record<string, string> }).matchLabels);
  t.deepEqual((byKind('PodDisruptionBudget').spec.selector as { matchLabels: unknown }).matchLabels, service.selector);
});

test('a pod stops by itself: not ready at once, still serving a probe period and more, then its requests finish, all within the grace period', (t) => {
  const delayMs = Number(env.SHUTDOWN_DELAY_MS);
  const timeoutMs = Number(env.SHUTDOWN_TIMEOUT_MS ?? VARIABLES.SHUTDOWN_TIMEOUT_MS.default);
  t.true(container.readinessProbe.periodSeconds * 1000 < delayMs, 'the endpoints drop the pod before it stops serving');
  t.true(pod.terminationGracePeriodSeconds * 1000 > delayMs + timeoutMs, 'Kubernetes\'s SIGKILL comes after the broker has stopped');
});

test('the image\'s node user, unprivileged, on a read-only root filesystem', (t) => {
  const runtime = parseDockerfile(new URL('Dockerfile', ROOT).pathname).at(-1)!;
  t.true(runtime.instructions.some(({ op, args }) => op === 'USER' && args === 'node'), 'the Dockerfile runs as node (uid 1000 in node:24-slim)');
  t.like(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000 });
  t.like(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
});
