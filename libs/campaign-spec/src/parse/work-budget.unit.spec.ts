import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Alias } from 'yaml';
import { lines } from '../test-support/fixtures.js';
import { parseCampaignSpecCounted } from './parse-campaign-spec.js';
import {
  MAX_CHECK_STEPS,
  MAX_DESCRIBED_ISSUES,
  MAX_LISTED_DIAGNOSTICS,
  MAX_LISTED_PER_CHECK,
  MAX_SPEC_VALUES,
  MAX_YAML_TOKENS,
} from './work.js';

/**
 * Each kind of spec that once made the parser's work grow faster than the spec: the work is
 * counted (tokens, nodes, values, comparisons), never timed.
 */

const TEMPLATE = lines(
  'changesetTemplate:',
  '  title: Hello',
  '  body: Hi',
  '  branch: hello',
  '  commit:',
  '    message: Say hello',
);

const parse = (text: string) => parseCampaignSpecCounted(text, 'spec.yaml');
const messages = (d: readonly { line: number; column: number; message: string }[]) =>
  d.map((x) => `${x.line}:${x.column}: ${x.message}`);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('aliases', () => {
  const withAliases = (n: number) =>
    lines(
      'name: aliases',
      'on:',
      '  - repository: github.com/acme/api',
      'steps:',
      '  - run: &run echo hello',
      '    container: alpine:3',
      ...Array.from({ length: n }, () => ['  - run: *run', '    container: alpine:3']).flat(),
    ) + TEMPLATE;

  it('resolves 4,000 aliases from one pass over the document, never walking it once per alias', () => {
    const resolve = jest.spyOn(Alias.prototype, 'resolve');
    const { result, work } = parse(withAliases(4000));

    expect(result.errors).toEqual([]);
    expect(result.spec?.steps).toHaveLength(4001);
    expect(result.spec?.steps.every((s) => s.run === 'echo hello')).toBe(true);
    // The YAML library's resolve walks the whole document each time (4,000 × 20,000 nodes).
    expect(resolve).not.toHaveBeenCalled();
    // Five nodes per step (a mapping, two keys, two values), each visited once; four values
    // produced per step (the mapping, the alias, the value it names, the container).
    expect(work.indexed).toBeLessThanOrEqual(5 * 4000 + 50);
    expect(work.values).toBeLessThanOrEqual(4 * 4000 + 50);
  });

  it('grows the work in proportion to the aliases: twice the aliases, twice the work', () => {
    const small = parse(withAliases(2000)).work;
    const large = parse(withAliases(4000)).work;
    expect(large.indexed / small.indexed).toBeLessThan(2.05);
    expect(large.values / small.values).toBeLessThan(2.05);
    expect(large.tokens / small.tokens).toBeLessThan(2.05);
  });

  it('stops a "billion laughs" document at the value budget, with the error at a line and column', () => {
    const laughs = ['name: laughs', 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++)
      laughs.push(
        `l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const { result, work } = parse(lines(...laughs));

    expect(work.values).toBe(MAX_SPEC_VALUES + 1);
    expect(messages(result.errors)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\d+:\\d+: the spec expands to more than ${MAX_SPEC_VALUES} values through aliases and merge keys`,
        ),
      ),
    ]);
  });

  it('refuses an alias used inside the value it names, where it is written', () => {
    const { result } = parse(lines('name: x', 'description: &a [*a]'));
    expect(messages(result.errors)).toEqual([
      '2:18: alias "*a" is used inside the value it names; a value cannot contain itself',
    ]);
  });
});

describe('merge keys', () => {
  it('merges as YAML 1.1 does: written keys win, then the earlier merged mapping', () => {
    const { result } = parse(
      lines(
        'name: merges',
        'on:',
        '  - repository: github.com/acme/api',
        'steps:',
        '  - &base',
        '    run: echo base',
        '    container: alpine:3',
        '    env: { A: a }',
        '  - <<: *base',
        '    run: echo mine',
        '  - &other { run: echo other, container: node:20, if: "true" }',
        '  - <<: [*base, *other]',
      ) + TEMPLATE,
    );
    expect(result.errors).toEqual([]);
    expect(
      result.spec?.steps
        .slice(1)
        .map(({ run, container, env, if: when }) => ({ run, container, env, when })),
    ).toEqual([
      { run: 'echo mine', container: 'alpine:3', env: { A: 'a' }, when: undefined },
      { run: 'echo other', container: 'node:20', env: undefined, when: 'true' },
      { run: 'echo base', container: 'alpine:3', env: { A: 'a' }, when: 'true' },
    ]);
  });

  it('reads a quoted "<<" as a key of its own', () => {
    const { result } = parse(lines('name: x', '"<<": {a: 1}'));
    expect(messages(result.errors)).toEqual(['2:1: unknown key "<<"']);
  });

  it('refuses a merge of something other than mappings, at the merged value', () => {
    const { result } = parse(lines('name: x', 'changesetTemplate:', '  <<: 5'));
    expect(messages(result.errors)).toEqual([
      '3:7: a merge key "<<" takes a mapping or a list of mappings (e.g. <<: *defaults or <<: [*a, *b])',
    ]);
  });

  it('expands each mapping of a merge-key bomb once: 40 levels of 8 merges take thousands of steps, not 8^40', () => {
    const bomb = ['name: bomb', 'x0: &x0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}'];
    for (let i = 1; i <= 40; i++)
      bomb.push(
        `x${i}: &x${i} {<<: [${Array(8)
          .fill(`*x${i - 1}`)
          .join(', ')}], k${i}: 1}`,
      );
    const { result, work } = parse(lines(...bomb));

    expect(work.values).toBeLessThan(20_000);
    expect(
      result.errors.every(
        (e) => e.message.startsWith('unknown key') || e.message.startsWith('and '),
      ),
    ).toBe(true);
  });

  it('charges merged values to the same budget as aliases: a bomb of both stops there', () => {
    const bomb = ['name: bomb', 'x0: &x0 {a: 1, b: 2, c: 3, d: 4}'];
    for (let i = 1; i <= 30; i++)
      bomb.push(
        `x${i}: &x${i} {<<: [*x${i - 1}, *x${i - 1}], m${i}: *x${i - 1}, n${i}: *x${i - 1}}`,
      );
    const { result, work } = parse(lines(...bomb));

    expect(work.values).toBe(MAX_SPEC_VALUES + 1);
    expect(result.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('values through aliases and merge keys'),
    ]);
  });
});

describe('the YAML text', () => {
  it('reads at most the token budget of a text that is only comments, and says where it stopped', () => {
    const { result, work } = parse(`name: x\n${'#\n'.repeat(200_000)}`);

    expect(work.tokens).toBe(MAX_YAML_TOKENS + 1);
    expect(work.indexed).toBe(0);
    expect(messages(result.errors)).toEqual([
      expect.stringMatching(
        new RegExp(`^\\d+:1: the spec has more than ${MAX_YAML_TOKENS} YAML tokens`),
      ),
    ]);
    // Two tokens a line: it stopped at the line where the budget ran out, not at the end.
    expect(result.errors[0]?.line).toBe(MAX_YAML_TOKENS / 2 - 2);
  });

  it('counts every re-parse of a repaired quoted string against the one token budget', () => {
    // 20 strings to repair and a third of the budget in comments: 21 parses would lex 2 million tokens.
    const unindented = Array.from({ length: 20 }, (_, i) => `k${i}: "a\nb"`);
    const { result, work } = parse(
      lines('name: x', ...unindented) + '#\n'.repeat(MAX_YAML_TOKENS / 6),
    );

    expect(work.tokens).toBeLessThanOrEqual(MAX_YAML_TOKENS);
    expect(work.parses).toBeLessThanOrEqual(3);
    expect(result.errors[0]?.message).toMatch(/^YAML syntax error/);
  });

  it('finds a duplicate among 30,000 keys of one mapping visiting each key once', () => {
    const entries = Array.from({ length: 30_000 }, (_, i) => `k${i}: 1`);
    const { result, work } = parse(`{name: x, ${entries.join(', ')}, k7: 2}\n`);

    expect(work.indexed).toBeLessThanOrEqual(2 * 30_002 + 1);
    expect(result.errors.map((e) => e.message)).toContain(
      'duplicate key "k7"; each key may appear once in a mapping',
    );
    // The unknown keys are listed up to a limit, and counted.
    expect(result.errors.map((e) => e.message)).toContain(
      `and ${30_000 - MAX_LISTED_PER_CHECK} more unknown keys (only the first ${MAX_LISTED_PER_CHECK} are listed)`,
    );
  });
});

describe('workspaces', () => {
  const workspaces = (
    globs: readonly string[],
    named: readonly string[] = ['github.com/acme/api'],
  ) =>
    lines(
      'name: ws',
      'on:',
      ...named.map((r) => `  - repository: ${r}`),
      'workspaces:',
      ...globs.map((g) => `  - {rootAtLocationOf: package.json, in: "${g}"}`),
    );

  it('reports 1,000 entries with one glob as 20 overlaps and a count of the rest, comparing none pairwise', () => {
    const { result, work } = parse(workspaces(Array(1000).fill('github.com/acme/*')));
    const overlaps = result.errors.filter((e) => e.path[0] === 'workspaces');

    expect(overlaps).toHaveLength(MAX_LISTED_PER_CHECK + 1);
    expect(overlaps[0]?.message).toBe(
      'workspaces[1] and workspaces[0] both match every repository it matches; a repository may be matched by one workspace entry only',
    );
    expect(overlaps.at(-1)?.message).toBe(
      `and ${999 - MAX_LISTED_PER_CHECK} more workspace entries match a repository that an earlier entry matches (only the first ${MAX_LISTED_PER_CHECK} are listed)`,
    );
    expect(work.checkSteps).toBeLessThan(1000);
  });

  it('matches each glob only against the named repositories that start with its literal prefix', () => {
    const n = 2000;
    const { result, work } = parse(
      workspaces(
        Array.from({ length: n }, (_, i) => `github.com/org${i}/*`),
        Array.from({ length: n }, (_, i) => `github.com/org${i}/api`),
      ),
    );

    expect(result.errors).toEqual([]);
    // Compiling each glob (8 steps per token) and one match each; pairwise, that would be
    // 4,000,000 matches of about 40 steps.
    expect(work.checkSteps).toBeLessThan(400 * n);
  });

  it('stops matching globs without a literal prefix at the comparison budget, and says so', () => {
    const n = 2000;
    const { result, work } = parse(
      workspaces(
        Array.from({ length: n }, (_, i) => `*x${i}`),
        Array.from({ length: n }, (_, i) => `github.com/acme/repo-${i}`),
      ),
    );

    expect(work.checkSteps).toBeGreaterThan(MAX_CHECK_STEPS);
    expect(work.checkSteps).toBeLessThan(MAX_CHECK_STEPS + 1000);
    expect(result.warnings.map((w) => w.message)).toContain(
      `stopped checking the workspace globs and which repositories they share after ${MAX_CHECK_STEPS} comparisons; the rest is checked when the campaign is applied`,
    );
  });

  it('charges the expansion of brace globs to the same budget', () => {
    const braces = '{a,b}'.repeat(10);
    const { result, work } = parse(
      workspaces(Array.from({ length: 500 }, (_, i) => `${i}${braces}`)),
    );

    expect(work.checkSteps).toBeLessThan(MAX_CHECK_STEPS + 200_000);
    expect(result.warnings.map((w) => w.message)).toContainEqual(
      expect.stringContaining('stopped checking the workspace globs'),
    );
  });
});

describe('transformChanges and published', () => {
  it("finds 9,999 groups whose branch is inside another group's in one pass over the branch names", () => {
    const n = 10_000;
    const groups = Array.from({ length: n }, (_, i) =>
      i === 0 ? '    - {directory: d0, branch: b}' : `    - {directory: d${i}, branch: b/x${i}}`,
    );
    const { result, work } = parse(lines('name: x', 'transformChanges:', '  group:', ...groups));
    const conflicts = result.errors.filter((e) => e.path[0] === 'transformChanges');

    expect(work.branchSteps).toBe(1 + 2 * (n - 1));
    expect(conflicts).toHaveLength(MAX_LISTED_PER_CHECK + 1);
    expect(conflicts[0]?.message).toBe(
      'branch "b/x1" cannot coexist with "b" of transformChanges.group[0] in Git (one is a directory of the other)',
    );
    expect(conflicts.at(-1)?.message).toBe(
      `and ${n - 1 - MAX_LISTED_PER_CHECK} more groups whose branch cannot coexist with an earlier group's in Git (only the first ${MAX_LISTED_PER_CHECK} are listed)`,
    );
  });

  it('checks 3,000 published globs against 3,000 repositories by their literal prefixes', () => {
    const n = 3000;
    const { result, work } = parse(
      lines(
        'name: x',
        'on:',
        ...Array.from({ length: n }, (_, i) => `  - repository: github.com/org${i}/api`),
      ) +
        TEMPLATE +
        lines(
          '  published:',
          ...Array.from({ length: n }, (_, i) => `    - "github.com/org${i}/*": true`),
        ),
    );

    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(work.checkSteps).toBeLessThan(300 * n);
  });
});

describe('many problems', () => {
  it('lists the first errors in file order and counts the rest', () => {
    const { result } = parse(lines('name: x', 'on:', ...Array(500).fill('  - 1')));

    expect(result.errors).toHaveLength(MAX_LISTED_DIAGNOSTICS + 1);
    expect(messages(result.errors.slice(0, 1))).toEqual([
      '3:5: on[0] must be a mapping with "repositoriesMatchingQuery" or "repository"',
    ]);
    expect(messages(result.errors.slice(-1))).toEqual([
      `${3 + MAX_LISTED_DIAGNOSTICS}:5: and ${500 - MAX_LISTED_DIAGNOSTICS} more errors from here on (only the first ${MAX_LISTED_DIAGNOSTICS} are listed)`,
    ]);
  });

  it('stops checking a long list of wrong entries after the problem limit, and says where', () => {
    const { result, work } = parse(`name: x\non: [${Array(20_000).fill('1').join(', ')}]\n`);

    // Zod spends microseconds per problem: 20,000 of them would be found without the stop.
    expect(work.schemaIssues).toBeLessThanOrEqual(2 * MAX_DESCRIBED_ISSUES);
    // Listed last, after the first errors and the count of the rest.
    expect(result.errors).toHaveLength(MAX_LISTED_DIAGNOSTICS + 2);
    expect(result.errors.at(-1)).toMatchObject({
      line: 2,
      path: ['on', MAX_DESCRIBED_ISSUES],
      message: `checking stopped here after ${MAX_DESCRIBED_ISSUES} problems in the entries before it; fix those and validate again to check the rest`,
    });
  });

  it('suggests names for undefined outputs within the comparison budget, at each reference', () => {
    const n = 3000;
    const { result, work } = parse(
      lines(
        'name: x',
        'on:',
        '  - repository: github.com/acme/api',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    outputs:',
        ...Array.from({ length: n }, (_, i) => `      output_number_${i}: {value: x}`),
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  body: |',
        ...Array.from({ length: n }, (_, i) => `    see \${{ outputs.missing_${i} }}`),
      ),
    );

    expect(work.checkSteps).toBeLessThanOrEqual(MAX_CHECK_STEPS);
    expect(result.warnings).toHaveLength(MAX_LISTED_DIAGNOSTICS + 1);
    expect(messages(result.warnings.slice(0, 2))).toEqual([
      `${n + 14}:13: "outputs.missing_0" is not defined by any step; rendering fails unless one defines it`,
      `${n + 15}:13: "outputs.missing_1" is not defined by any step; rendering fails unless one defines it`,
    ]);
  });
});
