// The third-party platforms (第三方平台) the company operates. WeChat pushes each of them,
// every 10 minutes, an encrypted component_verify_ticket (valid 12 hours), and
// authorization events; the platform answers `success`. The ticket goes to
// platform-tokens.ts, which keeps it in shared storage (every instance, and a restart, has
// it). Accounts' messages and events are answered `success` too, so that the platform
// never competes with the account owner's or other platforms' replies, except a
// follow-to-login scan, whose scanner gets the confirmation link (upstreams/wechat-follow/follow-events.ts).
// A repeated push gets its first answer (push-answers.ts).
//
//   POST /wechat/platform/:id/auth-events          (授权事件接收URL)
//   POST /wechat/platform/:id/events/:appid        (消息与事件接收URL, with $APPID$)

import Router from '@koa/router';
import type { Context } from 'koa';
import type { PlatformApp } from '../wechat/apps.ts';
import { readBody } from '../http/read-body.ts';
import type { Logger } from '../log.ts';
import type { StorageAdapter } from '../storage/adapter.ts';
import { WeChatError } from '../wechat/errors.ts';
import { MessageCrypto, WeChatMessageError } from '../wechat/message-crypto.ts';
import { ACKNOWLEDGE, encryptedReply } from '../wechat/passive-reply.ts';
import { openPush } from '../wechat/platform-push.ts';
import type { PlatformTokens } from './platform-tokens.ts';
import { PushAnswers, sendAnswer } from './push-answers.ts';

/** What follows from pushes beyond the ticket: authorizations kept, account events read. */
/** Who hears of an authorization given or withdrawn (official-account-tokens.ts keeps what it gives). */
export interface Authorizations {
  authorized(platformId: string, authorizationCode: string): Promise<unknown>;
  unauthorized(platformId: string, authorizer: string): Promise<void>;
}

/** Who answers an authorized Official Account's messages and events (follow-to-login's scans). */
export interface OfficialAccountEvents {
  /** The reply (unencrypted), or `success`. */
  platformEvent(platformId: string, appid: string, fields: Readonly<Record<string, string>>): Promise<string>;
}

export interface PlatformPushParts {
  readonly platforms: readonly PlatformApp[];
  readonly storage: { adapter(model: string): StorageAdapter };
  readonly tokens: PlatformTokens;
  readonly authorizations: Authorizations;
  readonly events: OfficialAccountEvents;
  readonly log: Logger;
}

export class PlatformPushes {
  readonly #platforms: ReadonlyMap<string, { app: PlatformApp; crypto: MessageCrypto }>;
  readonly #tokens: PlatformTokens;
  readonly #authorizations: Authorizations;
  readonly #events: OfficialAccountEvents;
  readonly #answers: PushAnswers;
  readonly #log: Logger;

  constructor({ platforms, storage, tokens, authorizations, events, log }: PlatformPushParts) {
    this.#platforms = new Map(platforms.map((app) => [app.id, { app, crypto: new MessageCrypto(app.token, app.aesKey) }]));
    this.#tokens = tokens;
    this.#authorizations = authorizations;
    this.#events = events;
    this.#answers = new PushAnswers(storage);
    this.#log = log;
  }

  /** Verifies one push; on any failure answers 400 and logs why, changing nothing. */
  async #open(ctx: Context): Promise<{ id: string; crypto: MessageCrypto; appid: string; fields: Record<string, string> } | undefined> {
    const id = String(ctx.params.id);
    const platform = this.#platforms.get(id);
    if (!platform) {
      ctx.status = 404;
      return undefined;
    }
    try {
      const { fields } = openPush(platform.crypto, platform.app.appid, ctx.query, await readBody(ctx));
      return { id, crypto: platform.crypto, appid: platform.app.appid, fields };
    } catch (error) {
      if (!(error instanceof WeChatMessageError)) throw error;
      this.#log.warn({ platform: id, ip: ctx.ip, reason: error.message }, 'WeChat push refused');
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = 'refused';
      return undefined;
    }
  }

  /** The push's answer (its first one for a repeat), encrypted for the platform when it has content. */
  async #answer(ctx: Context, push: { id: string; crypto: MessageCrypto; appid: string; fields: Record<string, string> }, receiver: string, handle: () => Promise<string>): Promise<void> {
    const { answer, repeat } = await this.#answers.answer(receiver, push.fields, async () => encryptedReply(push.crypto, push.appid, await handle()));
    if (repeat) this.#log.info({ platform: push.id, event: push.fields.InfoType ?? push.fields.Event ?? push.fields.MsgType }, 'WeChat repeated a push: its first answer again');
    sendAnswer(ctx, answer);
  }

  async authEvents(ctx: Context): Promise<void> {
    const push = await this.#open(ctx);
    if (!push) return;
    const { id, fields } = push;
    await this.#answer(ctx, push, `platform:${id}`, async () => {
      if (fields.InfoType === 'component_verify_ticket' && fields.ComponentVerifyTicket) {
        await this.#tokens.keepTicket(id, fields.ComponentVerifyTicket);
        this.#log.info({ platform: id }, 'component_verify_ticket received');
      } else {
        this.#log.info({ platform: id, event: fields.InfoType, authorizer: fields.AuthorizerAppid }, 'platform authorization event');
        await this.#authorization(id, fields);
      }
      return ACKNOWLEDGE;
    });
  }

  /** An account authorized (or updated, or withdrew) its authorization: the hooks keep what follows from it; a failure is logged, never WeChat's problem. */
  async #authorization(id: string, fields: Readonly<Record<string, string>>): Promise<void> {
    try {
      if ((fields.InfoType === 'authorized' || fields.InfoType === 'updateauthorized') && fields.AuthorizationCode) {
        await this.#authorizations.authorized(id, fields.AuthorizationCode);
      } else if (fields.InfoType === 'unauthorized' && fields.AuthorizerAppid) {
        await this.#authorizations.unauthorized(id, fields.AuthorizerAppid);
      }
    } catch (error) {
      if (!(error instanceof WeChatError)) throw error;
      this.#log.warn({ platform: id, wechat: { errcode: error.errcode, rid: error.requestId } }, 'could not keep the account\'s authorization');
    }
  }

  async events(ctx: Context): Promise<void> {
    const push = await this.#open(ctx);
    if (!push) return;
    const account = String(ctx.params.appid);
    this.#log.debug({ platform: push.id, account, type: push.fields.MsgType, event: push.fields.Event }, 'account message or event');
    await this.#answer(ctx, push, `platform:${push.id}:${account}`, () => this.#events.platformEvent(push.id, account, push.fields));
  }

  routes(): Router {
    const router = new Router();
    router.post('/wechat/platform/:id/auth-events', (ctx) => this.authEvents(ctx));
    router.post('/wechat/platform/:id/events/:appid', (ctx) => this.events(ctx));
    return router;
  }
}
