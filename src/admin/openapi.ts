// The admin API described for tools (OpenAPI 3.1, served at GET /admin/openapi.json):
// every route of routes.ts with its scope, parameters, body and answers. The answers'
// schemas are the views' own (privacy/view-schemas.ts, diagnostics/findings.ts), turned
// into JSON Schema by zod, so the document says what the code answers; a test holds the
// routes and the document to each other, and the answers to their schemas.

import type { Middleware } from 'koa';
import { z } from 'zod';
import { REASON_MAX } from '../accounts/account.ts';
import { DIAGNOSTICS_VIEW } from '../diagnostics/findings.ts';
import { LOOKUP_NAMES } from '../privacy/account-view.ts';
import { ACCESSES_VIEW, ACCOUNT_VIEW, EXPORT_VIEW, LOGINS_VIEW, SIGNED_OUT_VIEW, SUSPENDED_LIST_VIEW, SUSPENSION_VIEW } from '../privacy/view-schemas.ts';
import { ACCOUNTS_READ, ACCOUNTS_WRITE, DIAGNOSTICS_READ, type AdminScope } from './auth.ts';

const ERROR = z.strictObject({
  error: z.string().describe('an OAuth-style error code: `invalid_request`, `not_found`'),
  error_description: z.string().optional().describe('what was wrong, in English'),
}).describe('A refused call.');

const TOKEN_REFUSAL = z.strictObject({
  error: z.enum(['invalid_token', 'invalid_dpop_proof', 'insufficient_scope']).optional().describe('absent when no token was sent (RFC 6750 3.1)'),
  error_description: z.string().optional(),
}).describe('A token refused (RFC 6750 3, RFC 9449 7.1); the WWW-Authenticate header says the same.');

const SUSPENSION_REQUEST = z.object({
  reason: z.string().min(1).max(REASON_MAX).describe(`why, on one line (no control characters), at most ${REASON_MAX} characters; trimmed`),
  until: z.iso.datetime({ offset: true }).optional().describe('when it ends by itself: a date-time to come, with its offset (`2027-01-31T00:00:00+08:00`); absent: until reinstated'),
}).describe('A suspension (a JSON body; other members are passed over).');

const components = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
  Account: ACCOUNT_VIEW, Suspension: SUSPENSION_VIEW, Export: EXPORT_VIEW, Accesses: ACCESSES_VIEW, Logins: LOGINS_VIEW, SignedOut: SIGNED_OUT_VIEW, SuspendedList: SUSPENDED_LIST_VIEW,
  Diagnostics: DIAGNOSTICS_VIEW, Error: ERROR, TokenRefusal: TOKEN_REFUSAL, SuspensionRequest: SUSPENSION_REQUEST,
})) components.add(schema, { id });

type Component = 'Account' | 'Export' | 'Accesses' | 'Logins' | 'SignedOut' | 'SuspendedList' | 'Diagnostics' | 'Error';

/** The components, each without the `$schema` and `$id` zod gives a document of its own. */
function schemas(): Record<string, unknown> {
  const all = z.toJSONSchema(components, { uri: (id) => `#/components/schemas/${id}` }).schemas;
  return Object.fromEntries(Object.entries(all).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]));
}

const json = (component: Component | 'TokenRefusal', description: string) => ({
  description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${component}` } } },
});
const CHALLENGE = { 'WWW-Authenticate': { description: 'the challenge (RFC 6750 3, RFC 9449 7.1)', schema: { type: 'string' } } };
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const SUB = path('sub', 'the account\'s `sub` (a merged-away one finds the survivor)');

interface Operation {
  /** What a client generator names the call by. */
  readonly id: string;
  readonly summary: string;
  readonly scope: AdminScope;
  readonly ok: Component | 204;
  readonly parameters?: readonly object[];
  readonly body?: 'SuspensionRequest';
  /** Refusals besides 401, 403 and 404: status and when. */
  readonly refused?: Readonly<Record<number, string>>;
  /** Headers of the answer besides the usual. */
  readonly headers?: Readonly<Record<string, object>>;
}

/** An operation as OpenAPI writes it: its scope, and the answers every admin call can give. */
function operation(op: Operation) {
  const { id, summary, scope, ok, parameters = [], body, refused = {}, headers } = op;
  return {
    operationId: id, summary, parameters, security: [{ oauth2: [scope] }],
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${body}` } } } } } : {}),
    responses: {
      ...(ok === 204 ? { 204: { description: 'done' } } : { 200: { ...json(ok, 'the answer'), ...(headers ? { headers } : {}) } }),
      ...Object.fromEntries(Object.entries(refused).map(([status, when]) => [status, json('Error', when)])),
      401: { ...json('TokenRefusal', 'no token, or one that is expired, not a client\'s own, or bound to a key without its proof'), headers: CHALLENGE },
      403: { ...json('TokenRefusal', `the token or the client lacks \`${scope}\``), headers: CHALLENGE },
      // A call about someone (by path or lookup) can find no one; the lists cannot.
      ...(parameters.length > 0 ? { 404: json('Error', 'no such account (or session, grant, identity)') } : {}),
    },
  };
}

const LOOKUP = LOOKUP_NAMES
  .map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }));

const PATHS = {
  '/admin/accounts': {
    get: operation({
      id: 'findAccount', summary: 'Find an account by one key: sub; unionid; appid and openid; wecom_corpid and wecom_userid (a member) or wecom_openid (a non-member); phone; or a pairwise client and the sub it knows',
      scope: ACCOUNTS_READ, ok: 'Account', parameters: LOOKUP, refused: { 400: 'not one of the lookups, or a value that cannot be one' },
    }),
  },
  '/admin/accounts/{sub}': {
    get: operation({ id: 'getAccount', summary: 'The account', scope: ACCOUNTS_READ, ok: 'Account', parameters: [SUB] }),
    delete: operation({ id: 'eraseAccount', summary: 'Erase the account (PIPL article 47): its sessions, grants and tokens end, relying parties are told', scope: ACCOUNTS_WRITE, ok: 204, parameters: [SUB] }),
  },
  '/admin/accounts/{sub}/export': {
    get: operation({
      id: 'exportAccount', summary: 'Everything held about the person, as a download (PIPL article 45)', scope: ACCOUNTS_READ, ok: 'Export', parameters: [SUB],
      headers: { 'Content-Disposition': { description: '`attachment; filename="account-<sub>.json"`', schema: { type: 'string' } } },
    }),
  },
  '/admin/accounts/{sub}/accesses': {
    get: operation({
      id: 'listAccesses', summary: 'The operators\' audited calls about the person, newest first, with which client or operator made each (PIPL article 44 review)',
      scope: ACCOUNTS_READ, ok: 'Accesses', parameters: [SUB],
    }),
  },
  '/admin/accounts/{sub}/logins': {
    get: operation({
      id: 'listLogins', summary: 'The person\'s recent logins, newest first: when, through which app, for which client, on which device, and any they said were not theirs',
      scope: ACCOUNTS_READ, ok: 'Logins', parameters: [SUB],
    }),
  },
  '/admin/accounts/{sub}/identities/{appid}': {
    delete: operation({
      id: 'unlinkIdentity', summary: 'Unlink the account\'s identity in a WeChat app: it logs in as a new account', scope: ACCOUNTS_WRITE, ok: 'Account',
      parameters: [SUB, path('appid', 'the identity\'s AppID')], refused: { 409: 'the account\'s only identity: erase the account instead' },
    }),
  },
  '/admin/accounts/{sub}/logout': {
    post: operation({ id: 'signOutEverywhere', summary: 'Sign the person out everywhere: every session and grant ends, relying parties are told', scope: ACCOUNTS_WRITE, ok: 'SignedOut', parameters: [SUB] }),
  },
  '/admin/accounts/{sub}/sessions/{uid}': {
    delete: operation({ id: 'signOutSession', summary: 'Sign the person out of one browser or device', scope: ACCOUNTS_WRITE, ok: 204, parameters: [SUB, path('uid', 'the session\'s `uid` in the export')] }),
  },
  '/admin/accounts/{sub}/grants/{client}': {
    delete: operation({ id: 'revokeGrant', summary: 'Take one relying party\'s access away (it is told)', scope: ACCOUNTS_WRITE, ok: 204, parameters: [SUB, path('client', 'its client_id')] }),
  },
  '/admin/accounts/{sub}/suspension': {
    put: operation({
      id: 'suspendAccount', summary: 'Suspend the person: signed out everywhere, no login or token until reinstated or until the suspension ends; a suspension already there is replaced (its reason and end)',
      scope: ACCOUNTS_WRITE, ok: 'Account', parameters: [SUB], body: 'SuspensionRequest', refused: { 400: 'no JSON body with a reason it can keep, or an end that is no date-time to come' },
    }),
    delete: operation({ id: 'reinstateAccount', summary: 'Reinstate the person', scope: ACCOUNTS_WRITE, ok: 'Account', parameters: [SUB] }),
  },
  '/admin/suspensions': {
    get: operation({ id: 'listSuspensions', summary: 'Every suspended account, the latest first (at most 500)', scope: ACCOUNTS_READ, ok: 'SuspendedList' }),
  },
  '/admin/diagnostics': {
    get: operation({ id: 'getDiagnostics', summary: 'What `npm run doctor` finds, run on the broker\'s own clients and storage', scope: DIAGNOSTICS_READ, ok: 'Diagnostics' }),
  },
};

/**
 * GET /admin/openapi.json: the document, made at its first request and kept (zod's schemas
 * take some 10 ms to turn into JSON Schema: not for every start and reload, for a page few read).
 */
export function openApiDocument(issuer: string): Middleware {
  let bytes: string | undefined;
  return (ctx) => {
    ctx.type = 'application/json';
    ctx.body = bytes ??= JSON.stringify(adminOpenApi(issuer));
  };
}

/** The admin API's OpenAPI document for the broker at `issuer`. */
export function adminOpenApi(issuer: string): object {
  return {
    openapi: '3.1.1',
    info: {
      title: 'WeChat OIDC broker: admin API', version: '1',
      description: 'Account administration for an operator\'s tools. Call with an access token of your own client, from the '
        + 'client_credentials grant, with the scopes registered for the client in CLIENTS_FILE. A token bound to the client\'s key '
        + '(DPoP, RFC 9449) is sent as `Authorization: DPoP …` with a fresh proof each call. Every call is audited.',
    },
    servers: [{ url: issuer }],
    paths: PATHS,
    components: {
      schemas: schemas(),
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${issuer}/token`,
              scopes: { [ACCOUNTS_READ]: 'look people up, export', [ACCOUNTS_WRITE]: 'erase, unlink, sign out, suspend, reinstate', [DIAGNOSTICS_READ]: 'the doctor\'s findings' },
            },
          },
        },
      },
    },
  };
}
