// The company's APIs as CLIENTS_FILE declares them (oidc/api-resources.ts): what a wrong
// declaration is told, and the consent page's words for a scope in each language.

import test from 'ava';
import { apiMetadataProblem, apiResources, scopeText } from '../../src/oidc/api-resources.ts';

const ORDERS = 'https://api.example.com/orders';
const api = (extra: Record<string, unknown> = {}) => ({
  client_id: 'orders', resource_server: true, resource: ORDERS, resource_scopes: { 'orders:read': { 'zh-CN': '查看你的订单', en: 'See your orders' } }, ...extra,
});
const RESERVED = new Set(['openid', 'profile', 'accounts:read']);

test('an API with its indicator and scopes, and a client that lists it', (t) => {
  const apis = apiResources([api(), { client_id: 'shop', resources: [ORDERS] }], RESERVED);
  t.deepEqual([...apis.keys()], [ORDERS]);
  t.is(apis.get(ORDERS)?.clientId, 'orders');
});

test('each wrong declaration stops the start, naming the client and what is wrong', (t) => {
  const refused = (clients: Record<string, unknown>[]) => t.throws(() => apiResources(clients.map((client) => ({ client_id: 'x', ...client })), RESERVED))?.message ?? '';
  t.regex(refused([api({ resource_server: undefined })]), /client orders: an API needs resource_server: true, resource and resource_scopes together/);
  t.regex(refused([api({ resource_scopes: undefined })]), /an API needs/);
  t.regex(refused([api({ resource_scopes: { profile: 'x' } })]), /the scope profile is the broker's own/);
  t.regex(refused([api(), api({ client_id: 'again' })]), /client again: https:\/\/api\.example\.com\/orders is already another API's resource/);
  t.regex(refused([api(), api({ client_id: 'more', resource: 'https://api.example.com/more' })]), /client more: the scope orders:read is already another API's/);
  t.regex(refused([api(), { client_id: 'shop', resources: ['https://api.example.com/none'] }]), /client shop: https:\/\/api\.example\.com\/none in resources is no API's resource/);
});

test('the values themselves: an absolute URI without a fragment, scopes with texts, a list of indicators', (t) => {
  t.is(apiMetadataProblem('resource', ORDERS), undefined);
  t.regex(apiMetadataProblem('resource', 'orders') ?? '', /absolute http\(s\) URI without a fragment \(RFC 8707 2\)/);
  t.regex(apiMetadataProblem('resource', `${ORDERS}#x`) ?? '', /without a fragment/);
  t.is(apiMetadataProblem('resource_scopes', { 'orders:read': 'See your orders' }), undefined);
  t.regex(apiMetadataProblem('resource_scopes', { 'orders read': 'x' }) ?? '', /"orders read" must be a scope/);
  t.regex(apiMetadataProblem('resource_scopes', { 'orders:read': { fr: 'x' } }) ?? '', /"orders:read" must be a scope .* texts by language/);
  t.regex(apiMetadataProblem('resource_scopes', {}) ?? '', /must be an object of scopes/);
  t.regex(apiMetadataProblem('resources', 'x') ?? '', /resources must list APIs' resource indicators/);
});

test('a scope in the page\'s language; zh-TW from the zh-CN text; else the one text given', (t) => {
  const orders = apiResources([api({ resource_scopes: { 'orders:read': { 'zh-CN': '查看你的订单', en: 'See your orders' }, 'orders:write': 'Place orders' } })], RESERVED).get(ORDERS)!;
  t.is(scopeText(orders, 'orders:read', 'en'), 'See your orders');
  t.is(scopeText(orders, 'orders:read', 'zh-TW'), '檢視你的訂單', 'OpenCC, with Taiwan phrasing');
  t.is(scopeText(orders, 'orders:write', 'zh-CN'), 'Place orders');
});
