// The person's page for a WeChat failure outside the callback (the hand-off, follow-to-login,
// a platform's authorization page): by the kind the one policy (wechat/failures.ts) gives.

import type { ErrorData } from './error-pages.ts';
import type { FailureKind } from '../wechat/failures.ts';

/** The error page for `kind`; `retryHref` where trying again can help. */
export function failurePage(kind: FailureKind, retryHref: string): ErrorData {
  switch (kind) {
    case 'misconfigured':
      return { kind: 'misconfigured', status: 503 };
    case 'starting':
      return { kind: 'starting', status: 503, retryHref };
    case 'snapshot':
      return { kind: 'snapshot', status: 403 };
    case 'code':
    case 'refused':
    case 'unavailable':
      return { kind: 'unavailable', status: 503, retryHref };
  }
}
