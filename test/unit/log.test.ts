// The logger hides what could be a secret and keeps what the operator needs.

import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';

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
