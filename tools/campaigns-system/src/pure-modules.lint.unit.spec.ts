import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

/** What `npm run lint` says about `code` written at `filePath` (only the rule under test). */
async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('the lint rule keeping the deciding modules pure', () => {
  it('refuses a database, broker or NestJS import in the planner, desired state and campaign-spec', async () => {
    const cases: [string, string][] = [
      ['services/reconciler-service/src/planner/plan.ts', "import pg from 'pg';"],
      [
        'services/spec-service/src/desired-state/plan-changesets.ts',
        "import { connect } from '@nats-io/transport-node';",
      ],
      ['libs/campaign-spec/src/spec/parse.ts', "import { Injectable } from '@nestjs/common';"],
      ['libs/contracts/src/api.ts', "import { spawn } from 'node:child_process';"],
    ];
    for (const [file, code] of cases) {
      const messages = await restrictedImports(file, `${code}\nexport const x = 1;\n`);
      expect({ file, messages }).toEqual({
        file,
        messages: [expect.stringContaining('a pure module')],
      });
    }
  });

  it('lets the doing modules and the tests import them', async () => {
    const code = "import pg from 'pg';\nexport const x = pg;\n";
    expect(
      await restrictedImports(
        'services/reconciler-service/src/executor/reconciler-worker.ts',
        code,
      ),
    ).toEqual([]);
    expect(
      await restrictedImports('services/reconciler-service/src/planner/plan.unit.spec.ts', code),
    ).toEqual([]);
  });
});
