// Pushes are idempotent. WeChat repeats a push up to three times when it has no answer
// within 5 s, and shows the follower "该公众号提供的服务出现故障" when an answer is neither
// `success` nor a valid reply; so a repeat is never refused: it gets the answer the first
// one got, and changes nothing more. A push counts once it has been handled (its answer
// kept), so a first try that failed halfway is handled again when WeChat repeats it.
// Repeats are recognized by what WeChat documents ("Passive user reply message"): `MsgId`
// for messages, `FromUserName` + `CreateTime` + `Event` + `EventKey` for events; a
// platform's own pushes (tickets, authorizations) carry neither, and are recognized by
// their whole content.

import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { StorageAdapter } from '../storage/adapter.ts';
import { ACKNOWLEDGE } from '../wechat/passive-reply.ts';

export const ANSWER_MODEL = 'WeChatPushAnswer';
/** Longer than the ±10 minutes a push's timestamp may be off, so no repeat outlives its answer. */
const ANSWER_TTL_S = 20 * 60;

/** What identifies one push across WeChat's repeats. */
export function pushKey(fields: Readonly<Record<string, string>>): string {
  if (fields.MsgId) return `msg:${fields.MsgId}`;
  if (fields.Event) return `event:${fields.FromUserName ?? ''}:${fields.CreateTime ?? ''}:${fields.Event}:${fields.EventKey ?? ''}`;
  const sorted = Object.keys(fields).sort().map((name) => [name, fields[name]]);
  return `content:${createHash('sha256').update(JSON.stringify(sorted)).digest('base64url')}`;
}

export class PushAnswers {
  readonly #answers: StorageAdapter;

  constructor(storage: { adapter(model: string): StorageAdapter }) {
    this.#answers = storage.adapter(ANSWER_MODEL);
  }

  /** The answer (as sent on the wire) to the push `fields` received at `receiver`: the one a repeat of it got, else `handle`'s, kept once handled. */
  async answer(receiver: string, fields: Readonly<Record<string, string>>, handle: () => Promise<string>): Promise<{ answer: string; repeat: boolean }> {
    const key = createHash('sha256').update(`${receiver}\n${pushKey(fields)}`).digest('base64url');
    const before = await this.#answers.find(key);
    if (typeof before?.answer === 'string') return { answer: before.answer, repeat: true };
    const answer = await handle();
    await this.#answers.upsert(key, { answer }, ANSWER_TTL_S);
    return { answer, repeat: false };
  }
}

/** Sends a push's answer as WeChat takes it: `success` as text, a reply (encrypted as sent) as XML. */
export function sendAnswer(ctx: Context, answer: string): void {
  ctx.type = answer === ACKNOWLEDGE ? 'text/plain' : 'application/xml';
  ctx.body = answer;
}
