import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { examplesDirectory, yamlFilesIn } from '../test-support/fixtures.js';
import { parseCampaignSpec } from './parse-campaign-spec.js';
import type { CampaignSpecParseResult } from './parse-campaign-spec.js';

/** Bad input gives a result or positioned errors: never a throw, never a position outside the text. */
function expectWellFormed(text: string, result: CampaignSpecParseResult): void {
  const lineCount = text.split('\n').length;
  for (const d of [...result.errors, ...result.warnings]) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lineCount);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.message).not.toMatch(/internal error|\n\s+at /);
  }
  expect(result.spec === undefined).toBe(result.errors.length > 0);
}

const keys = fc.constantFrom(
  'name',
  'version',
  'description',
  'on',
  'workspaces',
  'steps',
  'transformChanges',
  'importChangesets',
  'changesetTemplate',
  'repositoriesMatchingQuery',
  'repository',
  'branch',
  'branches',
  'run',
  'container',
  'env',
  'files',
  'outputs',
  'if',
  'mount',
  'value',
  'format',
  'group',
  'directory',
  'title',
  'body',
  'commit',
  'message',
  'author',
  'email',
  'published',
  'externalIDs',
  'rootAtLocationOf',
  'in',
  '__proto__',
);
const scalars = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '${{ repository.name }}',
    '${{ repo.x }}',
    '${{',
    'draft',
    'repo:(x',
    'file:a OR (b',
    '3.10',
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const specLike: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalars, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(keys, tie('value'), { maxKeys: 6 }),
})).value;

describe('parseCampaignSpec never crashes', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => {
        expectWellFormed(text, parseCampaignSpec(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('on arbitrary YAML made of spec keys and awkward values', () => {
    fc.assert(
      fc.property(specLike, (value) => {
        const text = stringify(value);
        expectWellFormed(text, parseCampaignSpec(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('on the examples with a few characters changed', () => {
    const texts = yamlFilesIn(examplesDirectory).map(([, text]) => text);
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom(' ', '\n', ':', '-', '"', "'", '{', '[', '|', '\t', 'x', ''),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (text, edits) => {
          let mutated = text;
          for (const [at, ch] of edits) {
            const i = at % (mutated.length + 1);
            mutated = mutated.slice(0, i) + ch + mutated.slice(i + 1);
          }
          expectWellFormed(mutated, parseCampaignSpec(mutated));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('on documents made to explode: aliases of aliases and deep nesting', () => {
    const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `${'b'.repeat(i)}: &${'a'.repeat(i + 1)} [${Array(10)
          .fill(`*${'a'.repeat(i)}`)
          .join(',')}]`,
      );
    const deep = `name: x\ndescription: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    for (const text of [`${laughs.join('\n')}\n`, deep]) {
      const result = parseCampaignSpec(text);
      expect(result.errors.length).toBeGreaterThan(0);
      expectWellFormed(text, result);
    }
  });
});
