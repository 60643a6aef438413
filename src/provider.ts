// oidc-provider for the configuration in force, and the person's rights over what it and
// the account store hold: built by the broker (app.ts) and by the accounts CLI, which works
// on the stores of a broker that may be down, with the same erasure, unlink and export.

import { AccountLinker } from './accounts/linking.ts';
import { PHONE_HOLDER_MODEL, PhoneHolders } from './accounts/phone-holders.ts';
import { ADMIN_SCOPES } from './admin/auth.ts';
import { accountPageClient } from './account-page/client.ts';
import { consoleClientMetadata } from './console/client.ts';
import type { Config } from './config/config.ts';
import type { RunningConfig } from './dev-mode.ts';
import type { Logger } from './log.ts';
import { accountSource } from './login/claims.ts';
import { AccountRecords } from './oidc/account-records.ts';
import type { LogoutNotices } from './oidc/logout-notices.ts';
import { createProvider } from './oidc/provider.ts';
import { apiResources } from './oidc/api-resources.ts';
import type { DeliveryOutcome } from './oidc/deliveries.ts';
import { SecurityEvents } from './oidc/security-events.ts';
import type { SubjectTokens } from './oidc/token-exchange.ts';
import { PersonalData } from './privacy/personal-data.ts';
import { ACCESS_LOG_MODEL, AccessLog } from './privacy/access-log.ts';
import { LOGIN_HISTORY_MODEL, LoginHistory } from './privacy/login-history.ts';
import type { Stores } from './stores.ts';

interface ProviderParts {
  readonly linker: AccountLinker;
  readonly notices: LogoutNotices;
  readonly log: Logger;
  readonly subjectTokens?: SubjectTokens | undefined;
  /** Each security event delivery's outcome, for the metrics. */
  readonly observeEvents?: (outcome: DeliveryOutcome) => void;
}

/**
 * The clients of the broker's own pages: the person's page, and the operator console when
 * CONSOLE_OPERATORS names someone. With WeCom apps, each offers every app (WeChat's and WeCom's).
 */
function ownClients(config: RunningConfig) {
  const everyApp = config.wecomApps.length ? [...config.apps, ...config.wecomApps].map((app) => app.id) : undefined;
  return [accountPageClient(config.issuer, everyApp), ...(config.consoleOperators.size > 0 ? [consoleClientMetadata(config.issuer, everyApp)] : [])];
}

/** oidc-provider for the configuration, and the person's rights over what it and the account store hold. */
export async function providerFor(config: RunningConfig, stores: Stores, parts: ProviderParts) {
  const accounts = accountSource(stores.accounts, config.apps, config.wecomApps);
  const apis = apiResources(config.clients, new Set([...accounts.scopes, ...ADMIN_SCOPES]));
  const provider = await createProvider({
    issuer: config.issuer, clients: [...config.clients, ...ownClients(config)], keys: config.keys, cookieKeys: config.cookieKeys, pairwiseSecret: config.pairwiseSecret,
    storage: stores.protocol,
    accounts,
    apiScopes: ADMIN_SCOPES,
    apis,
    subjectTokens: parts.subjectTokens,
    notices: parts.notices,
    sessions: config.sessions,
    device: { counters: stores.counters, log: parts.log, ttlS: config.deviceCodeTtlS },
  });
  const records = new AccountRecords(provider, stores.protocol, parts.notices);
  const holders = new PhoneHolders(stores.durable.adapter(PHONE_HOLDER_MODEL));
  const events = new SecurityEvents({
    provider, issuer: config.issuer, keys: config.keys, pairwiseSecret: config.pairwiseSecret, deliveries: parts.notices, observe: parts.observeEvents, clientIds: config.clients.map((client) => client.client_id),
  });
  const accesses = new AccessLog(stores.durable.adapter(ACCESS_LOG_MODEL));
  const logins = new LoginHistory(stores.durable.adapter(LOGIN_HISTORY_MODEL));
  const personalData = new PersonalData({ linker: parts.linker, records, holders, events, accesses, logins, apps: config.apps, log: parts.log });
  parts.linker.onMerged((into, absorbed) => personalData.merged(into, absorbed));
  parts.linker.onLogin((account, login, place) => personalData.loggedIn(account, login, place));
  parts.linker.onSuspensionEnded((account, ended) => personalData.suspensionEnded(account, ended));
  return { provider, apis, personalData };
}

/**
 * The provider and the person's rights for a process without the broker's routes (the
 * accounts CLI, which works on the stores of a broker that may be down): the same erasure,
 * unlink and export, and the same clients (a pairwise one's sector).
 */
export async function offlineProvider(config: Config, stores: Stores, notices: LogoutNotices, log: Logger) {
  const running = { ...config, clients: config.clients ?? [] };
  return providerFor(running, stores, { linker: new AccountLinker(stores.accounts), notices, log });
}

