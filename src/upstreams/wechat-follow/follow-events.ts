// An Official Account's developer-mode server address (服务器地址) for follow-to-login:
//   GET  /wechat/mp/:id/events   WeChat's URL check (signature over token, timestamp, nonce) → echostr
//   POST /wechat/mp/:id/events   messages and events, in safe mode (encrypted) only
// A `subscribe` with EventKey `qrscene_<scene>` (a new follower) or a `SCAN` with EventKey
// `<scene>` (a follower already) records the scan of that scene, and the scanner is
// answered with a text message: which app asks, on which browser, and the link where they
// confirm (login/follow-confirm.ts); nobody is logged in by the scan alone. The account keeps
// its other business: with `forward_url`, every verified push is passed on as WeChat sent
// it to the company's own server (which checks it with the same token and key), and for
// anything but a login scan that server's answer is WeChat's (within WeChat's 5 s, else
// `success`); without it, `success`. A repeated push gets its first answer
// (platforms/push-answers.ts); anything unverified gets 400, a log line, and changes nothing.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { MessageKeys } from '../../wechat/apps.ts';
import type { ConfiguredApp } from '../../wechat/apps.ts';
import { forward, type Received } from '../../http/forward.ts';
import { readBody } from '../../http/read-body.ts';
import type { Logger } from '../../log.ts';
import { browserOnPage, isLang, t, type Lang } from '../../pages/i18n.ts';
import type { StorageAdapter } from '../../storage/adapter.ts';
import { MessageCrypto, WeChatMessageError } from '../../wechat/message-crypto.ts';
import { ACKNOWLEDGE, encryptedReply, textReply } from '../../wechat/passive-reply.ts';
import { openPush, verifyPlain, type VerifiedPush } from '../../wechat/platform-push.ts';
import type { FollowScenes, Scan } from './follow-scenes.ts';
import { PushAnswers, sendAnswer } from '../../platforms/push-answers.ts';


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
  /** The broker's public URL: the confirmation links are under it. */
  readonly issuer: string;
  /** The name of the app (relying party) the interaction `uid` logs in to, in `lang`. */
  appName(uid: string, lang: Lang): Promise<string | undefined>;
}

/** WeChat waits 5 s for an answer; the company's server gets what is left after the broker's own work. */
const FORWARD_DEADLINE_MS = 4000;

const plain = (text: string): string => text.replace(/[<>"]/g, '');
const messageCrypto = (keys: MessageKeys): MessageCrypto => new MessageCrypto(keys.token, keys.aesKey);

export class FollowEvents {
  readonly #parts: FollowEventParts;
  readonly #answers: PushAnswers;

  constructor(parts: FollowEventParts) {
    this.#parts = parts;
    this.#answers = new PushAnswers(parts.storage);
  }

  #app(ctx: Context): ConfiguredApp | undefined {
    return this.#parts.apps.find((app) => app.id === ctx.params.id && app.followLogin && app.messageKeys);
  }

  /** The verified push and the request as WeChat sent it, or undefined after answering 400 (and logging why). */
  async #open(ctx: Context, app: ConfiguredApp, crypto: MessageCrypto): Promise<(VerifiedPush & { received: Received }) | undefined> {
    try {
      const body = await readBody(ctx);
      return { ...openPush(crypto, app.appid, ctx.query, body), received: { method: 'POST', query: ctx.querystring, body, contentType: ctx.get('content-type') } };
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

  /** POST: a message or event; a login scan is recorded and answered with the confirmation link; every other verified push gets the company's answer (forward_url) or `success`. */
  async receive(ctx: Context): Promise<void> {
    const app = this.#app(ctx);
    if (!app?.messageKeys) return void (ctx.status = 404);
    const crypto = messageCrypto(app.messageKeys);
    const push = await this.#open(ctx, app, crypto);
    if (!push) return;
    const { answer, repeat } = await this.#answers.answer(`mp:${app.id}`, push.fields, () => this.#handle(app, crypto, push.fields, push.received));
    if (repeat) this.#parts.log.info({ app: app.id, event: push.fields.Event ?? push.fields.MsgType }, 'WeChat repeated a push: its first answer again');
    sendAnswer(ctx, answer);
  }

  /**
   * The answer WeChat gets, as sent: the broker's own for a login scan (the push is still
   * passed on to the company's server, which learns of its new follower); for anything
   * else the company server's answer when it comes in time, else `success`.
   */
  async #handle(app: ConfiguredApp, crypto: MessageCrypto, fields: Readonly<Record<string, string>>, received: Received): Promise<string> {
    const forwarding = app.forwardUrl ? forward(app.forwardUrl, received, FORWARD_DEADLINE_MS) : undefined;
    const reply = await this.record(app, fields);
    if (reply !== undefined) return encryptedReply(crypto, app.appid, reply);
    if (!forwarding) return ACKNOWLEDGE;
    const forwarded = await forwarding;
    if (forwarded?.status === 200 && forwarded.body !== '') return forwarded.body;
    if (forwarded?.status !== 200) this.#parts.log.warn({ app: app.id, status: forwarded?.status ?? 'no answer in time' }, 'forward_url did not answer a push: WeChat gets success');
    return ACKNOWLEDGE;
  }

  /**
   * A verified message or event of a follow-to-login account (here, or through its
   * platform): a scan of one of the broker's scenes is recorded, and the answer
   * (unencrypted) is the text message that asks the scanner to confirm, or `success`;
   * undefined for anything that is not such a scan (the account's other business).
   */
  /** A platform's push for one of its accounts: a scan recorded for a follow-to-login account reached through it, else `success`. */
  async platformEvent(platformId: string, appid: string, fields: Readonly<Record<string, string>>): Promise<string> {
    const app = this.#parts.apps.find((candidate) => candidate.appid === appid && candidate.via === platformId);
    return (app && await this.record(app, fields)) ?? ACKNOWLEDGE;
  }

  async record(app: ConfiguredApp, fields: Readonly<Record<string, string>>): Promise<string | undefined> {
    const scene = sceneOf(fields);
    const openid = fields.FromUserName;
    if (!app.followLogin || scene === undefined || !openid) return undefined;
    const scanned = await this.#parts.scenes.scanned(scene, app.id, openid);
    this.#parts.log.info({ app: app.id, event: fields.Event, outcome: scanned.outcome }, 'follow-to-login scan');
    if (scanned.outcome === 'unknown') return undefined;
    return 'scan' in scanned ? textReply(fields, await this.#askToConfirm(scanned.scan)) : ACKNOWLEDGE;
  }

  /** The text the scanner gets in WeChat: who asks, on which browser, and the link to confirm (WeChat shows `<a>` as a link). */
  async #askToConfirm(scan: Scan): Promise<string> {
    const lang = isLang(scan.lang) ? scan.lang : 'zh-CN';
    const app = await this.#parts.appName(scan.uid, lang) ?? t(lang, 'followConfirmSomeApp');
    const link = `${this.#parts.issuer}/f/${scan.link}`;
    // WeChat reads `<a>` in a text message: no name may open or close one.
    return t(lang, 'followConfirmMessage', { app: plain(app), browser: plain(browserOnPage(lang, scan.browser)), link });
  }

  routes(): Router {
    const router = new Router();
    router.get('/wechat/mp/:id/events', (ctx) => this.verify(ctx));
    router.post('/wechat/mp/:id/events', (ctx) => this.receive(ctx));
    return router;
  }
}
