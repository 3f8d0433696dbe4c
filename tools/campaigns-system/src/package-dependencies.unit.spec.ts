import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const ROOT = process.cwd();
const require = createRequire(join(ROOT, 'package.json'));
const BUILTIN = new Set(builtinModules);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(name)) out.push(path);
  }
  return out;
}

/** The package a bare import names (`@scope/name/sub` → `@scope/name`); null for relative and built-in ones. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:') || BUILTIN.has(specifier.split('/')[0]!)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** What a workspace package's production code and its tests import, by package. */
function importsOf(dir: string): { production: Set<string>; tests: Set<string> } {
  const production = new Set<string>();
  const tests = new Set<string>();
  for (const file of sourceFiles(join(dir, 'src'))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const isTest = /\.spec\.ts$/.test(file) || file.includes('/test-support/');
    for (const { fileName } of importedFiles) {
      const pkg = packageOf(fileName);
      if (pkg !== null) (isTest ? tests : production).add(pkg);
    }
  }
  return { production, tests };
}

/** Peer dependencies of `pkg` (installed for it, e.g. reflect-metadata for NestJS). */
function peersOf(pkg: string, from: string): string[] {
  try {
    const manifest = readJson(require.resolve(`${pkg}/package.json`, { paths: [from] }));
    return Object.keys(manifest.peerDependencies ?? {});
  } catch {
    return []; // packages whose exports hide package.json declare no peers we rely on
  }
}

const workspaces = ['libs', 'services', 'apps', 'tools'].flatMap((group) =>
  readdirSync(join(ROOT, group))
    .map((name) => join(ROOT, group, name))
    .filter((dir) => {
      try {
        return (
          statSync(join(dir, 'package.json')).isFile() && statSync(join(dir, 'src')).isDirectory()
        );
      } catch {
        return false;
      }
    }),
);

describe("each package's package.json", () => {
  const root = readJson(join(ROOT, 'package.json'));

  it.each(workspaces.map((dir) => [dir.slice(ROOT.length + 1), dir]))(
    '%s lists what it imports, and nothing more',
    (_name, dir) => {
      const manifest = readJson(join(dir, 'package.json'));
      const deps = new Set(Object.keys(manifest.dependencies ?? {}));
      const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
      const rootDev = new Set(Object.keys(root.devDependencies ?? {}));
      const { production, tests } = importsOf(dir);
      production.delete(manifest.name);
      tests.delete(manifest.name);

      const unlisted = [...production].filter((p) => !deps.has(p));
      const unlistedInTests = [...tests].filter(
        (p) => !deps.has(p) && !dev.has(p) && !rootDev.has(p),
      );
      const peers = new Set([...production].flatMap((p) => peersOf(p, dir)));
      const unused = [...deps].filter(
        (d) => !production.has(d) && !peers.has(d) && !d.startsWith('@types/'),
      );
      expect({ unlisted, unlistedInTests, unused }).toEqual({
        unlisted: [],
        unlistedInTests: [],
        unused: [],
      });
    },
  );
});
