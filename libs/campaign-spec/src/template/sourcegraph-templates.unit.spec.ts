import { describe, expect, it } from '@jest/globals';
import { evaluateCondition, parseTemplate, type TemplateValue } from './index.js';
import { failure, render, workspaceData } from './test-support/render.js';

describe('Sourcegraph batch spec templates', () => {
  describe('every template variable renders from workspace data', () => {
    it.each([
      ['repository.name', 'github.com/sourcegraph/src-cli'],
      ['repository.branch', 'main'],
      // Sourcegraph's own list type for these paths prints them separated by spaces.
      ['repository.search_result_paths', 'README.md cmd/src/main.go'],
      ['batch_change.name', 'test-batch-change'],
      ['batch_change.description', 'This batch change is just an experiment'],
      ['campaign.name', 'test-batch-change'],
      ['campaign.description', 'This batch change is just an experiment'],
      ['steps.path', 'sub/directory/of/repo'],
      ['steps.modified_files', '[go.mod cmd/src/main.go]'],
      ['steps.added_files', '[main.go.swp]'],
      ['steps.deleted_files', '[.DS_Store]'],
      ['steps.renamed_files', '[new-filename.txt]'],
      ['previous_step.stdout', "this is previous step's stdout"],
      ['previous_step.stderr', "this is previous step's stderr"],
      ['previous_step.modified_files', '[go.mod cmd/src/main.go]'],
      ['previous_step.added_files', '[main.go.swp]'],
      ['previous_step.deleted_files', '[.DS_Store]'],
      ['previous_step.renamed_files', '[new-filename.txt]'],
      ['step.stdout', "this is current step's stdout\n"],
      ['step.stderr', "this is current step's stderr"],
      ['step.modified_files', '[go.mod cmd/src/main.go]'],
      ['step.added_files', '[main.go.swp]'],
      ['step.deleted_files', '[.DS_Store]'],
      ['step.renamed_files', '[new-filename.txt]'],
      ['outputs.lastLine', 'lastLine is this'],
      ['outputs.headerCount', '42'],
      ['outputs.project.dist', 'release'],
      ['outputs.project.env', '[GO111MODULE=on CGO_ENABLED=0]'],
      ['outputs.project.before.hooks', '[go mod download go mod tidy go generate ./schema]'],
      ['outputs.packageManagers.usesYarn', 'true'],
      ['outputs.packageManagers.count', '2'],
      ['batch_change_link', '[campaign](https://campaigns.example.com/acme/test-batch-change)'],
    ])('%s', (variable, expected) => {
      expect(render(`\${{ ${variable} }}`, workspaceData())).toBe(expected);
      // The dotted spelling reads the same data.
      expect(render(`\${{ .${variable} }}`, workspaceData())).toBe(expected);
    });
  });

  describe('the templates of the shared example specs', () => {
    it.each([
      ['license-headers: output value', '${{ step.stdout }}', "this is current step's stdout\n"],
      [
        'license-headers: changeset body',
        'This adds SPDX headers to TypeScript files in ${{ repository.name }}.\nFiles now carrying a header: ${{ outputs.headerCount }}\nModified: ${{ join steps.modified_files ", " }}\n',
        'This adds SPDX headers to TypeScript files in github.com/sourcegraph/src-cli.\nFiles now carrying a header: 42\nModified: go.mod, cmd/src/main.go\n',
      ],
      ['bump-node-engines: step if', '${{ matches repository.name "github.com/acme/*" }}', 'false'],
      [
        'bump-node-engines: title',
        'Require Node ${{ "20" }} in ${{ steps.path }}',
        'Require Node 20 in sub/directory/of/repo',
      ],
    ])('%s', (_name, source, expected) => {
      expect(render(source, workspaceData())).toBe(expected);
    });
  });

  describe("examples from Sourcegraph's documentation and batch-change-examples", () => {
    it.each([
      [
        'search result paths as arguments',
        'comby -in-place \'fmt.Sprintf("%d", :[v])\' \'strconv.Itoa(:[v])\' ${{ join repository.search_result_paths " " }}',
        "comby -in-place 'fmt.Sprintf(\"%d\", :[v])' 'strconv.Itoa(:[v])' README.md cmd/src/main.go",
      ],
      [
        'files modified by the previous step',
        'goimports -w ${{ join previous_step.modified_files " " }}',
        'goimports -w go.mod cmd/src/main.go',
      ],
      [
        'search results into a file',
        '${{ join repository.search_result_paths "\\n" }}',
        'README.md\ncmd/src/main.go',
      ],
      [
        'comma-separated paths',
        '-f ${{ join repository.search_result_paths "," }}',
        '-f README.md,cmd/src/main.go',
      ],
      [
        'bare search result paths in a shell loop',
        'for result in ${{repository.search_result_paths}};',
        'for result in README.md cmd/src/main.go;',
      ],
      ['previous stdout into env', '${{ previous_step.stdout }}', "this is previous step's stdout"],
      [
        'a list printed in a description',
        "--description 'Modify ${{ previous_step.modified_files }}'",
        "--description 'Modify [go.mod cmd/src/main.go]'",
      ],
      ['escaping the delimiters', '${{ "${{" }} ${{ "}}" }}', '${{ }}'],
      [
        'a GitHub Actions expression kept verbatim',
        'src lsif upload -github-token=${{ "\\\\${{secrets.GITHUB_TOKEN}}" }}',
        'src lsif upload -github-token=\\${{secrets.GITHUB_TOKEN}}',
      ],
      [
        'literal delimiters in a quoted string',
        '${{ "${{ leave me alone! }}" }}',
        '${{ leave me alone! }}',
      ],
      [
        'an output computed with gt and len',
        'exists: ${{ gt (len step.stderr) 0 }}',
        'exists: true',
      ],
      [
        'branch from the workspace path',
        'batch-changes/update-typescript-${{ replace steps.path "/" "-" }}',
        'batch-changes/update-typescript-sub-directory-of-repo',
      ],
      [
        'branch with join_if',
        '${{ join_if "-" "thorsten/workspace-discovery" (replace steps.path "/" "-") }}',
        'thorsten/workspace-discovery-sub-directory-of-repo',
      ],
      [
        'a name from a JSON output',
        'thorsten/variables-${{ outputs.project.dist }}',
        'thorsten/variables-release',
      ],
      [
        'repository name in a file',
        'Repository = "${{repository.name}}"',
        'Repository = "github.com/sourcegraph/src-cli"',
      ],
      ['batch change name as branch', '${{ batch_change.name }}', 'test-batch-change'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, workspaceData())).toBe(expected);
    });

    it('ranges over the hooks of a YAML output in a changeset body', () => {
      const body = [
        'This repository has a `gorelaserConfig`: ${{ outputs.packageManagers.usesYarn }}.',
        '',
        'The `goreleaser.yml` defines the following `before.hooks`:',
        '',
        '${{ range $index, $hook := outputs.project.before.hooks }}',
        '- `${{ $hook }}`',
        '${{ end }}',
      ].join('\n');
      expect(render(body, workspaceData())).toBe(
        [
          'This repository has a `gorelaserConfig`: true.',
          '',
          'The `goreleaser.yml` defines the following `before.hooks`:',
          '',
          '',
          '- `go mod download`',
          '',
          '- `go mod tidy`',
          '',
          '- `go generate ./schema`',
          '',
        ].join('\n'),
      );
    });

    it('chooses a branch name with if/else on an output', () => {
      const branch = [
        '${{ if eq outputs.projectName "" }}',
        '${{ join_if "-" "thorsten/workspace-discovery" (replace steps.path "/" "-") }}',
        '${{ else }}',
        'thorsten/workspace-discovery-${{ outputs.projectName }}',
        '${{ end }}',
      ].join('\n');
      const data = workspaceData();
      const withName = { ...data, outputs: { projectName: 'web-app' } };
      const withoutName = { ...data, outputs: { projectName: '' } };
      expect(render(branch, withName).trim()).toBe('thorsten/workspace-discovery-web-app');
      expect(render(branch, withoutName).trim()).toBe(
        'thorsten/workspace-discovery-sub-directory-of-repo',
      );
    });

    it('lists added files only in one repository', () => {
      const body = [
        '${{ batch_change.description }}',
        '${{ if eq repository.name "github.com/sourcegraph/src-cli" }}',
        '  ${{ range $index, $file := steps.added_files }}',
        '    - ${{ $file }}',
        '  ${{ end }}',
        '${{end}}',
      ].join('\n');
      expect(render(body, workspaceData())).toBe(
        'This batch change is just an experiment\n\n  \n    - main.go.swp\n  \n',
      );
    });

    it("renders Sourcegraph's own templating test case the same way", () => {
      // lib/batches/template/templating_test.go, "lower-case aliases" for a step.
      const data: Record<string, TemplateValue> = {
        repository: {
          name: 'github.com/sourcegraph/src-cli',
          search_result_paths: ['README.md', 'main.go'],
        },
        batch_change: {
          name: 'test-batch-change',
          description: 'This batch change is just an experiment',
        },
        previous_step: {
          modified_files: ['go.mod'],
          added_files: ['main.go.swp'],
          deleted_files: ['.DS_Store'],
          renamed_files: ['new-filename.txt'],
          stdout: "this is previous step's stdout",
          stderr: "this is previous step's stderr",
        },
        outputs: {
          lastLine: 'lastLine is this',
          project: { dist: 'release', env: ['GO111MODULE=on', 'CGO_ENABLED=0'] },
        },
        step: {
          modified_files: ['go.mod'],
          added_files: ['main.go.swp'],
          deleted_files: ['.DS_Store'],
          renamed_files: ['new-filename.txt'],
          stdout: "this is current step's stdout",
          stderr: "this is current step's stderr",
        },
        steps: {
          modified_files: ['go.mod'],
          added_files: ['main.go.swp'],
          deleted_files: ['.DS_Store'],
          renamed_files: ['new-filename.txt'],
          path: 'sub/directory/of/repo',
        },
      };
      const run = [
        '${{ repository.search_result_paths }}',
        '${{ repository.name }}',
        '${{ batch_change.name }}',
        '${{ batch_change.description }}',
        '${{ previous_step.modified_files }}',
        '${{ previous_step.added_files }}',
        '${{ previous_step.deleted_files }}',
        '${{ previous_step.renamed_files }}',
        '${{ previous_step.stdout }}',
        '${{ previous_step.stderr}}',
        '${{ outputs.lastLine }}',
        '${{ index outputs.project.env 1 }}',
        '${{ step.modified_files }}',
        '${{ step.added_files }}',
        '${{ step.deleted_files }}',
        '${{ step.renamed_files }}',
        '${{ step.stdout}}',
        '${{ step.stderr}}',
        '${{ steps.modified_files }}',
        '${{ steps.added_files }}',
        '${{ steps.deleted_files }}',
        '${{ steps.renamed_files }}',
        '${{ steps.path }}',
        '',
      ].join('\n');
      expect(render(run, data)).toBe(
        [
          'README.md main.go',
          'github.com/sourcegraph/src-cli',
          'test-batch-change',
          'This batch change is just an experiment',
          '[go.mod]',
          '[main.go.swp]',
          '[.DS_Store]',
          '[new-filename.txt]',
          "this is previous step's stdout",
          "this is previous step's stderr",
          'lastLine is this',
          'CGO_ENABLED=0',
          '[go.mod]',
          '[main.go.swp]',
          '[.DS_Store]',
          '[new-filename.txt]',
          "this is current step's stdout",
          "this is current step's stderr",
          '[go.mod]',
          '[main.go.swp]',
          '[.DS_Store]',
          '[new-filename.txt]',
          'sub/directory/of/repo',
          '',
        ].join('\n'),
      );
    });
  });

  describe('missing variables', () => {
    it('a missing key inside a known namespace renders as nothing (Go would print <no value>)', () => {
      expect(render('[${{ repository.branch }}]', { repository: { name: 'x' } })).toBe('[]');
      expect(render('[${{ outputs.project.nothing }}]', workspaceData())).toBe('[]');
    });

    it('a missing output is an error that names it, where it is written, with a suggestion', () => {
      const error = failure('Count: ${{ outputs.headerCont }}', workspaceData());
      expect(error).toMatchObject({ code: 'missing-output', at: '1:12' });
      expect(error.message).toContain('output "headerCont" is not defined');
      expect(error.message).toContain('did you mean outputs.headerCount?');
      expect(failure('${{ range $x := outputs.nope }}${{ end }}', workspaceData())).toMatchObject({
        code: 'missing-output',
        at: '1:17',
      });
    });

    it('index probes an output without failing', () => {
      const source = '${{ if index outputs "maybe" }}has it${{ else }}none${{ end }}';
      expect(render(source, workspaceData())).toBe('none');
      expect(render(source, { ...workspaceData(), outputs: { maybe: 'x' } })).toBe('has it');
    });

    it('an unknown namespace is an error when parsing, and when written with a dot, when rendering', () => {
      expect(failure('${{ repo.name }}', workspaceData())).toMatchObject({
        code: 'unknown-name',
        at: '1:5',
      });
      const dotted = failure('${{ .repo.name }}', workspaceData());
      expect(dotted).toMatchObject({ code: 'unknown-namespace', at: '1:5' });
      expect(dotted.message).toContain('did you mean "repository"?');
    });

    it('a namespace the data does not hold is an error, not an empty value', () => {
      const { previous_step: _omitted, ...firstStep } = workspaceData();
      expect(failure('${{ previous_step.stdout }}', firstStep)).toMatchObject({
        code: 'missing-namespace',
        at: '1:5',
      });
    });

    it('campaign and batch_change stand for each other', () => {
      expect(render('${{ campaign.name }}', { batch_change: { name: 'b' } })).toBe('b');
      expect(render('${{ batch_change.name }}', { campaign: { name: 'c' } })).toBe('c');
    });
  });

  describe('step conditions (if:) follow Sourcegraph: true only when the rendered text is "true"', () => {
    it.each<[string, boolean]>([
      ['', true],
      ['true', true],
      ['  true \n', true],
      ['TRUE', false],
      ['false', false],
      ['yes', false],
      ['${{ "" }}', false],
      ['${{ true }}', true],
      ['${{ eq repository.name "github.com/sourcegraph/src-cli" }}', true],
      ['${{ eq steps.path "sub/directory/of/repo" }}', true],
      ['${{ matches repository.name "github.com/sourcegraph/*" }}', true],
      ['${{ matches repository.name "*sourcegraph-testing*" }}', false],
      // An output captured from `echo true` ends with a newline.
      ['${{ outputs.goModExists }}', true],
      ['${{ outputs.packageManagers.usesYarn }}', true],
      ['${{ outputs.packageManagers.usesNPM }}', false],
      ['${{ outputs.headerCount }}', false],
    ])('%j is %j', (condition, expected) => {
      expect(evaluateCondition(parseTemplate(condition), workspaceData())).toBe(expected);
    });
  });
});
