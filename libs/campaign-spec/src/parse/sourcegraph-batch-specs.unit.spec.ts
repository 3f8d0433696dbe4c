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
});
