// The app a session's login went through, from its acr, as the account's logins name it
// (a device's confirmation is kept with it on the person's list of logins).

import test from 'ava';
import { weComIdentity, type Account, type AccountId } from '../../src/accounts/account.ts';
import { acrForApp, acrForWeComApp, loginAppidOf } from '../../src/login/claims.ts';
import type { AppId, Openid } from '../../src/wechat/types.ts';
import type { CorpId } from '../../src/wechat/wecom.ts';

const account = (identities: Account['identities']): Account => ({ id: 'a' as AccountId, createdAt: 0, updatedAt: 0, identities, profile: {} });

test('a session\'s login app: the WeChat AppID of its acr; for WeCom, the account\'s identity in that company (member or guest); none when the acr names neither', (t) => {
  const wechat = { appid: 'wxaaaaaaaaaaaaaaaa' as AppId, openid: 'o-1' as Openid };
  t.is(loginAppidOf(acrForApp(wechat.appid), account([wechat])), wechat.appid);
  const member = weComIdentity('ww-corp', { userid: 'zhangsan' });
  const guest = weComIdentity('ww-other', { openid: 'o-guest' });
  const both = account([wechat, member, guest]);
  t.is(loginAppidOf(acrForWeComApp({ corpid: 'ww-corp' as CorpId, agentid: '1000002' }), both), member.appid);
  t.is(loginAppidOf(acrForWeComApp({ corpid: 'ww-other' as CorpId, agentid: '1000003' }), both), guest.appid);
  t.is(loginAppidOf(acrForWeComApp({ corpid: 'ww-unknown' as CorpId, agentid: '1' }), both), undefined, 'a company the account is not in');
  t.is(loginAppidOf(undefined, both), undefined);
  t.is(loginAppidOf('urn:other:acr', both), undefined);
});
