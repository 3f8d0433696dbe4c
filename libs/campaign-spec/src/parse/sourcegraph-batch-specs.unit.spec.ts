import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { sourcegraphSpecsDirectory, yamlFilesIn } from '../test-support/fixtures.js';
import { parseCampaignSpec } from './parse-campaign-spec.js';

// A Sourcegraph batch spec is a valid campaign spec, unchanged: that is how teams move over. The
// exception is what Sourcegraph's own server-side execution refuses too: `steps[].mount` (the
// local files it names never reach the executors), refused here with the step it is in.
const MOUNTS: Record<string, string[]> = { 'env-files-and-mount.batch.yaml': ['42:5 steps[5]'] };

describe('Sourcegraph batch specs', () => {
  it.each(yamlFilesIn(sourcegraphSpecsDirectory))(
    '%s validates unchanged (but for a refused mount)',
    (file, text) => {
      const result = parseCampaignSpec(text, join(sourcegraphSpecsDirectory, file));
      expect(
        result.errors.map((e) => `${e.line}:${e.column} ${e.message.split('.mount ')[0]}`),
      ).toEqual(MOUNTS[file] ?? []);
      for (const e of result.errors) expect(e.message).toMatch(/\.mount is not supported: /);
      if (MOUNTS[file] === undefined) expect(result.spec).toBeDefined();
    },
  );

  it('names its source in every test file', () => {
    for (const [file, text] of yamlFilesIn(sourcegraphSpecsDirectory)) {
      expect([file, text.split('\n')[0]]).toEqual([file, expect.stringMatching(/^# Follows: \S/)]);
    }
  });
});
