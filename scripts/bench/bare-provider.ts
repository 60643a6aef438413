// The benchmark's baseline: bare oidc-provider (the same package the broker wraps), with the
// broker's clients, signing keys, storage (memory, or Redis with REDIS_URL, through the
// broker's own adapters) and refresh-token rotation, and a minimal interaction that needs no
// upstream: every login is the one account, consented at once.
//   PORT, ISSUER, CLIENTS_FILE, JWKS_FILE, REDIS_URL (optional)

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { parseRedisUrl } from '../../src/config/redis-url.ts';
import { ConsumeOnceAdapter } from '../../src/oidc/consume-once.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { connectRedis } from '../../src/storage/redis-connection.ts';
import { RedisStorage } from '../../src/storage/redis.ts';

const env = process.env;
const storage = env.REDIS_URL ? new RedisStorage(connectRedis(parseRedisUrl('REDIS_URL', env.REDIS_URL), 5000), 'bare:', () => undefined) : new MemoryStorage();
const clients = JSON.parse(readFileSync(env.CLIENTS_FILE!, 'utf8')) as Array<Record<string, unknown>>;
const keys = JSON.parse(readFileSync(env.JWKS_FILE!, 'utf8')) as { keys: object[] };

const provider = new Provider(env.ISSUER!, {
  adapter: (model: string) => new ConsumeOnceAdapter(storage.adapter(model)),
  clients: clients.map(({ first_party: _first, wechat_apps: _apps, ...client }) => client) as never,
  jwks: keys as never,
  cookies: { keys: ['bench-cookie-key-0123456789abcdef0123456789'] },
  claims: { openid: ['sub'], profile: ['name', 'nickname', 'picture'] },
  scopes: ['openid', 'offline_access', 'profile'],
  features: { devInteractions: { enabled: false }, introspection: { enabled: true }, revocation: { enabled: true }, userinfo: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  rotateRefreshToken: true,
  pkce: { required: () => false },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, nickname: 'bench' }) }),
});
provider.proxy = true;

/** The minimal interaction: log the one account in and grant what was asked. */
provider.use(async (ctx, next) => {
  const uid = /^\/interaction\/([^/]+)$/.exec(ctx.path)?.[1];
  if (!uid) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: 'bench-user' }, consent: { grantId } }, { mergeWithLastSubmission: false });
});

createServer(provider.callback()).listen(Number(env.PORT), '127.0.0.1', () => process.stdout.write('bare provider started\n'));
// An exit of its own on SIGTERM, so that node writes the CPU profile (--cpu-prof) as it does for the broker.
process.on('SIGTERM', () => process.exit(0));
