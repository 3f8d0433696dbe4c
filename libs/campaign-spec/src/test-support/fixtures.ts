import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, type SpecDiagnostic } from '../parse/diagnostics.js';
import { parseCampaignSpec } from '../parse/parse-campaign-spec.js';

/** The repository's root directory. */
export const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The example specs in examples/ (with the yaml-language-server modeline). */
export const examplesDirectory = `${repositoryRoot}examples/`;

/** Our own specs in Sourcegraph's format, see test-data/sourcegraph/README.md. */
export const sourcegraphSpecsDirectory = fileURLToPath(
  new URL('../../test-data/sourcegraph/', import.meta.url),
);

/** `[fileName, text]` of every YAML file in a directory. */
export function yamlFilesIn(directory: string): [string, string][] {
  return readdirSync(directory)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => [f, readFileSync(`${directory}${f}`, 'utf8')]);
}

/** A spec written line by line, as it appears in a file. */
export function lines(...content: string[]): string {
  return `${content.join('\n')}\n`;
}

/** Diagnostics as `LINE:COL: message` (warnings marked), in file order. */
export function diagnose(text: string, fileName = 'spec.yaml'): string[] {
  const result = parseCampaignSpec(text, fileName);
  return [...result.errors, ...result.warnings]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map((d: SpecDiagnostic) => formatDiagnostic('', d).slice(1));
}
