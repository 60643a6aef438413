// The request metrics' endpoint label (ops/metrics.ts): every path the broker answers gets
// its endpoint's name, matched as the routers match (any case, a trailing slash), and any
// other path the one name `other`, so that no path a person or a scanner sends adds a series.

import test from 'ava';
import { endpointOf } from '../../src/ops/metrics.ts';

test('each endpoint by its paths; anything else is other', (t) => {
  const table: Array<[string, string]> = [
    ['/me', 'userinfo'], ['/ME/', 'userinfo'], ['/token', 'token'], ['/token/introspection', 'introspection'], ['/token/revocation/', 'revocation'],
    ['/auth', 'authorization'], ['/auth/abc', 'authorization'], ['/interaction/abc/wechat', 'interaction'],
    ['/.well-known/openid-configuration', 'discovery'], ['/.well-known/oauth-authorization-server', 'discovery'], ['/jwks', 'jwks'], ['/session/end/confirm', 'end_session'],
    ['/device/auth', 'device_authorization'], ['/device', 'device'], ['/device/abc', 'device'], ['/request', 'par'],
    ['/h/abcdefghjk/confirm', 'handoff'], ['/f/link/wechat', 'follow_confirmation'], ['/account/delete', 'account'], ['/admin/accounts/x', 'admin'],
    ['/wechat/mp/mp/events', 'wechat_push'], ['/wechat/platform/p/auth-events', 'wechat_push'], ['/wecom/w/events', 'wechat_push'],
    ['/wechat/platform/p/authorize', 'platform_authorization'], ['/wechat/platform/p/authorized', 'platform_authorization'],
    ['/healthz', 'health'], ['/readyz', 'health'], ['/metrics', 'metrics'], ['/lang/en', 'language'], ['/demo/callback', 'demo'], ['/', 'home'],
    ['/no/such/page', 'other'], ['/mee', 'other'], ['/tokens', 'other'], ['/wp-login.php', 'other'], ['//', 'other'], ['/%00', 'other'],
  ];
  for (const [path, endpoint] of table) t.is(endpointOf(path), endpoint, path);
});
