// What the admin API and the accounts CLI answer about a person, as schemas: the types of
// account-view.ts's views (so the code cannot answer other than they say) and the
// components of the admin API's OpenAPI document (admin/openapi.ts), which tools read.

import { z } from 'zod';

/** A moment, as every view writes one: RFC 3339 in UTC (`Date.prototype.toISOString`). */
const moment = (description: string) => z.iso.datetime().describe(description);

export const SUSPENSION_VIEW = z.strictObject({
  at: moment('when the account was suspended'),
  by: z.string().describe('who suspended it: `admin:<client_id>`, `console:<sub>` or `cli`'),
  reason: z.string().describe('why, as the operator wrote it (one line, at most 500 characters)'),
  until: moment('when it ends by itself').nullable().describe('when it ends by itself; null: until an operator reinstates the account'),
}).describe('An operator\'s suspension that holds: no login and no token until it is lifted or ends.');

const CONTACT_VIEW = z.strictObject({
  value: z.string().describe('E.164 for a phone number (`+8613912345678`), the address for an email'),
  verified: z.boolean().describe('whether its source verified it is the person\'s'),
  source: z.string().describe('where it came from: `wecom:<corpid>`, `wechat-phone:<appid>`'),
  at: moment('when it was given'),
}).nullable();

const IDENTITY_VIEW = z.strictObject({
  app: z.string().nullable().describe('the id of the app in WECHAT_APPS_FILE it belongs to; null when none is configured now'),
  appid: z.string().describe('WeChat\'s AppID; a WeCom member\'s is `wecom:<corpid>`, a WeCom guest\'s `wecom-guest:<corpid>`'),
  openid: z.string().describe('the person\'s openid in that app; a WeCom member\'s userid'),
});

const LOGIN_VIEW = z.strictObject({
  at: moment('when'),
  app: z.string().nullable().describe('the id of the app in WECHAT_APPS_FILE it went through; null when none is configured now'),
  appid: z.string().describe('WeChat\'s AppID (a WeCom member\'s `wecom:<corpid>`)'),
  client: z.string().nullable().describe('the relying party it was for'),
});

const RECENT_LOGIN_VIEW = LOGIN_VIEW.extend({
  device: z.string().nullable().describe('the browser or device it completed in, in a few fixed words ("Chrome · Windows", "WeChat · iOS"); null for a mini program\'s own login'),
  device_flow: z.boolean().describe('a device\'s login (RFC 8628: a TV, a kiosk, a command line) that the person confirmed with its code; `device` is where they confirmed it, the device itself got the tokens'),
  disowned_at: moment('when the person said it was not theirs (their page\'s "not me")').nullable(),
});

export const ACCOUNT_VIEW = z.strictObject({
  sub: z.string().describe('the account\'s `sub`: the broker\'s own stable id, never an openid'),
  unionid: z.string().nullable().describe('WeChat\'s unionid, when WeChat has given one'),
  identities: z.array(IDENTITY_VIEW.extend({
    wecom_corpid: z.string().optional().describe('a WeCom member\'s or non-member\'s company'),
    wecom_userid: z.string().optional().describe('a WeCom member\'s userid'),
    wecom_openid: z.string().optional().describe('a WeCom non-member\'s openid in that company'),
  })).describe('every WeChat (and WeCom) identity the account holds'),
  profile: z.strictObject({ nickname: z.string().nullable(), picture: z.string().nullable() }),
  contacts: z.strictObject({ phone: CONTACT_VIEW, email: CONTACT_VIEW }).describe('contact details, with where and when they were given'),
  created_at: moment('when the account was made'),
  updated_at: moment('when the account last changed'),
  last_login: LOGIN_VIEW.nullable(),
  merged_from: z.array(z.string()).describe('the `sub`s merged into this account (they answer with it)'),
  unlinked_identities: z.array(IDENTITY_VIEW).describe('identities an operator unlinked: the unionid never links them back'),
  suspended: SUSPENSION_VIEW.nullable(),
}).describe('A person\'s account. A merged-away `sub` answers with the surviving account.');

const SESSION_VIEW = z.strictObject({
  uid: z.string().nullable().describe('what ends this one session (DELETE …/sessions/{uid}); an app\'s own login by token exchange has none'),
  sub: z.string(),
  logged_in_at: moment('when the browser or device logged in').nullable(),
  expires_at: moment('when the session ends by itself').nullable(),
  clients: z.array(z.string()).describe('the relying parties logged in through it'),
  device: z.string().nullable().describe('the browser or device, as the person\'s page names it'),
  last_used_at: moment('when it last logged in to an app').nullable(),
});

const GRANT_VIEW = z.strictObject({
  sub: z.string(),
  client: z.string(),
  scope: z.string(),
  apis: z.record(z.string(), z.string()).describe('the scopes granted of each of the company\'s APIs, by resource indicator'),
  granted_at: moment('when').nullable(),
  expires_at: moment('when it ends by itself').nullable(),
});

export const HELD_VIEW = z.strictObject({ sessions: z.array(SESSION_VIEW), grants: z.array(GRANT_VIEW) });

const ACCESS_VIEW = z.strictObject({
  at: moment('when'),
  action: z.string().describe('what: show, find, export, logout, suspend, …'),
  by: z.enum(['admin', 'console', 'cli']).describe('through what'),
});

export const EXPORT_VIEW = z.strictObject({
  exported_at: moment('when this document was made'),
  issuer: z.string(),
  account: ACCOUNT_VIEW,
  ...HELD_VIEW.shape,
  operator_accesses: z.array(ACCESS_VIEW).describe('each audited operator call that found the person, newest first (the latest 100; which client or operator is not the export\'s)'),
  recent_logins: z.array(RECENT_LOGIN_VIEW).describe('the person\'s logins, newest first (the latest 20, kept 180 days after the latest)'),
}).describe('Everything held about the person, as one document (PIPL article 45).');

export const ACCESSES_VIEW = z.strictObject({
  sub: z.string(),
  accesses: z.array(ACCESS_VIEW.extend({
    who: z.string().nullable().describe('which: the admin API client\'s client_id, the console operator\'s `sub`; null at a shell'),
  })).describe('newest first, the latest 100'),
}).describe('The operators\' audited calls that found the person, with who made each: for the company\'s privacy review; the person\'s own page and export leave out who.');

export const LOGINS_VIEW = z.strictObject({
  sub: z.string(),
  logins: z.array(RECENT_LOGIN_VIEW).describe('newest first, the latest 20, kept 180 days after the latest'),
}).describe('The person\'s recent logins with WeChat: when, through which app, for which client, on which device, and whether they said it was not theirs.');

export const SIGNED_OUT_VIEW = z.strictObject({
  sub: z.string(),
  sessions_ended: z.int().min(0),
  grants_revoked: z.int().min(0),
}).describe('What signing the person out everywhere ended.');

export const SUSPENDED_LIST_VIEW = z.strictObject({
  suspended: z.array(SUSPENSION_VIEW.extend({ sub: z.string() })).describe('the latest suspension first, at most 500'),
});

export type AccountView = z.infer<typeof ACCOUNT_VIEW>;
export type SuspensionView = z.infer<typeof SUSPENSION_VIEW>;
export type HeldView = z.infer<typeof HELD_VIEW>;
export type ExportView = z.infer<typeof EXPORT_VIEW>;
export type SignedOutView = z.infer<typeof SIGNED_OUT_VIEW>;
export type AccessesView = z.infer<typeof ACCESSES_VIEW>;
export type LoginView = z.infer<typeof LOGIN_VIEW>;
export type RecentLoginView = z.infer<typeof RECENT_LOGIN_VIEW>;
export type LoginsView = z.infer<typeof LOGINS_VIEW>;
