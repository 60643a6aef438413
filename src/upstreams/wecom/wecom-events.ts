// WeCom's pushes to a self-built app's 接收消息服务器 (its "receive messages" URL), for the
// one event logins need: a member's userid changed (通讯录变更 `update_user` with
// `NewUserID`; WeCom lets an admin change a generated userid once). The member's account
// then answers to the new userid and keeps its `sub`, instead of a new person appearing at
// their next login. Set the app's URL to `ISSUER/wecom/<app id>/events` with the Token and
// EncodingAESKey of the apps file's `token_env` and `aes_key_env`.
//
//   GET  /wecom/:id/events   WeCom's URL check: `echostr` is encrypted; answered decrypted
//   POST /wecom/:id/events   an encrypted event (WeChat's message crypto, the corpid at its end)
//
// Only a bad signature or bad crypto gets a 4xx; every verified push gets an empty 200,
// which is what WeCom waits for.

import Router from '@koa/router';
import type { Context } from 'koa';
import { weComIdentity } from '../../accounts/account.ts';
import type { AccountLinker } from '../../accounts/linking.ts';
import { readBody } from '../../http/read-body.ts';
import type { Logger } from '../../log.ts';
import type { ConfiguredWeComApp } from '../../wechat/apps.ts';
import { MessageCrypto, WeChatMessageError } from '../../wechat/message-crypto.ts';
import { openPush } from '../../wechat/platform-push.ts';
import { isWeComUserId } from '../../wechat/wecom.ts';

export interface WeComEventParts {
  readonly apps: readonly ConfiguredWeComApp[];
  readonly linker: AccountLinker;
  readonly log: Logger;
}

function refuse(ctx: Context, log: Logger, app: ConfiguredWeComApp, reason: string): void {
  log.warn({ app: app.id, ip: ctx.ip, reason }, 'WeCom push refused');
  ctx.status = 400;
  ctx.type = 'text/plain';
  ctx.body = 'refused';
}

/** The app of the path, when it receives pushes, and its crypto. */
function receiver(ctx: Context, parts: WeComEventParts): { app: ConfiguredWeComApp; crypto: MessageCrypto } | undefined {
  const app = parts.apps.find((candidate) => candidate.id === ctx.params.id);
  return app?.messageKeys ? { app, crypto: new MessageCrypto(app.messageKeys.token, app.messageKeys.aesKey) } : undefined;
}

/** GET: the URL check. WeCom signs and encrypts `echostr`; the plaintext is the answer. */
function verifyUrl(ctx: Context, parts: WeComEventParts): void {
  const found = receiver(ctx, parts);
  if (!found) return void (ctx.status = 404);
  const { echostr, msg_signature: signature, timestamp, nonce } = ctx.query;
  if (![echostr, signature, timestamp, nonce].every((value) => typeof value === 'string' && value.length <= 1024)
    || !found.crypto.verify(String(signature), String(timestamp), String(nonce), String(echostr))) {
    return refuse(ctx, parts.log, found.app, 'bad msg_signature');
  }
  try {
    const { message, appid } = found.crypto.decrypt(String(echostr));
    if (appid !== found.app.corpid) return refuse(ctx, parts.log, found.app, 'echostr for another corpid');
    ctx.type = 'text/plain';
    ctx.body = message;
  } catch (error) {
    if (!(error instanceof WeChatMessageError)) throw error;
    refuse(ctx, parts.log, found.app, error.message);
  }
}

/** POST: one event; a userid change moves the member's identity. */
async function receive(ctx: Context, parts: WeComEventParts): Promise<void> {
  const found = receiver(ctx, parts);
  if (!found) return void (ctx.status = 404);
  let fields: Record<string, string>;
  try {
    fields = openPush(found.crypto, found.app.corpid, ctx.query, await readBody(ctx)).fields;
  } catch (error) {
    if (!(error instanceof WeChatMessageError)) throw error;
    return refuse(ctx, parts.log, found.app, error.message);
  }
  if (fields.Event === 'change_contact' && fields.ChangeType === 'update_user' && fields.NewUserID) await renamed(parts, found.app, fields);
  ctx.status = 200;
  ctx.body = '';
}

async function renamed(parts: WeComEventParts, app: ConfiguredWeComApp, fields: Record<string, string>): Promise<void> {
  const { UserID: from, NewUserID: to } = fields;
  if (!isWeComUserId(from) || !isWeComUserId(to)) return void parts.log.warn({ app: app.id }, 'WeCom userid change with a malformed userid: ignored');
  const outcome = await parts.linker.rename(weComIdentity(app.corpid, { userid: from }), weComIdentity(app.corpid, { userid: to }));
  if (outcome === 'taken') {
    parts.log.warn({ app: app.id, corpid: app.corpid, userid: to }, 'WeCom renamed a member to a userid that already has an account (a login under it came first): both accounts kept; if they are one person, erase the newer one (admin API)');
  } else if (outcome !== 'none') {
    parts.log.info({ app: app.id, account: outcome.id }, 'WeCom member renamed: the account answers to the new userid');
  }
}

export function wecomEventRoutes(parts: WeComEventParts): Router {
  const router = new Router();
  router.get('/wecom/:id/events', (ctx) => verifyUrl(ctx, parts));
  router.post('/wecom/:id/events', (ctx) => receive(ctx, parts));
  return router;
}
