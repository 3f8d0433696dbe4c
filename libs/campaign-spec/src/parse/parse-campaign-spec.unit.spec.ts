import { describe, expect, it } from '@jest/globals';
import { diagnose, examplesDirectory, lines, yamlFilesIn } from '../test-support/fixtures.js';
import { MAX_SPEC_BYTES, parseCampaignSpec } from './parse-campaign-spec.js';

/** A valid spec to break one piece of at a time. */
const TEMPLATE = lines(
  'changesetTemplate:',
  '  title: Hello',
  '  branch: hello',
  '  commit:',
  '    message: Say hello',
);

describe('parseCampaignSpec: the examples', () => {
  // Warnings the examples are expected to show, by file.
  const expectedWarnings: Record<string, string[]> = {
    'monorepo-workspaces.campaign.yaml': [
      'with workspaces, a repository can hold several projects whose changesets would share this branch',
    ],
  };

  it.each(yamlFilesIn(examplesDirectory))('%s validates', (file, text) => {
    const result = parseCampaignSpec(text, `examples/${file}`);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual(
      (expectedWarnings[file] ?? []).map((m) => expect.stringContaining(m)),
    );
    expect(result.spec).toBeDefined();
  });

  it('reads the canonical example into the typed spec, with defaults filled in', () => {
    const [, text] = yamlFilesIn(examplesDirectory).find(
      ([f]) => f === 'hello-world.campaign.yaml',
    )!;
    expect(parseCampaignSpec(text).spec).toEqual({
      version: 1,
      name: 'hello-world',
      description: 'Add Hello World to READMEs',
      on: [{ repositoriesMatchingQuery: 'file:README.md' }],
      workspaces: [],
      steps: [{ run: "echo Hello | tee -a $(find -name '*.md')", container: 'alpine:3' }],
      importChangesets: [],
      changesetTemplate: {
        title: 'Hello World',
        body: 'My first campaign!',
        branch: 'hello-world',
        commit: { message: 'Append Hello to .md files' },
        published: false,
      },
    });
  });
});

describe('parseCampaignSpec: every error at its line and column', () => {
  it.each<[string, string, string]>([
    [
      'a typo in a top-level key, with a suggestion',
      lines('name: x', 'chagesetTemplate:', '  title: t'),
      '2:1: unknown key "chagesetTemplate"; did you mean "changesetTemplate"?',
    ],
    [
      'a missing name',
      lines('description: no name'),
      '1:1: the spec is missing the required key "name"',
    ],
    [
      'a name with a space',
      lines('name: hello world'),
      '1:7: name may contain only letters, digits, "_", "." and "-"',
    ],
    ['an unknown version', lines('version: 3', 'name: x'), '1:10: version must be 1 or 2'],
    [
      'a typo in an on entry',
      lines('name: x', 'on:', '  - repositoriesMatchingQuerry: foo'),
      '3:5: unknown key "repositoriesMatchingQuerry" in on[0]; did you mean "repositoriesMatchingQuery"?',
    ],
    [
      'an on entry that is not a mapping',
      lines('name: x', 'on:', '  - github.com/a/b'),
      '3:5: on[0] must be a mapping with "repositoriesMatchingQuery" or "repository"',
    ],
    [
      'branch and branches together',
      lines(
        'name: x',
        'on:',
        '  - repository: github.com/a/b',
        '    branch: main',
        '    branches: [dev]',
      ),
      '5:15: on[0].branches cannot be used together with "branch"; set one of them',
    ],
    [
      'a branch Git refuses in an on entry',
      lines('name: x', 'on:', '  - repository: github.com/a/b', '    branch: feature..x'),
      '4:13: on[0].branch "feature..x" is not a valid branch name: a branch name cannot contain ".."',
    ],
    [
      'an unknown filter in a query, at its column',
      lines('name: x', 'on:', '  - repositoriesMatchingQuery: lang:go repoo:foo'),
      '3:40: in the query: unknown filter "repoo:"; did you mean "repo:"? (to search for the text, quote it: "repoo:…")',
    ],
    [
      'a bad value in a double-quoted query, at its column',
      lines('name: x', 'on:', '  - repositoriesMatchingQuery: "lang:go archived:maybe"'),
      '3:50: in the query: invalid value "maybe" for "archived:"; expected yes, no or only',
    ],
    [
      'a bad regular expression in a block-scalar query, on its own line',
      lines(
        'name: x',
        'on:',
        '  - repositoriesMatchingQuery: >-',
        '      lang:go',
        '      file:(vendor',
      ),
      '5:12: in the query: invalid regular expression in "file:" "(vendor": unterminated group',
    ],
    [
      'steps without a changesetTemplate',
      lines('name: x', 'steps:', '  - run: echo', '    container: alpine:3'),
      '2:1: a spec with steps needs a changesetTemplate that describes the changesets to create',
    ],
    [
      'a step without its container',
      lines('name: x', 'steps:', '  - run: echo') + TEMPLATE,
      '3:5: steps[0] is missing the required key "container"',
    ],
    ['a key with nothing after it', lines('name:'), '1:6: name is empty; it must be a string'],
    [
      'a typo in an output, whose mapping tolerates unknown keys',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    outputs:',
        '      count:',
        '        valu: x',
      ) + TEMPLATE,
      '6:7: steps[0].outputs.count is missing the required key "value" (is "valu" a typo of it?)',
    ],
    [
      'a run that is a list',
      lines('name: x', 'steps:', '  - run: [a, b]', '    container: alpine:3') + TEMPLATE,
      '3:10: steps[0].run must be a string, not a list',
    ],
    [
      'a typo in a step key',
      lines('name: x', 'steps:', '  - run: echo', '    contianer: alpine:3') + TEMPLATE,
      '4:5: unknown key "contianer" in steps[0]; did you mean "container"?',
    ],
    [
      'an env list entry with two variables',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    env:',
        '      - {A: "1", B: "2"}',
      ) + TEMPLATE,
      '6:9: steps[0].env[0] must have exactly one NAME: value, not 2',
    ],
    [
      'an env list entry that is a number',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    env:',
        '      - 3',
      ) + TEMPLATE,
      '6:9: steps[0].env[0] must be NAME or {NAME: value}',
    ],
    [
      'an environment variable name with a dash',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    env:',
        '      MY-VAR: x',
      ) + TEMPLATE,
      '6:7: "MY-VAR" is not an environment variable name (letters, digits and _, not starting with a digit)',
    ],
    [
      'a misspelled output format',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    outputs:',
        '      o:',
        '        value: x',
        '        format: josn',
      ) + TEMPLATE,
      '8:17: steps[0].outputs.o.format must be "text", "json" or "yaml"; did you mean "json"?',
    ],
    [
      'a mount: local files never reach the executors',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    mount:',
        '      - path: ../secrets',
        '        mountpoint: /tmp/s',
      ) + TEMPLATE,
      `5:5: steps[0].mount is not supported: only the spec's text is applied, so files on your machine never reach the executors; put small files in steps[0].files, larger ones in the step's container image`,
    ],
    [
      'an unknown namespace in a template, at the name',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: Hello ${{ repo.x }}',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
      '3:20: template error: "repo" is neither a template function nor a variable namespace (batch_change, batch_change_link, campaign, outputs, previous_step, repository, step, steps); did you mean "repository"?',
    ],
    [
      'an unknown field in a block-scalar template, on its own line',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  body: |',
        '    First line',
        '    Modified: ${{ join steps.modifed_files ", " }}',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
      '6:24: unknown template variable "steps.modifed_files"; did you mean "modified_files"? (steps has path, modified_files, added_files, deleted_files, renamed_files)',
    ],
    [
      'previous_step in the changeset template',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: ${{ previous_step.stdout }}',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
      '3:14: "previous_step.stdout" is not available here: previous_step can be used only in steps (run, env, files, if, outputs)',
    ],
    [
      'step.* outside step outputs',
      lines('name: x', 'steps:', '  - run: echo ${{ step.stdout }}', '    container: alpine:3') +
        TEMPLATE,
      '3:19: "step.stdout" is not available here: step can be used only in steps[].outputs.*.value',
    ],
    [
      'a branch Git refuses',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: my branch',
        '  commit:',
        '    message: m',
      ),
      '4:11: changesetTemplate.branch "my branch" is not a valid branch name: a branch name cannot contain whitespace',
    ],
    [
      'a fixed branch for a repository with several branches',
      lines(
        'name: x',
        'on:',
        '  - repository: github.com/a/b',
        '    branches: [main, dev]',
        'changesetTemplate:',
        '  title: t',
        '  branch: fix',
        '  commit:',
        '    message: m',
      ),
      '7:11: changesetTemplate.branch is the same for every branch of github.com/a/b (main, dev), so their changesets would collide; include ${{ repository.branch }}',
    ],
    [
      'a templated branch that can never be valid',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: fix:${{ repository.name }}',
        '  commit:',
        '    message: m',
      ),
      '4:11: changesetTemplate.branch cannot render to a valid branch name: a branch name cannot contain ":"',
    ],
    [
      'a group branch equal to the template branch',
      lines(
        'name: x',
        'transformChanges:',
        '  group:',
        '    - directory: a',
        '      branch: hello',
      ) + TEMPLATE,
      '5:15: branch "hello" is changesetTemplate.branch; a group needs a branch of its own',
    ],
    [
      'two groups with one branch',
      lines(
        'name: x',
        'transformChanges:',
        '  group:',
        '    - directory: a',
        '      branch: g',
        '    - directory: b',
        '      branch: g',
      ) + TEMPLATE,
      '7:15: branch "g" is already used by transformChanges.group[0]; each group needs its own branch',
    ],
    [
      'a typo in transformChanges',
      lines('name: x', 'transformChanges:', '  grup: []'),
      '3:3: unknown key "grup" in transformChanges; did you mean "group"?',
    ],
    [
      'a repository matched by two workspace entries',
      lines(
        'name: x',
        'workspaces:',
        '  - rootAtLocationOf: package.json',
        '    in: github.com/acme/*',
        '  - rootAtLocationOf: go.mod',
        '    in: github.com/acme/api',
      ),
      '6:9: workspaces[1] and workspaces[0] both match "github.com/acme/api"; a repository may be matched by one workspace entry only',
    ],
    [
      'two workspace entries for every repository',
      lines(
        'name: x',
        'workspaces:',
        '  - rootAtLocationOf: package.json',
        '  - rootAtLocationOf: go.mod',
      ),
      '4:5: workspaces[1] and workspaces[0] both match every repository it matches; a repository may be matched by one workspace entry only',
    ],
    [
      'a workspace glob that is not one',
      lines(
        'name: x',
        'workspaces:',
        '  - rootAtLocationOf: package.json',
        '    in: github.com/[acme',
      ),
      '4:9: workspaces[0].in is not a valid glob: unclosed "[" in pattern',
    ],
    [
      'a published glob that is not one',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published:',
        '    - github.com/{a,b: true',
      ),
      '8:7: "github.com/{a,b" is not a valid glob: unclosed "{" in pattern',
    ],
    [
      'a published entry with two globs',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published:',
        '    - {a/*: true, b/*: false}',
      ),
      '8:7: changesetTemplate.published[0] must have exactly one GLOB: value, not 2',
    ],
    [
      'a misspelled publication state',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published: drat',
      ),
      '7:14: changesetTemplate.published must be true, false, "draft", or a list of single-key mappings {GLOB: true|false|draft}; did you mean "draft"?',
    ],
    [
      'an author email that is not one',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '    author:',
        '      name: Bot',
        '      email: bot',
      ),
      '9:14: "bot" is not an email address',
    ],
    [
      'an external ID listed twice',
      lines(
        'name: x',
        'importChangesets:',
        '  - repository: github.com/a/b',
        '    externalIDs: [1, 2, 1]',
      ),
      '4:25: external ID 1 is listed twice (also at index 0)',
    ],
    [
      'an external ID that is a fraction',
      lines(
        'name: x',
        'importChangesets:',
        '  - repository: github.com/a/b',
        '    externalIDs: [1.5]',
      ),
      '4:19: importChangesets[0].externalIDs[0] must be a number or a string',
    ],
    [
      'a duplicate key',
      lines('name: a', 'name: b'),
      '2:1: duplicate key "name"; each key may appear once in a mapping',
    ],
    [
      'a YAML syntax error',
      lines('name: x', 'on: [a', 'steps: []'),
      expect.stringMatching(/^\d+:\d+: YAML syntax error: /) as unknown as string,
    ],
    [
      'a tab used for indentation',
      lines('name: x', 'on:', '\t- repository: a/b/c'),
      '3:1: YAML syntax error: tabs are not allowed as indentation',
    ],
    ['an unknown alias', lines('name: x', 'description: *nope'), '2:14: unknown alias "*nope"'],
    [
      'two documents in one file',
      lines('name: x', '---', 'name: y'),
      '2:1: a spec file holds one YAML document; remove the "---" and what follows it',
    ],
    ['an empty file', '', '1:1: the spec is empty; it needs at least a "name"'],
    [
      'an unknown auto-merge method',
      lines('name: x', 'x-campaigns:', '  autoMerge:', '    method: fast-forward'),
      '4:13: x-campaigns.autoMerge.method must be merge, squash or rebase',
    ],
    [
      'auto-merge of changesets published only as drafts',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit: { message: m }',
        '  published: draft',
        'x-campaigns:',
        '  autoMerge: { method: squash }',
      ),
      '8:14: x-campaigns.autoMerge needs changesets published ready for review, but changesetTemplate.published publishes none (a draft cannot be merged); set it to true, or to a list with a true entry',
    ],
    [
      'auto-merge without a changeset template',
      lines('name: x', 'x-campaigns:', '  autoMerge:', '    method: merge'),
      '4:5: x-campaigns.autoMerge merges the changesets changesetTemplate creates, and this spec has no changesetTemplate (imported changesets are never merged)',
    ],
    [
      'a list instead of a mapping',
      lines('- name: x'),
      '1:1: the spec must be a mapping of keys (name, on, steps, changesetTemplate, …)',
    ],
  ])('%s', (_what, text, expected) => {
    expect(diagnose(text)).toContainEqual(expected);
  });

  it('reports every error of a spec at once, in file order', () => {
    const found = diagnose(
      lines(
        'name: bad name',
        'on:',
        '  - repositoriesMatchingQuery: repoo:x',
        'steps:',
        '  - run: echo ${{ repo.name }}',
        '    container: alpine:3',
        'chagesetTemplate: {}',
      ),
    );
    expect(found.map((d) => d.split(': ')[0])).toEqual(['1:7', '3:32', '4:1', '5:19', '7:1']);
  });
  it('still checks queries, templates and branch names beside entries and fields that failed the schema', () => {
    const found = diagnose(
      lines(
        'name: ok',
        'on:',
        '  - repositoriesMatchingQuery: repo:foo(',
        '  - repository: github.com/acme/x',
        '    branch: main',
        '    branches: [a, b]',
        'steps:',
        '  - run: echo hi',
        '    container: alpine:3',
        '  - run: 42',
        'changesetTemplate:',
        '  title: Hi ${{ repository.name',
        '  body: x',
        '  branch: bad..branch',
        '  commit:',
        '    message: m',
        '  published: maybe',
      ),
    );
    expect(found.map((d) => d.split(': ')[0])).toEqual([
      '3:37',
      '6:15',
      '10:5',
      '12:13',
      '14:11',
      '17:14',
    ]);
  });
});

describe('parseCampaignSpec: warnings', () => {
  it.each<[string, string, string]>([
    [
      'an output no step defines',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: ${{ outputs.count }}',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
      '3:14: warning: "outputs.count" is not defined by any step; rendering fails unless one defines it',
    ],
    [
      'a published glob that matches no repository in on',
      lines(
        'name: x',
        'on:',
        '  - repository: github.com/a/b',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published:',
        '    - gitlab.com/*: true',
      ),
      '10:7: warning: "gitlab.com/*" matches no repository in "on"; this entry never applies',
    ],
    [
      'a published glob written without the host',
      lines(
        'name: x',
        'on:',
        '  - repository: github.com/a/b',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published:',
        '    - a/*: true',
      ),
      '10:7: warning: "a/*" matches no repository in "on": patterns are matched against HOST/OWNER/NAME; did you mean "github.com/a/*"?',
    ],
    [
      'a published glob without the host when a host of on is no valid glob',
      lines(
        'name: x',
        'on:',
        '  - repository: git{hub.com/a/b',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
        '  published:',
        '    - a/*: true',
      ),
      '10:7: warning: "a/*" matches no repository in "on"; this entry never applies',
    ],
    [
      'an approximated filter',
      lines('name: x', 'on:', '  - repositoriesMatchingQuery: foo(:[x]) patterntype:structural'),
      '3:42: warning: in the query: patterntype:structural is approximated',
    ],
    [
      'an if: that is never true',
      lines('name: x', 'steps:', '  - run: echo', '    container: alpine:3', '    if: sometimes') +
        TEMPLATE,
      '5:9: warning: steps[0].if is the text "sometimes", which is never "true": the step never runs',
    ],
    [
      'the legacy allow_network',
      lines(
        'name: x',
        'steps:',
        '  - run: echo',
        '    container: alpine:3',
        '    allow_network: true',
      ) + TEMPLATE,
      '5:5: warning: allow_network is ignored: steps always have network access',
    ],
  ])('%s', (_what, text, expected) => {
    const result = parseCampaignSpec(text);
    expect(result.errors).toEqual([]);
    expect(diagnose(text).some((d) => d.startsWith(expected))).toBe(true);
  });
});

describe('parseCampaignSpec: values as written', () => {
  it('reads unquoted branch names that look like numbers as written', () => {
    const spec = parseCampaignSpec(
      lines('name: x', 'on:', '  - repository: github.com/a/b', '    branches: [3.10, 3.2]'),
    ).spec!;
    expect(spec.on[0]).toEqual({ repository: 'github.com/a/b', branches: ['3.10', '3.2'] });
  });

  it('reads a quoted string whose lines are not indented, as the Go parser Sourcegraph uses does, with a warning', () => {
    const text = lines('name: x', 'description: "first', '', '`second`', 'third"', 'on: []');
    const result = parseCampaignSpec(text);
    expect(result.errors).toEqual([]);
    expect(result.spec!.description).toBe('first\n`second` third');
    expect(diagnose(text)).toEqual([
      '2:14: warning: this quoted string continues on lines indented no more than its key; YAML requires indenting them (read as if they were)',
    ]);
  });

  it('collapses duplicate on entries', () => {
    const spec = parseCampaignSpec(
      lines(
        'name: x',
        'on:',
        '  - repositoriesMatchingQuery: file:a',
        '  - repository: g.com/a/b',
        '  - repositoriesMatchingQuery: file:a',
        '  - repository: g.com/a/b',
      ),
    ).spec!;
    expect(spec.on).toEqual([{ repositoriesMatchingQuery: 'file:a' }, { repository: 'g.com/a/b' }]);
  });

  it('refuses a spec over 1 MiB before parsing it', () => {
    const huge = `name: x\ndescription: "${'a'.repeat(MAX_SPEC_BYTES)}"\n`;
    const result = parseCampaignSpec(huge);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ line: 1, column: 1 });
    expect(result.errors[0]!.message).toMatch(
      /^the spec is \d+ bytes; the limit is 1048576 bytes \(1 MiB\)/,
    );
  });

  it('counts bytes, not characters, against the limit', () => {
    const text = `name: x\ndescription: "${'é'.repeat(MAX_SPEC_BYTES / 2)}"\n`;
    expect(text.length).toBeLessThan(MAX_SPEC_BYTES);
    expect(parseCampaignSpec(text).errors[0]?.message).toMatch(/^the spec is \d+ bytes/);
  });

  it('is not fooled by keys that are JavaScript internals', () => {
    const result = parseCampaignSpec(lines('name: x', '__proto__:', '  polluted: true'));
    expect(diagnose(lines('name: x', '__proto__:', '  polluted: true'))).toContainEqual(
      '2:1: unknown key "__proto__"',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(result.spec).toBeUndefined();
  });
});
