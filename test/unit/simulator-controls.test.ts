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

test('/q/latest (the README\'s dev-mode "scan") shows the newest follow QR code, not "expired"', async (t) => {
  const app = simApp('mp');
  const sim = await startTestSimulator([app]);
  try {
    t.regex(await (await fetch(`${sim.url}/q/latest`)).text(), /二维码已过期/, 'before any code exists');
    const token = await (await fetch(`${sim.url}/cgi-bin/stable_token`, {
      method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: app.appid, secret: app.secret }),
    })).json() as { access_token: string };
    const created = await (await fetch(`${sim.url}/cgi-bin/qrcode/create?access_token=${token.access_token}`, {
      method: 'POST', body: JSON.stringify({ expire_seconds: 300, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'login-1' } } }),
    })).json() as { ticket: string };
    t.truthy(created.ticket);
    const page = await (await fetch(`${sim.url}/q/latest`)).text();
    t.regex(page, /扫码关注公众号/);
    t.true(page.includes(`action="/q/${created.ticket}"`));
  } finally {
    await sim.close();
  }
});

test('people made by id for load (person-1 … person-9999): each one a person of their own, the same each time; other ids still refused', async (t) => {
  const mp = simApp('mp');
  const simulator = await startTestSimulator([mp]);
  try {
    const openid = async (user: string) => {
      const issued = await fetch(`${simulator.url}/_sim/codes`, { method: 'POST', body: JSON.stringify({ appid: mp.appid, user, scope: 'snsapi_base' }) });
      const { code } = await issued.json() as { code: string };
      const token = await (await fetch(`${simulator.url}/sns/oauth2/access_token?appid=${mp.appid}&secret=${mp.secret}&code=${code}&grant_type=authorization_code`)).json() as { openid: string };
      return token.openid;
    };
    t.is(await openid('person-17'), await openid('person-17'));
    t.not(await openid('person-17'), await openid('person-18'));
    t.is((await fetch(`${simulator.url}/_sim/codes`, { method: 'POST', body: JSON.stringify({ appid: mp.appid, user: 'person-x', scope: 'snsapi_base' }) })).status, 400);
  } finally {
    await simulator.close();
  }
});
