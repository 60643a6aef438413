// The operator console's operators (CONSOLE_OPERATORS): each `sub` must be an account's, as
// it is now. A mistyped `sub`, or one merged into another account since (a login that found
// the same person under another app), silently lets nobody in.

import type { OperatorRole } from '../config/config.ts';
import { ANY_OPERATOR } from '../config/config.ts';
import { fail, ok, type Check, type Finding } from './findings.ts';

/** What the check reads of the accounts: the account of a `sub` (a merged-away one gives the account it joined). */
export interface OperatorAccounts {
  findById(sub: string): Promise<{ readonly id: string } | undefined>;
}

const ASK = {
  zh: '请运营人员打开 /console 并登录，页面会显示其 sub；把这个 sub 写进 CONSOLE_OPERATORS 后重启。',
  en: 'Have the operator open /console and log in: the page shows their sub. Put that sub in CONSOLE_OPERATORS and restart.',
};

async function operatorFinding(accounts: OperatorAccounts, sub: string, role: OperatorRole): Promise<Finding> {
  const account = await accounts.findById(sub);
  if (!account) return fail('console-operator', sub, `${role}: no account has this sub, so nobody uses the console as it`, ASK);
  if (account.id !== sub) return fail('console-operator', sub, `${role}: this account was merged into ${account.id}, which the console now knows the operator by`, ASK);
  return ok('console-operator', sub, `${role}: an account`);
}

export function operatorsCheck(operators: ReadonlyMap<string, OperatorRole>, accounts: OperatorAccounts): Check {
  return {
    name: 'console-operator',
    run: () => Promise.all([...operators].filter(([sub]) => sub !== ANY_OPERATOR).map(([sub, role]) => operatorFinding(accounts, sub, role))),
  };
}
