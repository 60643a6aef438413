// The logger hides what could be a secret and keeps what the operator needs.

import test from 'ava';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger, TurnBatch, withRequest } from '../../src/log.ts';
import { track } from '../helpers/process.ts';

function capture() {
  let text = '';
  const sink = new Writable({ write(chunk, _encoding, done) { text += String(chunk); done(); } });
  return { log: createLogger('info', sink), lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('a code, a secret or a token is redacted; an error\'s own code is kept', (t) => {
  const { log, lines } = capture();
  const error = Object.assign(new Error('storage is down'), { code: 'STORAGE_UNAVAILABLE' });
  log.info({ code: 'wechat-code', query: { code: 'x' }, secret: 's', wechat: { access_token: 't' }, err: error }, 'line');
  const [line] = lines();
  t.is(line!.code, '[redacted]');
  t.deepEqual(line!.query, { code: '[redacted]' });
  t.is(line!.secret, '[redacted]');
  t.deepEqual(line!.wechat, { access_token: '[redacted]' });
  t.is((line!.err as { code?: string }).code, 'STORAGE_UNAVAILABLE');
});

test('stdout: the lines of one turn of the event loop are one write, in order, when the turn ends', async (t) => {
  const writes: string[] = [];
  const batch = new TurnBatch({ write: (text: string) => writes.push(text) });
  batch.write('{"a":1}\n');
  batch.write('{"b":2}\n');
  batch.write('{"c":3}\n');
  t.deepEqual(writes, [], 'nothing written within the turn');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(writes, ['{"a":1}\n{"b":2}\n{"c":3}\n']);
  batch.write('{"d":4}\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(writes.slice(1), ['{"d":4}\n'], 'the next turn\'s line, on its own');
});

test('stdout: a line logged just before the process exits, or crashes, is written', async (t) => {
  const logger = new URL('../../src/log.ts', import.meta.url).href;
  const run = (ending: string) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e',
      `const { createLogger } = await import(${JSON.stringify(logger)}); const log = createLogger('info'); log.info('first'); log.warn('last'); ${ending}`,
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    track(child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += String(chunk); });
    child.once('error', reject);
    child.once('close', () => resolve(out));
  });
  for (const ending of ['process.exit(0);', 'throw new Error("crash");']) {
    const messages = (await run(ending)).split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);
    t.deepEqual(messages, ['first', 'last'], ending);
  }
});

test('lines logged while a request runs carry its id, across awaits, and two requests at once never mix; lines outside one carry none', async (t) => {
  const { log, lines } = capture();
  const request = async (id: string, pause: number) => withRequest({ reqId: id }, async () => {
    log.info('started');
    await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < pause; turn += 1) await Promise.resolve();
    log.warn({ wechat: { errcode: 40125 } }, 'WeChat refused');
  });
  await Promise.all([request('first', 3), request('second', 0)]);
  log.info('outside');
  const byMessage = lines().map((line) => [line.msg, line.reqId]);
  t.deepEqual(byMessage.filter(([, id]) => id === 'first').map(([msg]) => msg), ['started', 'WeChat refused']);
  t.deepEqual(byMessage.filter(([, id]) => id === 'second').map(([msg]) => msg), ['started', 'WeChat refused']);
  t.false('reqId' in lines().find((line) => line.msg === 'outside')!);
});
