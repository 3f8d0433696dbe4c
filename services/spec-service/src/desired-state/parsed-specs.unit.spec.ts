import { describe, expect, it } from '@jest/globals';
import { ParsedSpecs } from './parsed-specs.js';

const source = (name: string) => ({
  specText: `name: ${name}\nchangesetTemplate:\n  title: t\n  branch: b\n  commit:\n    message: m\n`,
  fileName: `${name}.yaml`,
});

describe('ParsedSpecs', () => {
  it('parses an application once and answers from memory after', () => {
    const specs = new ParsedSpecs(2);

    const first = specs.get('a', source('alpha'));

    expect(first?.name).toBe('alpha');
    expect(specs.get('a')).toBe(first);
    expect(specs.get('unknown')).toBeUndefined();
  });

  it('drops the least recently used application when full', () => {
    const specs = new ParsedSpecs(2);
    specs.get('a', source('alpha'));
    specs.get('b', source('beta'));
    specs.get('a');

    specs.get('c', source('gamma'));

    expect([specs.has('a'), specs.has('b'), specs.has('c')]).toEqual([true, false, true]);
  });

  it('remembers a spec that no longer validates as null', () => {
    const specs = new ParsedSpecs();

    expect(specs.get('x', { specText: 'steps: 3\n', fileName: 'x.yaml' })).toBeNull();
    expect(specs.has('x')).toBe(true);
  });
});
