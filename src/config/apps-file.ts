// WECHAT_APPS_FILE: a company's WeChat apps, as a JSON array:
//   [{ "id": "brand-mp", "kind": "mp", "appid": "wx…", "secret_env": "BRAND_MP_SECRET", "name": "品牌服务号" },
//    { "id": "web", "kind": "open", "appid": "wx…", "secret_file": "/run/secrets/web-secret" }]
// Secrets are never inline: `secret_env` names an environment variable, `secret_file` a
// file. Every mistake is one line naming the app id and the field. The single-app
// variables (WECHAT_MP_*, WECHAT_OPEN_*) define the apps `mp` and `open` instead.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AppId } from '../wechat/types.ts';
import { isWeChatId } from '../wechat/types.ts';
import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';

type Env = Readonly<Record<string, string | undefined>>;

const SECRET = /^[A-Za-z0-9]{16,64}$/;

const entry = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{1,32}$/, { error: 'must be 1 to 32 letters, digits and -' }),
  kind: z.enum(['mp', 'open'], { error: 'must be mp (Official Account) or open (website app)' }),
  appid: z.string().refine(isWeChatId, { error: 'is not a WeChat appid' }),
  secret_env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { error: 'must name an environment variable' }).optional(),
  secret_file: z.string().min(1).optional(),
  name: z.string().max(60).optional(),
}).strict();

export type AppEntry = z.output<typeof entry>;

/** An app's secret, from the environment variable or the file its entry names. */
function secretOf(variable: string, app: AppEntry, env: Env): string {
  const where = (field: string) => `app ${app.id}: ${field}`;
  if ((app.secret_env === undefined) === (app.secret_file === undefined)) {
    throw new ConfigError(variable, where('give exactly one of secret_env and secret_file (secrets are never written in the file)'));
  }
  const { secret_env: name, secret_file: file = '' } = app;
  let secret: string | undefined;
  if (name !== undefined) {
    secret = env[name]?.trim();
    if (!secret) throw new ConfigError(variable, where(`secret_env names ${name}, which is not set`));
  } else {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(variable, where(`secret_file ${file} cannot be read`));
    }
  }
  if (!SECRET.test(secret)) throw new ConfigError(variable, where('the secret is not a WeChat AppSecret (16 to 64 letters and digits)'));
  return secret;
}

export interface FileApp {
  readonly id: string;
  readonly kind: 'mp' | 'open';
  readonly appid: AppId;
  readonly secret: string;
  readonly name: string | undefined;
  readonly configuredBy: string;
}

export function appsFile(variable: string, path: string, env: Env): FileApp[] {
  const value = readJsonFile(variable, path);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(variable, `${path}: expected a non-empty JSON array of apps`);
  const ids = new Set<string>();
  const appids = new Set<string>();
  return value.map((raw: unknown, index) => {
    const id = (raw as { id?: unknown } | null)?.id;
    const parsed = entry.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'entry';
      throw new ConfigError(variable, `app ${typeof id === 'string' ? id : `#${index}`}: ${field} ${issue?.message ?? 'is invalid'}`);
    }
    const app = parsed.data;
    if (ids.has(app.id)) throw new ConfigError(variable, `app ${app.id}: id is used twice`);
    if (appids.has(app.appid)) throw new ConfigError(variable, `app ${app.id}: appid ${app.appid} is used twice`);
    ids.add(app.id);
    appids.add(app.appid);
    return { id: app.id, kind: app.kind, appid: app.appid as AppId, secret: secretOf(variable, app, env), name: app.name, configuredBy: `${variable} (app ${app.id})` };
  });
}
