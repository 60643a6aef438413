// The admin API's OpenAPI document (GET /admin/openapi.json): a valid OpenAPI 3.1 document
// (checked against the specification's own schema), which describes exactly the routes the
// admin router serves, each with its scope. That every answer matches its schema is
// test/e2e/admin-openapi.test.ts's.

import test from 'ava';
import { Validator } from '@seriousme/openapi-schema-validator';
import { adminOpenApi } from '../../src/admin/openapi.ts';
import { adminRoutes, type AdminParts } from '../../src/admin/routes.ts';

const ISSUER = 'https://login.example.com';
const document = adminOpenApi(ISSUER) as {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; security: Array<{ oauth2: string[] }>; responses: Record<string, unknown> }>>;
  components: { securitySchemes: { oauth2: { flows: { clientCredentials: { tokenUrl: string } } } } };
};

test('a valid OpenAPI 3.1 document, by the specification\'s schema', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  t.true(result.valid, JSON.stringify(result.errors, null, 2));
  t.is(validator.version, '3.1');
  t.is(document.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl, `${ISSUER}/token`);
});

test('it describes exactly the routes the admin router serves, each operation with an operationId of its own and one of the admin scopes', (t) => {
  // Only the issuer is read when the routes are made; everything else is read per request.
  const router = adminRoutes({ provider: { issuer: ISSUER } } as unknown as AdminParts);
  const served = router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD')
    .map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`))
    .filter((route) => route !== 'GET /admin/openapi.json').sort();
  const described = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)).sort();
  t.deepEqual(described, served);
  const ids = Object.values(document.paths).flatMap((operations) => Object.values(operations).map((operation) => operation.operationId));
  t.is(new Set(ids).size, described.length, 'each operation has an operationId of its own, for a client generator to name it by');
  t.true(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id)));
  for (const operations of Object.values(document.paths)) {
    for (const { security, responses } of Object.values(operations)) {
      t.is(security.length, 1);
      t.true(['accounts:read', 'accounts:write', 'diagnostics:read'].includes(security[0]!.oauth2[0]!));
      t.truthy(responses['401']);
      t.truthy(responses['403']);
    }
  }
});
