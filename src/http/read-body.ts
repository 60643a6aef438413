// Reads a small request body (forms, JSON) with a size cap; larger bodies get 413.

import type { Context } from 'koa';

const LIMIT = 64 * 1024;

/**
 * The body as text, at most `limit` bytes; a larger one is a 413 (thrown, for the error
 * page). It is read by listening, not by iterating the request: leaving an async
 * iteration early destroys the request and with it the socket, and the 413 could then
 * never be sent.
 */
export async function readBody(ctx: Context, limit = LIMIT): Promise<string> {
  if (Number(ctx.get('content-length')) > limit) tooLarge(ctx);
  const req = ctx.req;
  // Closed before the route came to read it: its stream will say nothing more.
  if (req.destroyed && !req.readableEnded) gone(ctx);
  const body = await new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | undefined) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      done(undefined);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onError = (error: Error) => { req.off('data', onData).off('end', onEnd); reject(error); };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  }).catch(() => gone(ctx));
  if (!body) tooLarge(ctx);
  return body.toString('utf8');
}

/**
 * The request's stream failed before its body was read: the client closed the connection
 * (a tab closed, a network gone). Its mistake, not the broker's: a 400 (which nobody will
 * read) and the request line, not an error in the log.
 */
function gone(ctx: Context): never {
  return ctx.throw(400, 'the client closed the connection before its request body arrived');
}

/** A 413; the rest of the body is never read, so the connection closes after the answer. */
function tooLarge(ctx: Context): never {
  ctx.set('connection', 'close');
  return ctx.throw(413, 'request body too large');
}

const FORM = Symbol('form');

/** The request's form, read once: the page-forms check and the route both ask for it. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const state = ctx.state as Record<symbol, URLSearchParams | undefined>;
  state[FORM] ??= new URLSearchParams(await readBody(ctx));
  return state[FORM];
}
