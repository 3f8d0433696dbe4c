import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import {
  examplesDirectory,
  lines,
  repositoryRoot,
  sourcegraphSpecsDirectory,
  yamlFilesIn,
} from '../test-support/fixtures.js';
import { formattedCampaignSpecJsonSchema } from '../test-support/json-schema-file.js';
import { campaignSpecJsonSchema, JSON_SCHEMA_PATH } from './json-schema.js';

const committedPath = `${repositoryRoot}${JSON_SCHEMA_PATH}`;
const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(committedPath, 'utf8')),
);

describe('the JSON Schema', () => {
  it(`is committed at ${JSON_SCHEMA_PATH} exactly as the zod definition generates it`, async () => {
    // If this fails: node --import tsx libs/campaign-spec/scripts/generate-schema.ts
    expect(readFileSync(committedPath, 'utf8')).toBe(
      await formattedCampaignSpecJsonSchema(committedPath),
    );
  });

  it.each([
    ...yamlFilesIn(examplesDirectory).map(([f, t]) => [`examples/${f}`, t] as const),
    ...yamlFilesIn(sourcegraphSpecsDirectory).map(
      ([f, t]) => [`test-data/sourcegraph/${f}`, t] as const,
    ),
  ])('accepts %s', (_file, text) => {
    expect(validate(parse(text))).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });

  it.each([
    ['a typo in a key', lines('name: x', 'chagesetTemplate: {}'), '', 'additionalProperties'],
    [
      'branch and branches together',
      lines('name: x', 'on:', '  - repository: a/b/c', '    branch: x', '    branches: [y]'),
      '/on/0',
      'not',
    ],
    [
      'a published entry with two globs',
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit: {message: m}',
        '  published: [{a: true, b: false}]',
      ),
      '/changesetTemplate/published/0',
      'maxProperties',
    ],
    ['a bad name', lines('name: a b'), '/name', 'pattern'],
  ])('refuses %s', (_what, text, instancePath, keyword) => {
    expect(validate(parse(text))).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ instancePath, keyword }));
  });

  it('describes every property, so that editors can explain each field', () => {
    const undescribed: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      for (const [key, child] of Object.entries(
        (schema.properties ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        if (typeof child.description !== 'string' || child.description === '')
          undescribed.push(`${path}.${key}`);
        visit(child, `${path}.${key}`);
      }
      for (const key of ['items', 'additionalProperties']) visit(schema[key], `${path}/${key}`);
      for (const key of ['anyOf', 'oneOf', 'allOf']) {
        ((schema[key] ?? []) as unknown[]).forEach((child, i) =>
          visit(child, `${path}/${key}[${i}]`),
        );
      }
    };
    const schema = campaignSpecJsonSchema();
    visit(schema, '');
    expect(undescribed).toEqual([]);
    expect(Object.keys(schema.properties as object).sort()).toEqual([
      'changesetTemplate',
      'description',
      'importChangesets',
      'name',
      'on',
      'steps',
      'transformChanges',
      'version',
      'workspaces',
      'x-campaigns',
    ]);
  });
});
