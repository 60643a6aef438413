// The doctor's checks for one configuration, in the order they are printed: the broker's
// own side, what it fetches from and pushes to the relying parties (and the traces'
// collector), the storage and the console's operators, every app's credentials, the third-party platforms, whether the apps share
// people. The same list serves `npm run doctor` (cli/doctor.ts) and GET /admin/diagnostics.

import type { ClientMetadata, Config } from '../config/config.ts';
import type { OfficialAccountTokens } from '../platforms/official-account-tokens.ts';
import type { PlatformTokens } from '../platforms/platform-tokens.ts';
import type { WeChatClient } from '../wechat/client.ts';
import type { WeComClient } from '../wechat/wecom.ts';
import { appChecks } from './app-checks.ts';
import { bindingCheck } from './binding-checks.ts';
import { brokerChecks, redisCheck, storageCheck } from './broker-checks.ts';
import { operatorsCheck, type OperatorAccounts } from './console-checks.ts';
import { clientEndpointsCheck, collectorCheck } from './endpoint-checks.ts';
import { runChecks, type Finding } from './findings.ts';
import { platformChecks } from './platform-checks.ts';

export interface DoctorParts {
  readonly config: Pick<Config, 'issuer' | 'keys' | 'cookieKeys' | 'wechat' | 'apps' | 'platforms' | 'wecomApps' | 'tracing' | 'consoleOperators'> & { readonly clients: readonly ClientMetadata[] };
  readonly wechat: WeChatClient;
  readonly wecom: WeComClient;
  readonly platformTokens: PlatformTokens;
  readonly accountTokens: OfficialAccountTokens;
  /** Whether the platforms' tickets are where this process can read them (Redis or MongoDB). */
  readonly ticketsShared: boolean;
  /** Redis's settings, where Redis keeps the accounts (stores.ts); undefined otherwise. */
  readonly redisSetting?: ((name: string) => Promise<string | undefined>) | undefined;
  /** The accounts, where this process sees them (the broker's own; the CLI's on Redis or MongoDB): the console's operators are checked there. */
  readonly accounts?: OperatorAccounts | undefined;
  /** The stores in use (`redis`, `mongodb`), and whether they answer (Redis: runs the broker's scripts; MongoDB: set up), rejecting with why when not; none for memory. */
  readonly storage?: { readonly kinds: string; readonly answers: () => Promise<void> } | undefined;
}

export function diagnose(parts: DoctorParts): Promise<Finding[]> {
  const { config } = parts;
  return runChecks([
    ...brokerChecks(config),
    clientEndpointsCheck(config.clients),
    ...(config.tracing ? [collectorCheck(config.tracing.endpoint)] : []),
    ...(parts.storage ? [storageCheck(parts.storage.kinds, parts.storage.answers)] : []),
    ...(parts.redisSetting ? [redisCheck(parts.redisSetting)] : []),
    ...(parts.accounts ? [operatorsCheck(config.consoleOperators, parts.accounts)] : []),
    ...appChecks(config.apps, config.wecomApps, parts.wechat, parts.wecom),
    ...platformChecks({ issuer: config.issuer, platforms: config.platforms, apps: config.apps, platformTokens: parts.platformTokens, wechat: parts.wechat, ticketsShared: parts.ticketsShared }),
    bindingCheck(config.apps, parts.wechat, parts.accountTokens),
  ]);
}
