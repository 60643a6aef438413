// Reads a small request body (forms, JSON) with a size cap; larger bodies get 413.

import type { Context } from 'koa';

const LIMIT = 64 * 1024;

export async function readBody(ctx: Context, limit = LIMIT): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const FORM = Symbol('form');

/** The request's form, read once: the page-forms check and the route both ask for it. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const state = ctx.state as Record<symbol, URLSearchParams | undefined>;
  state[FORM] ??= new URLSearchParams(await readBody(ctx));
  return state[FORM];
}
