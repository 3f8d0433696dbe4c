import { describe, expect, it } from '@jest/globals';
import { MAX_SPEC_VALUES, MAX_YAML_TOKENS } from '@campaigns/campaign-spec';
import { ApiRequestError } from '@campaigns/service-kit';
import { validSpec } from './valid-spec.js';

/**
 * spec-service parses specs on its event loop, bounded by the parser's work budget (see
 * libs/campaign-spec, "Limits"): the specs that once blocked it for seconds to minutes are
 * answered like any invalid spec, each problem at its line and column.
 */

const TEMPLATE = [
  'changesetTemplate:',
  '  title: Hello',
  '  branch: hello',
  '  commit:',
  '    message: Say hello',
];

function refusal(text: string): { code: string; diagnostics: string[] } {
  try {
    validSpec('hostile.yaml', text);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    const { code, diagnostics } = err.apiError as { code: string; diagnostics?: string[] };
    return { code, diagnostics: diagnostics ?? [] };
  }
  throw new Error('the spec was accepted');
}

describe('validSpec on specs made to exhaust the parser', () => {
  it('accepts a spec of 4,000 aliases of one anchor', () => {
    const steps = Array.from({ length: 4000 }, () => '  - {run: *run, container: alpine:3}');
    const { spec } = validSpec(
      'aliases.yaml',
      [
        'name: aliases',
        'on:',
        '  - repository: github.com/acme/api',
        'steps:',
        '  - {run: &run echo hello, container: alpine:3}',
        ...steps,
        ...TEMPLATE,
        '',
      ].join('\n'),
    );
    expect(spec.steps).toHaveLength(4001);
  });

  it('refuses aliases and merge keys that expand past the value budget, where they ran out', () => {
    const bomb = ['name: bomb', 'x0: &x0 {a: 1, b: 2, c: 3, d: 4}'];
    for (let i = 1; i <= 30; i++)
      bomb.push(`x${i}: &x${i} {<<: [*x${i - 1}, *x${i - 1}], m${i}: *x${i - 1}}`);
    expect(refusal(`${bomb.join('\n')}\n`)).toEqual({
      code: 'invalid-spec',
      diagnostics: [
        expect.stringMatching(
          new RegExp(
            `^hostile\\.yaml:\\d+:\\d+: the spec expands to more than ${MAX_SPEC_VALUES} values through aliases and merge keys`,
          ),
        ),
      ],
    });
  });

  it('refuses a text of more YAML tokens than the budget, where it stopped reading', () => {
    expect(refusal(`name: x\n${'#\n'.repeat(MAX_YAML_TOKENS)}`)).toEqual({
      code: 'invalid-spec',
      diagnostics: [
        expect.stringMatching(
          new RegExp(
            `^hostile\\.yaml:\\d+:1: the spec has more than ${MAX_YAML_TOKENS} YAML tokens`,
          ),
        ),
      ],
    });
  });

  it('answers a list of 20,000 wrong entries with the first errors, a count and where checking stopped', () => {
    const { code, diagnostics } = refusal(`name: x\non: [${Array(20_000).fill('1').join(', ')}]\n`);
    expect(code).toBe('invalid-spec');
    expect(diagnostics).toHaveLength(102);
    expect(diagnostics[0]).toBe(
      'hostile.yaml:2:6: on[0] must be a mapping with "repositoriesMatchingQuery" or "repository"',
    );
    expect(diagnostics[100]).toMatch(/^hostile\.yaml:2:\d+: and 900 more errors from here on/);
    expect(diagnostics[101]).toMatch(
      /^hostile\.yaml:2:\d+: checking stopped here after 1000 problems/,
    );
  });
});
