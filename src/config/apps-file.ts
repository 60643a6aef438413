// WECHAT_APPS_FILE: a company's WeChat apps, as a JSON array:
//   [{ "id": "brand-mp", "kind": "mp", "appid": "wx…", "secret_env": "BRAND_MP_SECRET", "name": "品牌服务号" },
//    { "id": "web", "kind": "open", "appid": "wx…", "secret_file": "/run/secrets/web-secret" }]
// Secrets are never inline: `secret_env` names an environment variable, `secret_file` a
// file. An Official Account developed through a third-party platform the company
// operates has `"via": "<component id>"` and no secret of its own. Every mistake is one
// line naming the app id and the field. The single-app
// variables (WECHAT_MP_*, WECHAT_OPEN_*) define the apps `mp` and `open` instead.
// A WeCom self-built app (自建应用) is an entry of kind `wecom` with the company's `corpid`
// and the app's `agentid` instead of an appid:
//   { "id": "staff", "kind": "wecom", "corpid": "ww…", "agentid": "1000002", "secret_env": "STAFF_SECRET",
//     "allow_non_members": false }

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ConfiguredApp, ConfiguredWeComApp, PlatformApp } from '../wechat/apps.ts';
import { AGENTID, isWeComCorpid, type CorpId } from '../wechat/wecom.ts';
import type { AppId } from '../wechat/types.ts';
import { isWeChatId } from '../wechat/types.ts';
import { isEncodingAesKey } from '../wechat/message-crypto.ts';
import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';

type Env = Readonly<Record<string, string | undefined>>;

const SECRET = /^[A-Za-z0-9]{16,64}$/;
const envName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, { error: 'must name an environment variable' });

/** An operator message about one entry. */
const about = (app: { readonly id: string }, text: string) => `app ${app.id}: ${text}`;

const appId = z.string().regex(/^[A-Za-z0-9-]{1,32}$/, { error: 'must be 1 to 32 letters, digits and -' });

const entry = z.object({
  id: appId,
  kind: z.enum(['mp', 'open', 'miniprogram', 'app', 'component'], { error: 'must be mp (Official Account), open (website app), miniprogram (mini program), app (mobile app), component (third-party platform) or wecom (WeCom app)' }),
  appid: z.string().refine(isWeChatId, { error: 'is not a WeChat appid' }),
  secret_env: envName.optional(),
  secret_file: z.string().min(1).optional(),
  name: z.string().max(60).optional(),
  token_env: envName.optional(),
  aes_key_env: envName.optional(),
  via: appId.optional(),
  follow_login: z.boolean({ error: 'must be true or false' }).optional(),
  forward_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000).optional(),
  sheet_consent_for: z.array(z.string().min(1).max(200), { error: 'must be a list of client_id values' }).min(1).optional(),
}).strict();

export type AppEntry = z.output<typeof entry>;

/** A WeCom self-built app: the company's corpid, the app's agentid and Secret, the scope of its logins. */
const wecomEntry = z.object({
  id: appId,
  kind: z.literal('wecom'),
  corpid: z.string().refine(isWeComCorpid, { error: 'is not a WeCom corpid (ww or wx and 16 letters and digits)' }),
  agentid: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(AGENTID, { error: 'must be the app\'s AgentId (digits)' })),
  secret_env: envName.optional(),
  secret_file: z.string().min(1).optional(),
  name: z.string().max(60).optional(),
  // snsapi_privateinfo: the app may ask a member for their email and mobile (WeCom's consent page), which
  // the broker does only for a login whose relying party asked for the email or phone scope.
  scope: z.enum(['snsapi_base', 'snsapi_privateinfo'], { error: 'must be snsapi_base or snsapi_privateinfo' }).default('snsapi_base'),
  allow_non_members: z.boolean({ error: 'must be true or false' }).default(false),
  token_env: envName.optional(),
  aes_key_env: envName.optional(),
}).strict();

type WeComEntry = z.output<typeof wecomEntry>;

/** A WeCom app's Secret: 43 characters of base64url as the admin console shows them. */
const WECOM_SECRET = /^[A-Za-z0-9_-]{16,64}$/;

/** An app's secret, from the environment variable or the file its entry names. */
function secretOf(variable: string, app: Pick<AppEntry, 'id' | 'secret_env' | 'secret_file' | 'kind'> | WeComEntry, env: Env): string {
  if ((app.secret_env === undefined) === (app.secret_file === undefined)) {
    throw new ConfigError(variable, about(app, 'give exactly one of secret_env and secret_file (secrets are never written in the file)'));
  }
  const { secret_env: name, secret_file: file = '' } = app;
  let secret: string | undefined;
  if (name !== undefined) {
    secret = env[name]?.trim();
    if (!secret) throw new ConfigError(variable, about(app, `secret_env names ${name}, which is not set`));
  } else {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(variable, about(app, `secret_file ${file} cannot be read`));
    }
  }
  if (app.kind === 'wecom') {
    if (!WECOM_SECRET.test(secret)) throw new ConfigError(variable, about(app, 'the secret is not a WeCom app Secret (16 to 64 letters, digits, - and _)'));
  } else if (!SECRET.test(secret)) throw new ConfigError(variable, about(app, 'the secret is not a WeChat AppSecret (16 to 64 letters and digits)'));
  return secret;
}

/** A third-party platform (第三方平台) the company operates: its credentials and message keys. */
/**
 * The message token and EncodingAESKey from the variables an entry names. Both are
 * required: a platform's pushes are always encrypted, and follow-to-login accepts only an
 * Official Account in safe mode (安全模式), because in plaintext mode the signature covers
 * the token, timestamp and nonce but not the message, so anyone who saw one signed request
 * could send a scan naming any follower.
 */
function messageKeys(variable: string, app: Pick<AppEntry, 'id' | 'token_env' | 'aes_key_env'> & { readonly kind: string }, env: Env): { token: string; aesKey: string } {
  const token = app.token_env === undefined ? undefined : env[app.token_env]?.trim();
  if (!token || !/^[A-Za-z0-9]{3,32}$/.test(token)) throw new ConfigError(variable, about(app, 'token_env must name a variable holding the message token (3 to 32 letters and digits)'));
  if (app.aes_key_env === undefined && app.kind === 'mp') {
    throw new ConfigError(variable, about(app, 'follow_login needs safe mode (安全模式): set aes_key_env to a variable holding the EncodingAESKey; in plaintext mode anyone who sees one signed push could log in as any follower'));
  }
  const aesKey = app.aes_key_env === undefined ? undefined : env[app.aes_key_env]?.trim();
  if (!aesKey || !isEncodingAesKey(aesKey)) {
    throw new ConfigError(variable, about(app, 'aes_key_env must name a variable holding the 43-character EncodingAESKey'));
  }
  return { token, aesKey };
}

/** An Official Account's developer-mode message keys (服务器配置), in safe mode: the token and the EncodingAESKey. */
function entryOf(variable: string, raw: unknown, index: number): AppEntry | WeComEntry {
  const parsed = (raw as { kind?: unknown } | null)?.kind === 'wecom' ? wecomEntry.safeParse(raw) : entry.safeParse(raw);
  if (parsed.success) return parsed.data;
  const id = (raw as { id?: unknown } | null)?.id;
  const issue = parsed.error.issues[0];
  throw new ConfigError(variable, `app ${typeof id === 'string' ? id : `#${index}`}: ${issue?.path.join('.') || 'entry'} ${issue?.message ?? 'is invalid'}`);
}

/** What an entry's kind allows: message keys on a component only, `via` on an mp only and without a secret. */
function checkFields(variable: string, app: AppEntry): void {
  if (app.follow_login !== undefined && app.kind !== 'mp') throw new ConfigError(variable, about(app, 'follow_login belongs to an mp (Official Account) entry'));
  const hasMessages = app.kind === 'component' || (app.follow_login === true && app.via === undefined);
  if (!hasMessages && (app.token_env ?? app.aes_key_env) !== undefined) {
    throw new ConfigError(variable, about(app, 'token_env and aes_key_env belong to a component entry, or to an mp with follow_login and its own secret'));
  }
  if (app.forward_url !== undefined && !(app.kind === 'mp' && app.follow_login === true && app.via === undefined)) {
    throw new ConfigError(variable, about(app, 'forward_url belongs to an mp with follow_login and its own secret: the broker is its server address (服务器地址) then'));
  }
  if (app.sheet_consent_for !== undefined && app.kind !== 'mp') {
    throw new ConfigError(variable, about(app, 'sheet_consent_for belongs to an mp (Official Account) entry: only its web authorization shows WeChat\'s sheet'));
  }
  if (app.via === undefined) return;
  if (app.kind !== 'mp') throw new ConfigError(variable, about(app, 'via belongs to an mp (Official Account) entry'));
  if ((app.secret_env ?? app.secret_file) !== undefined) {
    throw new ConfigError(variable, about(app, 'an app reached via a platform has no secret of its own: remove secret_env and secret_file'));
  }
}

/** The company's server for forwarded pushes: https in production (the pushes carry the followers' messages). */
function forwardUrl(variable: string, app: AppEntry, url: string, env: Env): string {
  if (env.NODE_ENV === 'production' && !url.startsWith('https:')) throw new ConfigError(variable, about(app, 'forward_url must be https in production'));
  return url;
}

/** The entry as an upstream app: with its own secret, or through the platform it names. */
function upstreamApp(variable: string, app: AppEntry, entries: readonly AppEntry[], env: Env): ConfiguredApp {
  const common = {
    id: app.id, appid: app.appid as AppId, name: app.name, configuredBy: `${variable} (app ${app.id})`,
    ...(app.sheet_consent_for ? { sheetConsentFor: app.sheet_consent_for } : {}),
  };
  if (app.via === undefined) {
    return {
      ...common, kind: app.kind as Exclude<AppEntry['kind'], 'component'>, secret: secretOf(variable, app, env),
      ...(app.follow_login ? { followLogin: true, messageKeys: messageKeys(variable, app, env) } : {}),
      ...(app.forward_url ? { forwardUrl: forwardUrl(variable, app, app.forward_url, env) } : {}),
    };
  }
  const platform = entries.find((other) => other.id === app.via && other.kind === 'component');
  if (!platform) throw new ConfigError(variable, about(app, `via names ${app.via}, which is not a component entry of this file`));
  return { ...common, kind: 'mp', component: platform.appid as AppId, via: platform.id, ...(app.follow_login ? { followLogin: true } : {}) };
}

/** A WeCom entry as the upstream app; with token_env and aes_key_env, WeCom's events reach it (upstreams/wecom/wecom-events.ts). */
function wecomApp(variable: string, app: WeComEntry, env: Env): ConfiguredWeComApp {
  const events = app.token_env !== undefined || app.aes_key_env !== undefined;
  return {
    kind: 'wecom', id: app.id, corpid: app.corpid as CorpId, agentid: app.agentid, secret: secretOf(variable, app, env), scope: app.scope,
    name: app.name, configuredBy: `${variable} (app ${app.id})`, allowNonMembers: app.allow_non_members,
    ...(events ? { messageKeys: messageKeys(variable, app, env) } : {}),
  };
}

export interface AppsFile {
  readonly apps: ConfiguredApp[];
  readonly platforms: PlatformApp[];
  readonly wecomApps: ConfiguredWeComApp[];
}

export function appsFile(variable: string, path: string, env: Env): AppsFile {
  const value = readJsonFile(variable, path);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(variable, `${path}: expected a non-empty JSON array of apps`);
  const ids = new Set<string>();
  const appids = new Set<string>();
  const all = value.map((raw: unknown, index) => {
    const app = entryOf(variable, raw, index);
    if (ids.has(app.id)) throw new ConfigError(variable, about(app, 'id is used twice'));
    ids.add(app.id);
    // A company may run several WeCom apps; each WeChat appid is one entry.
    if (app.kind === 'wecom') return app;
    if (appids.has(app.appid)) throw new ConfigError(variable, about(app, `appid ${app.appid} is used twice`));
    checkFields(variable, app);
    appids.add(app.appid);
    return app;
  });
  const entries = all.filter((app): app is AppEntry => app.kind !== 'wecom');
  return {
    wecomApps: all.filter((app): app is WeComEntry => app.kind === 'wecom').map((app) => wecomApp(variable, app, env)),
    apps: entries.filter((app) => app.kind !== 'component').map((app) => upstreamApp(variable, app, entries, env)),
    platforms: entries.filter((app) => app.kind === 'component')
      .map((app) => ({ id: app.id, appid: app.appid as AppId, secret: secretOf(variable, app, env), ...messageKeys(variable, app, env) })),
  };
}
