// Seeds many synthetic repositories fast: one `git fast-import` writes every repository's commit
// into the shared object store (files common to a template are written once; each repository's
// README.md and package.json are its own), then each repository is a handful of small files that
// point at its commit and borrow objects through `objects/info/alternates`.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gitEnv } from './git.js';
import type { RepoStore } from './repo-store.js';

export interface SyntheticRepoSpec {
  owner: string;
  name: string;
  template: SyntheticTemplate;
  /** Every file of the repository's first commit. */
  files: Record<string, string>;
  language: string | null;
  topics: string[];
  archived: boolean;
  fork: boolean;
  description: string;
}

export type SyntheticTemplate =
  'node-library' | 'node-monorepo' | 'javascript-app' | 'go-service' | 'python-package';

const SHARED_FILES: Record<SyntheticTemplate, Record<string, string>> = {
  'node-library': {
    'src/index.ts': "export { greet } from './greet.js';\n",
    'src/greet.ts':
      'export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n',
    'test/greet.test.ts':
      "import { greet } from '../src/greet.js';\n\ntest('greets', () => expect(greet('a')).toBe('Hello, a!'));\n",
    'tsconfig.json': '{\n  "compilerOptions": { "strict": true, "module": "NodeNext" }\n}\n',
    '.gitignore': 'node_modules\ndist\n',
  },
  'node-monorepo': {
    'packages/core/package.json':
      '{\n  "name": "@mono/core",\n  "version": "1.0.0",\n  "main": "src/index.ts"\n}\n',
    'packages/core/src/index.ts': 'export const VERSION = "1.0.0";\n',
    'packages/cli/package.json':
      '{\n  "name": "@mono/cli",\n  "version": "1.0.0",\n  "dependencies": { "@mono/core": "1.0.0", "lodash": "^4.17.21" }\n}\n',
    'packages/cli/src/main.ts': "import { VERSION } from '@mono/core';\nconsole.log(VERSION);\n",
    'packages/web/package.json':
      '{\n  "name": "@mono/web",\n  "version": "1.0.0",\n  "dependencies": { "react": "^18.2.0" }\n}\n',
    'packages/web/src/app.tsx': 'export const App = () => null;\n',
    '.gitignore': 'node_modules\n',
  },
  'javascript-app': {
    'index.js': "const { start } = require('./lib/server');\nstart(process.env.PORT || 3000);\n",
    'lib/server.js':
      "const http = require('http');\nexports.start = (port) => http.createServer((_, res) => res.end('ok')).listen(port);\n",
    '.gitignore': 'node_modules\n',
  },
  'go-service': {
    'go.mod': 'module example.com/service\n\ngo 1.22\n',
    'main.go': 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello")\n}\n',
    'internal/handler/handler.go':
      'package handler\n\n// Handle answers requests.\nfunc Handle() string { return "ok" }\n',
  },
  'python-package': {
    'setup.py': 'from setuptools import setup\n\nsetup(name="pkg", version="1.0.0")\n',
    'pkg/__init__.py': '__version__ = "1.0.0"\n',
    'pkg/main.py': 'def main():\n    print("hello")\n',
    'requirements.txt': 'requests==2.31.0\n',
  },
};

const LANGUAGES: Record<SyntheticTemplate, string> = {
  'node-library': 'TypeScript',
  'node-monorepo': 'TypeScript',
  'javascript-app': 'JavaScript',
  'go-service': 'Go',
  'python-package': 'Python',
};

/** A deterministic mix: mostly Node libraries, a fifth monorepos, some other languages. */
const TEMPLATE_CYCLE: SyntheticTemplate[] = [
  'node-library',
  'node-library',
  'node-monorepo',
  'javascript-app',
  'node-library',
  'go-service',
  'node-library',
  'node-monorepo',
  'python-package',
  'node-library',
];

/** The synthetic repositories `seedSynthetic` creates: `owner/repo-00001` … */
export function syntheticRepoSpecs(
  owner: string,
  count: number,
  prefix = 'repo',
): SyntheticRepoSpec[] {
  const width = Math.max(5, String(count).length);
  return Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${String(i + 1).padStart(width, '0')}`;
    const template = TEMPLATE_CYCLE[i % TEMPLATE_CYCLE.length]!;
    const description = `Synthetic ${template} number ${i + 1}`;
    const files: Record<string, string> = {
      'README.md': `# ${name}\n\n${description}.\n`,
      ...SHARED_FILES[template],
    };
    if (template !== 'go-service' && template !== 'python-package') {
      const pkg: Record<string, unknown> = { name, version: '1.0.0', private: true };
      if (template === 'node-monorepo') pkg.workspaces = ['packages/*'];
      else pkg.dependencies = { lodash: i % 3 === 0 ? '^4.17.21' : '^4.17.15' };
      files['package.json'] = `${JSON.stringify(pkg, null, 2)}\n`;
    }
    return {
      owner,
      name,
      template,
      files,
      language: LANGUAGES[template],
      topics: template === 'node-monorepo' ? ['monorepo'] : [],
      archived: i % 50 === 49,
      fork: i % 40 === 39,
      description,
    };
  });
}

/**
 * Writes one commit per spec into the shared store with a single fast-import and returns the
 * commit sha of each spec (same order). Shared files are written once and referenced by mark.
 * With `featureBranch`, each spec also gets a second commit on top (one changed file), so
 * pull requests can be opened without any per-repository git work.
 */
export async function writeSyntheticCommits(
  store: RepoStore,
  specs: SyntheticRepoSpec[],
  author: { name: string; email: string },
  featureBranch?: string,
): Promise<{ main: string; feature: string | null }[]> {
  const gitDir = store.sharedObjectsDir;
  const marksFile = join(gitDir, `seed-marks-${Date.now()}`);
  const child = spawn('git', ['fast-import', '--quiet', '--done', `--export-marks=${marksFile}`], {
    cwd: gitDir,
    env: gitEnv({ GIT_DIR: gitDir }),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });

  let chunk: string[] = [];
  let size = 0;
  const write = async (text: string) => {
    chunk.push(text);
    size += text.length;
    if (size > 1 << 20) await flush();
  };
  const flush = async () => {
    const data = chunk.join('');
    chunk = [];
    size = 0;
    if (!child.stdin.write(data)) await new Promise((r) => child.stdin.once('drain', r));
  };
  const data = (content: string) => `data ${Buffer.byteLength(content)}\n${content}\n`;

  let mark = 0;
  const sharedMarks = new Map<string, number>(); // content → mark
  for (const files of Object.values(SHARED_FILES)) {
    for (const content of Object.values(files)) {
      if (sharedMarks.has(content)) continue;
      sharedMarks.set(content, ++mark);
      await write(`blob\nmark :${mark}\n${data(content)}`);
    }
  }
  const timestamp = `${Math.floor(Date.UTC(2024, 0, 1) / 1000)} +0000`;
  const commitMarks: [number, number | null][] = [];
  for (const spec of specs) {
    const commitMark = ++mark;
    const featureMark = featureBranch ? ++mark : null;
    commitMarks.push([commitMark, featureMark]);
    let text = `reset refs/seed/all\ncommit refs/seed/all\nmark :${commitMark}\n`;
    text += `author ${author.name} <${author.email}> ${timestamp}\ncommitter ${author.name} <${author.email}> ${timestamp}\n`;
    text += data('Initial commit');
    for (const [path, content] of Object.entries(spec.files)) {
      const shared = sharedMarks.get(content);
      text +=
        shared !== undefined
          ? `M 100644 :${shared} ${path}\n`
          : `M 100644 inline ${path}\n${data(content)}`;
    }
    if (featureMark !== null) {
      text += `\ncommit refs/seed/all\nmark :${featureMark}\n`;
      text += `author ${author.name} <${author.email}> ${timestamp}\ncommitter ${author.name} <${author.email}> ${timestamp}\n`;
      text += data(`Update ${featureBranch}`);
      text += `from :${commitMark}\nM 100644 inline CHANGELOG.md\n${data(`# ${spec.name}\n\n- ${featureBranch}\n`)}`;
    }
    await write(text + '\n');
  }
  await write('done\n');
  await flush();
  child.stdin.end();
  const code = await exited;
  if (code !== 0)
    throw new Error(`git fast-import failed (${code}): ${Buffer.concat(stderr).toString()}`);
  const marks = new Map<number, string>();
  for (const line of (await readFile(marksFile, 'utf8')).split('\n')) {
    const [m, sha] = line.split(' ');
    if (m && sha) marks.set(Number(m.slice(1)), sha);
  }
  await rm(marksFile, { force: true });
  return commitMarks.map(([m, f]) => {
    const main = marks.get(m)!;
    const feature = f === null ? null : marks.get(f)!;
    // Each initial commit is a root (reset before it); the feature commit sits on it.
    store.rememberCommit(main, []);
    if (feature !== null) store.rememberCommit(feature, [main]);
    return { main, feature };
  });
}
