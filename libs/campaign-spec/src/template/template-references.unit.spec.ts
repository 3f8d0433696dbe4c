import { describe, expect, it } from '@jest/globals';
import { parseTemplate, templateReferences } from './index.js';

/** `path@line:column` for each reference, in source order. */
function references(source: string): string[] {
  return templateReferences(parseTemplate(source)).map(
    ({ path, position }) => `${path.join('.')}@${position.line}:${position.column}`,
  );
}

describe('template references', () => {
  it.each([
    ['a namespace field', '${{ repository.name }}', ['repository.name@1:5']],
    ['a dotted namespace field', '${{ .repository.name }}', ['repository.name@1:5']],
    ['fields of "$"', '${{ $.outputs.x }}', ['outputs.x@1:5']],
    ['a parenthesized namespace', '${{ (outputs).x.y }}', ['outputs.x.y@1:5']],
    ['a namespace alone', '${{ len repository }}', ['repository@1:9']],
    [
      'fields of the dot inside with',
      '${{ with outputs.project }}${{ .dist }}${{ end }}',
      ['outputs.project@1:10', 'outputs.project.dist@1:32'],
    ],
    [
      'the else of with keeps the outer dot',
      '${{ with outputs.x }}${{ else }}${{ .steps.path }}${{ end }}',
      ['outputs.x@1:10', 'steps.path@1:37'],
    ],
    [
      'inside range, only the ranged value',
      '${{ range outputs.list }}${{ .name }}${{ end }}',
      ['outputs.list@1:11'],
    ],
    [
      'arguments of functions and nested pipelines',
      '${{ join_if "-" (replace steps.path "/" "-") batch_change.name }}',
      ['steps.path@1:26', 'batch_change.name@1:46'],
    ],
    ['index reports only what it indexes', '${{ index outputs "maybe" }}', ['outputs@1:11']],
    ['fields of an index result are not static', '${{ (index outputs "x").y }}', ['outputs@1:12']],
    ['variables hold no static path', '${{ $x := outputs.a }}${{ $x.b }}', ['outputs.a@1:11']],
    [
      'conditions and both branches',
      '${{ if previous_step.stdout }}${{ step.stdout }}${{ else }}${{ campaign.name }}${{ end }}',
      ['previous_step.stdout@1:8', 'step.stdout@1:35', 'campaign.name@1:64'],
    ],
    [
      'an unknown namespace written with a dot, for the validator to report',
      '${{ .repo.name }}',
      ['repo.name@1:5'],
    ],
    [
      'positions on later lines',
      'Title\n\n  ${{ outputs.headerCount }}',
      ['outputs.headerCount@3:7'],
    ],
    ['the link placeholder', 'See ${{ batch_change_link }}', ['batch_change_link@1:9']],
    ['none in plain text', 'no templates here', []],
  ])('%s', (_name, source, expected) => {
    expect(references(source)).toEqual(expected);
  });

  it('gives offsets as well as positions', () => {
    const [reference] = templateReferences(parseTemplate('ab ${{ outputs.x }}'));
    expect(reference).toEqual({
      path: ['outputs', 'x'],
      position: { line: 1, column: 8 },
      offset: 7,
    });
  });
});
