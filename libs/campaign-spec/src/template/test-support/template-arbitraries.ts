import fc from 'fast-check';

/** Pieces of template syntax, so that generated strings reach deep into the parser, not just the lexer. */
const fragments = [
  '${{',
  '${{- ',
  '}}',
  ' -}}',
  ' ',
  '\n',
  '-',
  '|',
  '(',
  ')',
  ':=',
  '=',
  ',',
  '.',
  '$',
  '$x',
  '"',
  '`',
  "'",
  '\\',
  '/*',
  '*/',
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'nil',
  'true',
  '1',
  '-1.5e3',
  '0x1F',
  'repository.name',
  'outputs.project',
  '.repository',
  'steps.modified_files',
  'join',
  'printf "%v"',
  'index',
  'len',
  'eq',
  'matches',
  'constructor',
  '"a"',
  '"}}"',
];

export const templateLike = fc
  .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 3 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

/** Templates assembled from real operands, functions and keywords: many parse, and then render or fail. */
const operand = fc.constantFrom(
  'repository.name',
  'repository.search_result_paths',
  'steps.path',
  'steps.modified_files',
  'outputs.project',
  'outputs.project.env',
  'outputs.packageManagers.count',
  'outputs.nope',
  '.repository.branch',
  '$',
  '$.steps',
  '$x',
  '.',
  '"a"',
  '"github.com/*"',
  '`raw`',
  '0',
  '1',
  '-2',
  '1.5',
  'true',
  'nil',
  "'x'",
  '(len steps.path)',
);
const functionCall = fc
  .tuple(
    fc.constantFrom(
      'print',
      'printf "%v-%d"',
      'println',
      'len',
      'index',
      'slice',
      'eq',
      'ne',
      'lt',
      'ge',
      'and',
      'or',
      'not',
      'join',
      'join_if "-"',
      'replace',
      'split',
      'matches',
    ),
    fc.array(operand, { maxLength: 3 }),
  )
  .map(([name, args]) => [name, ...args].join(' '));
const pipeline = fc
  .array(fc.oneof(operand, functionCall), { minLength: 1, maxLength: 3 })
  .map((commands) => commands.join(' | '));
const actionBody = fc.oneof(
  pipeline,
  pipeline.map((p) => `$x := ${p}`),
  pipeline.map((p) => `if ${p}`),
  pipeline.map((p) => `else if ${p}`),
  pipeline.map((p) => `range ${p}`),
  pipeline.map((p) => `range $i, $e := ${p}`),
  pipeline.map((p) => `with ${p}`),
  fc.constantFrom('else', 'end', 'end', 'break', 'continue', '/* comment */'),
);
const action = fc
  .tuple(fc.boolean(), actionBody, fc.boolean())
  .map(
    ([trimLeft, body, trimRight]) =>
      `\${{${trimLeft ? '- ' : ' '}${body}${trimRight ? ' -' : ' '}}}`,
  );
export const structured = fc
  .array(fc.oneof(action, action, fc.string({ maxLength: 5 })), { maxLength: 12 })
  .map((parts) => parts.join(''));

export const anyText = fc.oneof(
  templateLike,
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** Well-formed templates: blocks closed, `$x` declared, later pipeline stages are calls. Most parse and render. */
const wellFormedPipeline = fc
  .tuple(fc.oneof(operand, functionCall), fc.array(functionCall, { maxLength: 2 }))
  .map(([first, rest]) => [first, ...rest].join(' | '));
const textPiece = fc.constantFrom('', 'x', ' ', '\n', 'a b', '}}', '-');
const wellFormedTree = fc.letrec<{ node: string; block: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    textPiece,
    wellFormedPipeline.map((p) => `\${{ ${p} }}`),
    wellFormedPipeline.map((p) => `\${{- $x = ${p} -}}`),
    tie('block'),
  ),
  block: fc
    .tuple(
      fc.constantFrom('if', 'with', 'range', 'range $i, $e :='),
      wellFormedPipeline,
      fc.array(tie('node'), { maxLength: 3 }),
      fc.option(fc.array(tie('node'), { maxLength: 2 })),
    )
    .map(
      ([keyword, condition, body, otherwise]) =>
        `\${{ ${keyword} ${condition} }}${body.join('')}${otherwise ? `\${{ else }}${otherwise.join('')}` : ''}\${{ end }}`,
    ),
}));
export const wellFormed = fc
  .array(wellFormedTree.node, { maxLength: 5 })
  .map((nodes) => `\${{ $x := 1 }}${nodes.join('')}`);
