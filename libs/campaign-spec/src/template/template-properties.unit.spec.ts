import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  parseTemplate,
  renderTemplate,
  TemplateError,
  type ParsedTemplate,
  type TemplateValue,
} from './index.js';
import { workspaceData } from './test-support/render.js';
import {
  anyText,
  structured,
  templateLike,
  wellFormed,
} from './test-support/template-arbitraries.js';

/** The error's position lies within the source: a real line, a column at most one past its end. */
function positionIsInSource(error: TemplateError, source: string): boolean {
  const lines = source.split('\n');
  const { line, column } = error.position;
  return line >= 1 && line <= lines.length && column >= 1 && column <= lines[line - 1].length + 1;
}

function parseOrError(source: string): ParsedTemplate | TemplateError {
  try {
    return parseTemplate(source);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
}

function renderOrError(template: ParsedTemplate, data: Record<string, TemplateValue>): string {
  try {
    return renderTemplate(template, data, { maxSteps: 10_000, maxOutputBytes: 100_000 });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    expect(positionIsInSource(error, template.source)).toBe(true);
    return `error ${error.code} at ${error.position.line}:${error.position.column}`;
  }
}

describe('template engine properties', () => {
  it('parses any string or throws a TemplateError positioned inside it', () => {
    fc.assert(
      fc.property(anyText, (source) => {
        const result = parseOrError(source);
        if (result instanceof TemplateError) {
          expect(positionIsInSource(result, source)).toBe(true);
          expect(
            result.message.startsWith(
              `line ${result.position.line}, column ${result.position.column}: `,
            ),
          ).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('renders whatever parses, or throws a positioned TemplateError, and does so deterministically', () => {
    fc.assert(
      fc.property(fc.oneof(wellFormed, wellFormed, structured, templateLike), (source) => {
        const parsed = parseOrError(source);
        if (parsed instanceof TemplateError) return;
        const first = renderOrError(parsed, workspaceData());
        const second = renderOrError(parseTemplate(source), workspaceData());
        expect(second).toBe(first);
      }),
      { numRuns: 3000 },
    );
  });

  it('renders text without "${{" as itself', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }).filter((text) => !text.includes('${{')),
        (text) => {
          expect(renderTemplate(parseTemplate(text), {})).toBe(text);
        },
      ),
    );
  });

  it('prints any JSON data the same way whatever the order its keys were built in', () => {
    const shuffled = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(shuffled);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value)
            .reverse()
            .map(([key, item]) => [key, shuffled(item)]),
        );
      }
      return value;
    };
    const template = parseTemplate(
      '${{ .v }}|${{ printf "%q" .v }}|${{ range $k, $x := .v }}${{ $k }};${{ end }}',
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const once = renderTemplate(template, { v: value as TemplateValue });
        expect(renderTemplate(template, { v: shuffled(value) as TemplateValue })).toBe(once);
      }),
    );
  });

  it('quotes any string so that a Go-style %q reads it back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        const quoted = renderTemplate(parseTemplate('${{ printf "%q" .s }}'), { s: text });
        // A quoted string is itself a valid interpreted string literal with the same value.
        expect(renderTemplate(parseTemplate(`\${{ ${quoted} }}`), {})).toBe(text);
      }),
    );
  });
});
