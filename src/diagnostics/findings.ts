// What `npm run doctor` and GET /admin/diagnostics report: one finding per thing checked,
// ✓ (ok), ✗ (fail: with the fix in plain words, Chinese and English, and where in which
// console) or ? (unknown: what could not be checked, and how to check it by hand). A check
// that throws becomes a `?` finding naming it: the doctor never dies halfway.

export type Verdict = 'ok' | 'fail' | 'unknown';

/** The fix (or how to check by hand), in the operator's language. */
export interface Advice {
  readonly zh: string;
  readonly en: string;
}

export interface Finding {
  /** What kind of check: `credentials`, `ip-whitelist`, `platform-ticket`, `bound`, `issuer`, … */
  readonly check: string;
  /** What it was about: an app's id, a platform's, `ISSUER`, `redis`, … */
  readonly subject: string;
  readonly verdict: Verdict;
  /** What was seen (never a secret). */
  readonly detail: string;
  readonly advice?: Advice;
}

export interface Check {
  readonly name: string;
  run(): Promise<readonly Finding[]>;
}

export const ok = (check: string, subject: string, detail: string): Finding => ({ check, subject, verdict: 'ok', detail });
export const fail = (check: string, subject: string, detail: string, advice: Advice): Finding => ({ check, subject, verdict: 'fail', detail, advice });
export const unknown = (check: string, subject: string, detail: string, advice: Advice): Finding => ({ check, subject, verdict: 'unknown', detail, advice });

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
