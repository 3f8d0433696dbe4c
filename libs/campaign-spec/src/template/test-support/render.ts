import {
  parseTemplate,
  renderTemplate,
  TemplateError,
  type TemplateErrorCode,
  type TemplateOptions,
  type TemplateValue,
} from '../index.js';

type Data = Readonly<Record<string, TemplateValue>>;

/** Parses and renders in one go, as most tests want. */
export function render(source: string, data: Data = {}, options?: TemplateOptions): string {
  return renderTemplate(parseTemplate(source), data, options);
}

export interface Failure {
  code: TemplateErrorCode;
  /** `line:column` of the error, for compact assertions. */
  at: string;
  token: string;
  message: string;
}

/** The TemplateError that parsing or rendering `source` throws; fails the test if none is thrown. */
export function failure(source: string, data: Data = {}, options?: TemplateOptions): Failure {
  try {
    const output = render(source, data, options);
    throw new Error(
      `expected ${JSON.stringify(source)} to fail, but it rendered ${JSON.stringify(output)}`,
    );
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return {
      code: error.code,
      at: `${error.position.line}:${error.position.column}`,
      token: error.token,
      message: error.message,
    };
  }
}

/** What a step in a Sourcegraph-style workspace would see: every namespace filled in. */
export function workspaceData(): Record<string, TemplateValue> {
  const changes = {
    modified_files: ['go.mod', 'cmd/src/main.go'],
    added_files: ['main.go.swp'],
    deleted_files: ['.DS_Store'],
    renamed_files: ['new-filename.txt'],
  };
  return {
    repository: {
      name: 'github.com/sourcegraph/src-cli',
      branch: 'main',
      search_result_paths: ['README.md', 'cmd/src/main.go'],
    },
    batch_change: {
      name: 'test-batch-change',
      description: 'This batch change is just an experiment',
    },
    previous_step: {
      ...changes,
      stdout: "this is previous step's stdout",
      stderr: "this is previous step's stderr",
    },
    step: {
      ...changes,
      stdout: "this is current step's stdout\n",
      stderr: "this is current step's stderr",
    },
    steps: { ...changes, path: 'sub/directory/of/repo' },
    outputs: {
      lastLine: 'lastLine is this',
      headerCount: '42',
      goModExists: 'true\n',
      // A YAML output (format: yaml) parsed into data, as in Sourcegraph's own tests.
      project: {
        dist: 'release',
        env: ['GO111MODULE=on', 'CGO_ENABLED=0'],
        before: { hooks: ['go mod download', 'go mod tidy', 'go generate ./schema'] },
      },
      // A JSON output (format: json).
      packageManagers: { usesYarn: true, usesNPM: false, count: 2 },
    },
    batch_change_link: '[campaign](https://campaigns.example.com/acme/test-batch-change)',
  };
}
