// The WeChat simulator as a Koa app on its own port: the broker reaches it only over HTTP,
// like real WeChat. Three faces: the pages a person sees (connect-pages.ts, and
// platform-pages.ts for an account's administrator), the APIs the
// broker calls (sns-api.ts, component-api.ts, account-api.ts, phone-numbers.ts, wecom-api.ts for WeCom), and the controls tests use
// (controls.ts, estate-controls.ts).

import Koa from 'koa';
import { accountApi } from './account-api.ts';
import { componentApi } from './component-api.ts';
import { connectPages } from './connect-pages.ts';
import { controls } from './controls.ts';
import { estateControls } from './estate-controls.ts';
import { phoneNumbers } from './phone-numbers.ts';
import { platformPages } from './platform-pages.ts';
import { snsApi } from './sns-api.ts';
import { wecomApi } from './wecom-api.ts';
import { wecomControls } from './wecom-controls.ts';
import { wecomPages } from './wecom-pages.ts';
import type { SimWorld } from './world.ts';

export function createSimulatorApp(world: SimWorld): Koa {
  const app = new Koa();
  for (const router of [connectPages(world), platformPages(world), snsApi(world), componentApi(world), accountApi(world), phoneNumbers(world), wecomApi(world), wecomPages(world), controls(world), estateControls(world), wecomControls(world)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
