// Pairwise subject identifiers (OIDC Core 8.1): a client registered with
// `subject_type: "pairwise"` sees, for each person, a `sub` of its own sector (its redirect
// URIs' host, or its sector_identifier_uri's), which no other sector can match. Here they
// are made (for oidc-provider) and, for an operator holding one a partner reported, traced
// back to the account: the `sub` is one-way, so that is a pass over every account.

import { createHmac } from 'node:crypto';
import type { Configuration } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Account } from '../accounts/account.ts';
import type { AccountStore } from '../accounts/store.ts';

/** HMAC-SHA256 over the sector and the account id, keyed with PAIRWISE_SECRET, base64url: stable for as long as the secret is. */
function pairwiseSub(secret: string, sector: unknown, accountId: string): string {
  return createHmac('sha256', secret).update(`${String(sector)} ${accountId}`).digest('base64url');
}

/** The `sub` a client knows for an account: its pairwise one, or the account id. */
export function subjectFor(secret: string | undefined, client: { readonly subjectType?: string; readonly sectorIdentifier?: string }, accountId: string): string {
  return client.subjectType === 'pairwise' && secret ? pairwiseSub(secret, client.sectorIdentifier, accountId) : accountId;
}

/** oidc-provider's subject types: pairwise ones only with a secret to make them from; public clients keep the account id. */
export function subjectTypes(secret: string | undefined): Pick<Configuration, 'subjectTypes' | 'pairwiseIdentifier'> {
  if (!secret) return { subjectTypes: ['public'] };
  return {
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) => pairwiseSub(secret, client.sectorIdentifier, accountId),
  };
}

/**
 * The account behind `sub` as pairwise client `clientId` sees it; undefined when none is,
 * a sentence when the question cannot be asked (no such client, or it is not pairwise).
 * Accounts merged away since the client was told their `sub` are not among them.
 */
export async function accountOfPairwise(provider: Provider, secret: string | undefined, accounts: AccountStore, clientId: string, sub: string): Promise<Account | undefined | string> {
  const client = await provider.Client.find(clientId);
  if (!client) return `no client ${clientId} in CLIENTS_FILE`;
  if (client.subjectType !== 'pairwise' || !secret) return `client ${clientId} is not pairwise: the sub it has is the account's, for show`;
  for await (const account of accounts.idleSince(Number.MAX_SAFE_INTEGER)) {
    if (pairwiseSub(secret, client.sectorIdentifier, account.id) === sub) return account;
  }
  return undefined;
}
