// An Official Account's developer-mode server address (服务器地址) for follow-to-login:
//   GET  /wechat/mp/:id/events   WeChat's URL check (signature over token, timestamp, nonce) → echostr
//   POST /wechat/mp/:id/events   messages and events, plaintext or (with aes_key_env) safe mode
// A `subscribe` with EventKey `qrscene_<scene>` (a new follower) or a `SCAN` with EventKey
// `<scene>` (a follower already) records the scan of that scene. Every verified push is
// answered `success` and nothing else, so the account's owner and other parties keep
// answering their users; anything unverified gets 400, a log line, and changes nothing.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountMessageKeys } from '../config/apps-file.ts';
import type { ConfiguredApp } from '../config/config.ts';
import { readBody } from '../http/read-body.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { MessageCrypto, WeChatMessageError } from '../wechat/message-crypto.ts';
import { openPlainPush, openPush, verifyPlain, type VerifiedPush } from '../wechat/platform-push.ts';
import type { FollowScenes } from './follow-scenes.ts';
import { NONCE_MODEL, nonceSeen } from './platforms.ts';


/** The scene a scan event names, or undefined for any other message or event. */
export function sceneOf(fields: Readonly<Record<string, string>>): string | undefined {
  if (fields.MsgType !== 'event' || !fields.EventKey) return undefined;
  if (fields.Event === 'subscribe') return fields.EventKey.startsWith('qrscene_') ? fields.EventKey.slice('qrscene_'.length) : undefined;
  return fields.Event === 'SCAN' ? fields.EventKey : undefined;
}

export interface FollowEventParts {
  readonly apps: readonly ConfiguredApp[];
  readonly scenes: FollowScenes;
  readonly storage: { adapter(model: string): StorageAdapter };
  readonly log: Logger;
}

export class FollowEvents {
  readonly #parts: FollowEventParts;
  readonly #nonces: StorageAdapter;

  constructor(parts: FollowEventParts) {
    this.#parts = parts;
    this.#nonces = parts.storage.adapter(NONCE_MODEL);
  }

  #app(ctx: Context): ConfiguredApp | undefined {
    return this.#parts.apps.find((app) => app.id === ctx.params.id && app.followLogin && app.messageKeys);
  }

  /** The verified push, or undefined after answering 400 (and logging why). */
  async #open(ctx: Context, app: ConfiguredApp, keys: AccountMessageKeys): Promise<VerifiedPush | undefined> {
    const seen = (nonce: string) => nonceSeen(this.#nonces, `mp:${app.id}:${nonce}`);
    try {
      const body = await readBody(ctx);
      // Safe mode when the operator gave the EncodingAESKey: then only encrypted pushes count.
      return keys.aesKey
        ? await openPush(new MessageCrypto(keys.token, keys.aesKey), app.appid, ctx.query, body, seen)
        : await openPlainPush(keys.token, ctx.query, body, seen);
    } catch (error) {
      if (!(error instanceof WeChatMessageError)) throw error;
      this.#parts.log.warn({ app: app.id, ip: ctx.ip, reason: error.message }, 'WeChat push refused');
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = 'refused';
      return undefined;
    }
  }

  /** GET: WeChat's check of the server URL, answered with its echostr when signed with the token. */
  verify(ctx: Context): void {
    const app = this.#app(ctx);
    if (!app?.messageKeys) return void (ctx.status = 404);
    const { echostr } = ctx.query;
    if (typeof echostr !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(echostr) || !verifyPlain(app.messageKeys.token, ctx.query)) {
      this.#parts.log.warn({ app: app.id, ip: ctx.ip }, 'WeChat server URL check refused');
      ctx.status = 400;
      return;
    }
    ctx.type = 'text/plain';
    ctx.body = echostr;
  }

  /** POST: a message or event; a scan is recorded; `success` to every verified push. */
  async receive(ctx: Context): Promise<void> {
    const app = this.#app(ctx);
    if (!app?.messageKeys) return void (ctx.status = 404);
    const push = await this.#open(ctx, app, app.messageKeys);
    if (!push) return;
    await this.record(app, push.fields);
    ctx.type = 'text/plain';
    ctx.body = 'success';
  }

  /** A verified message or event of a follow-to-login account (here, or through its platform): a scan is recorded. */
  async record(app: ConfiguredApp, fields: Readonly<Record<string, string>>): Promise<void> {
    const scene = sceneOf(fields);
    const openid = fields.FromUserName;
    if (!app.followLogin || scene === undefined || !openid) return;
    const outcome = await this.#parts.scenes.scanned(scene, app.id, openid);
    this.#parts.log.info({ app: app.id, event: fields.Event, outcome }, 'follow-to-login scan');
  }

  routes(): Router {
    const router = new Router();
    router.get('/wechat/mp/:id/events', (ctx) => this.verify(ctx));
    router.post('/wechat/mp/:id/events', (ctx) => this.receive(ctx));
    return router;
  }
}
