import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { sourcegraphSpecsDirectory, yamlFilesIn } from '../test-support/fixtures.js';
import { parseCampaignSpec } from './parse-campaign-spec.js';

// A Sourcegraph batch spec is a valid campaign spec, unchanged: that is how teams move over.

describe('Sourcegraph batch specs', () => {
  it.each(yamlFilesIn(sourcegraphSpecsDirectory))('%s validates unchanged', (file, text) => {
    const result = parseCampaignSpec(text, join(sourcegraphSpecsDirectory, file));
    expect(result.errors).toEqual([]);
    expect(result.spec).toBeDefined();
  });

  it('names its source in every test file', () => {
    for (const [file, text] of yamlFilesIn(sourcegraphSpecsDirectory)) {
      expect([file, text.split('\n')[0]]).toEqual([file, expect.stringMatching(/^# Follows: \S/)]);
    }
  });

  // Sourcegraph's own files (e.g. a checkout of sourcegraph/batch-change-examples) are not part of
  // this repository; point SOURCEGRAPH_BATCH_SPECS at a directory of them to check them as well.
  const external = process.env.SOURCEGRAPH_BATCH_SPECS;
  const externalFiles = external ? yamlFilesUnder(external) : [];
  (externalFiles.length > 0
    ? it.each(externalFiles)
    : it.skip.each([['(set SOURCEGRAPH_BATCH_SPECS)']]))(
    '%s from SOURCEGRAPH_BATCH_SPECS validates unchanged',
    (path) => {
      const result = parseCampaignSpec(readFileSync(path, 'utf8'), path);
      expect(result.errors).toEqual([]);
    },
  );
});

function yamlFilesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .map((f) => join(directory, f))
    .filter((f) => /\.ya?ml$/.test(f) && statSync(f).isFile())
    .sort();
}
