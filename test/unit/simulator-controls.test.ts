// The simulator's controls answer bad input with 400 and say what they expected.

import test from 'ava';
import { simApp, startTestSimulator } from '../helpers/simulator.ts';

test('bad JSON, unknown faults, users or apps: 400 with what was expected, never a 500', async (t) => {
  const app = simApp('mp');
  const sim = await startTestSimulator([app]);
  try {
    const post = (path: string, body: string) => fetch(`${sim.url}${path}`, { method: 'POST', body });
    for (const [path, body] of [
      ['/_sim/faults', '{'], ['/_sim/faults', '[]'], ['/_sim/faults', '{"path":"/x","faults":["explode"]}'],
      ['/_sim/codes', `{"appid":"${app.appid}","user":"nobody","scope":"snsapi_base"}`], ['/_sim/codes', '{"appid":"wxnone","user":"alice","scope":"snsapi_base"}'],
      ['/_sim/callback-hosts', '{"host":"a b"}'], ['/_sim/deliver-twice', '{"count":0}'],
    ]) {
      const response = await post(path!, body!);
      t.is(response.status, 400, `${path} ${body}`);
      t.truthy(((await response.json()) as { error?: string }).error);
    }
    t.is((await post('/_sim/codes', `{"appid":"${app.appid}","user":"alice","scope":"snsapi_base"}`)).status, 200);
  } finally {
    await sim.close();
  }
});
