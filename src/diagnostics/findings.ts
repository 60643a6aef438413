// What `npm run doctor` and GET /admin/diagnostics report: one finding per thing checked,
// ✓ (ok), ✗ (fail: with the fix in plain words, Chinese and English, and where in which
// console) or ? (unknown: what could not be checked, and how to check it by hand). A check
// that throws becomes a `?` finding naming it: the doctor never dies halfway.

import { z } from 'zod';

/** One finding, as the doctor prints it and GET /admin/diagnostics answers it (its OpenAPI schema too). */
const FINDING = z.strictObject({
  check: z.string().describe('what kind of check: `credentials`, `ip-whitelist`, `platform-ticket`, `bound`, `issuer`, …'),
  subject: z.string().describe('what it was about: an app\'s id, a platform\'s, `ISSUER`, `redis`, …'),
  verdict: z.enum(['ok', 'fail', 'unknown']),
  detail: z.string().describe('what was seen (never a secret)'),
  advice: z.strictObject({ zh: z.string(), en: z.string() }).optional().describe('the fix, or how to check by hand, in Chinese and English'),
});

/** GET /admin/diagnostics's answer: whether anything failed, and every finding. */
export const DIAGNOSTICS_VIEW = z.strictObject({ failed: z.boolean(), findings: z.array(FINDING) })
  .describe('What `npm run doctor` finds, run on the broker\'s own clients and storage.');

export type Finding = Readonly<z.infer<typeof FINDING>>;
/** The fix (or how to check by hand), in the operator's language. */
export type Advice = NonNullable<Finding['advice']>;

export interface Check {
  readonly name: string;
  run(): Promise<readonly Finding[]>;
}

export const ok = (check: string, subject: string, detail: string): Finding => ({ check, subject, verdict: 'ok', detail });
export const fail = (check: string, subject: string, detail: string, advice: Advice): Finding => ({ check, subject, verdict: 'fail', detail, advice });
export const unknown = (check: string, subject: string, detail: string, advice: Advice): Finding => ({ check, subject, verdict: 'unknown', detail, advice });

/**
 * What went wrong reaching a URL, in a few words: the network error's code (ECONNREFUSED,
 * ENOTFOUND, a certificate's: fetch itself says only "fetch failed", its cause says what), or
 * how long it waited.
 */
export function networkReason(error: unknown, timeoutMs: number): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Every check, at once; one that throws is a `?` finding with its reason. */
export async function runChecks(checks: readonly Check[]): Promise<Finding[]> {
  const results = await Promise.all(checks.map(async (check) => {
    try {
      return await check.run();
    } catch (error) {
      return [unknown(check.name, '-', `the check failed: ${(error as Error).message.slice(0, 200)}`, {
        zh: '这一项没能检查，请看上面的原因后重试。', en: 'This could not be checked: see the reason and try again.',
      })];
    }
  }));
  return results.flat();
}

/** Whether anything failed (the doctor's exit code). */
export const anyFailed = (findings: readonly Finding[]): boolean => findings.some((finding) => finding.verdict === 'fail');
