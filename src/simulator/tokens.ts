// What every token the simulated WeChat issues shares: random, and (for access tokens of
// every kind) WeChat's `expires_in` of two hours.

import { randomBytes } from 'node:crypto';

/** How long WeChat's access tokens live: a user's, a platform's, an account's, an authorizer's. */
export const TOKEN_TTL_S = 7200;

export const randomToken = (bytes = 24): string => randomBytes(bytes).toString('base64url');
