// npm run doctor: every WeChat setting checked before the first user meets it (HELP below,
// which --help prints).

import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.ts';
import { diagnose } from '../diagnostics/doctor.ts';
import { anyFailed, type Finding } from '../diagnostics/findings.ts';
import { createLogger } from '../log.ts';
import { OfficialAccountTokens } from '../platforms/official-account-tokens.ts';
import { PlatformTokens } from '../platforms/platform-tokens.ts';
import { Sealer } from '../storage/sealing.ts';
import { openStores, storesForDoctor } from '../stores.ts';
import { WeChatClient } from '../wechat/client.ts';
import { WeComClient } from '../wechat/wecom.ts';
import { runCli } from './run.ts';

export const OPTIONS = { json: { type: 'boolean', default: false }, lang: { type: 'string' } } as const;
export const HELP = `usage: npm run doctor [-- --json] [-- --lang en|zh]

Every WeChat setting checked before the first user meets it, with the broker's own
environment and storage, read-only and safe in production. One table, ✓ / ✗ / ? per line,
each ✗ with its fix and the console path; exit code 1 on any ✗ (2 for a configuration
that does not load). It reads the broker's environment (REDIS_URL, MONGODB_URI, the apps).

  --json         the findings as JSON: { failed, findings }
  --lang en|zh   the table's language (the system's locale by default)`;

const MARK = { ok: '✓', fail: '✗', unknown: '?' } as const;

/** The table: one line per finding, each ✗ and ? followed by what to do, in `lang`. */
export function table(findings: readonly Finding[], lang: 'zh' | 'en'): string {
  const width = Math.max(...findings.map((finding) => `${finding.check} ${finding.subject}`.length), 10);
  const lines = findings.flatMap((finding) => {
    const head = `${MARK[finding.verdict]} ${`${finding.check} ${finding.subject}`.padEnd(width)}  ${finding.detail}`;
    return finding.advice && finding.verdict !== 'ok' ? [head, `  ${' '.repeat(width)}  → ${finding.advice[lang]}`] : [head];
  });
  const failed = findings.filter((finding) => finding.verdict === 'fail').length;
  const summary = lang === 'zh'
    ? `${findings.length} 项检查：${failed} 项有问题，${findings.filter((finding) => finding.verdict === 'unknown').length} 项需要人工确认`
    : `${findings.length} checks: ${failed} failed, ${findings.filter((finding) => finding.verdict === 'unknown').length} to check by hand`;
  return [...lines, '', summary].join('\n');
}

/** Runs every check against the configuration in force (its storage too: tickets and tokens are shared there). */
async function doctorFindings(config: Config): Promise<Finding[]> {
  const log = createLogger('silent');
  const stores = await openStores(config.storage, { log, observe: () => undefined, fatal: () => undefined });
  try {
    // First the connections (every other check may read the stores); whether they came is the storage line.
    const ready = await stores.ready(config.storage.timeoutMs);
    const options = { timeoutMs: config.wechat.timeoutMs, log };
    const wechat = new WeChatClient({ ...options, apiUrl: config.wechat.apiUrl });
    const platformTokens = new PlatformTokens(config.platforms, stores.protocol, wechat, log);
    const accountTokens = new OfficialAccountTokens({
      platforms: config.platforms, platformTokens, storage: stores.protocol, durable: stores.durable, sealer: new Sealer(config.dataKeys), wechat, log,
    });
    return await diagnose({
      config: { ...config, clients: config.clients ?? [] }, wechat, wecom: new WeComClient({ ...options, apiUrl: config.wechat.wecomApiUrl }),
      platformTokens, accountTokens, ticketsShared: stores.protocol.kind !== 'memory',
      ...storesForDoctor(stores, async () => {
        if (!ready) throw new Error('the stores did not connect in time');
        await stores.ping();
      }),
    });
  } finally {
    await stores.close();
  }
}

export async function doctorCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  // The system's locale (from LANG, through ICU) unless --lang says otherwise.
  const lang = (values.lang ?? Intl.DateTimeFormat().resolvedOptions().locale).toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const findings = await doctorFindings(await loadConfig());
  if (anyFailed(findings)) process.exitCode = 1;
  return values.json ? JSON.stringify({ failed: anyFailed(findings), findings }, null, 2) : table(findings, lang);
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('doctor', HELP, doctorCommand);
