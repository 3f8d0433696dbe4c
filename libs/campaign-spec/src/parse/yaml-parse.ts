import { Composer, Lexer, LineCounter, Parser, type Document } from 'yaml';
import { MAX_YAML_TOKENS, type SpecWork } from './work.js';

/** The text parsed into YAML documents (not yet into values). */
export interface ParsedYaml {
  text: string;
  lineCounter: LineCounter;
  docs: Document.Parsed[];
  /** Offsets of the quoted strings whose continuation lines were indented to read the file. */
  repairedAt: number[];
  /** Where parsing stopped because the text has more than MAX_YAML_TOKENS tokens. */
  tooManyTokensAt?: number;
}

/**
 * Parses the text into YAML documents, lexing at most MAX_YAML_TOKENS tokens: the YAML library's
 * work is proportional to them. Keys are not checked for uniqueness here: the library compares
 * each key with every earlier one of its mapping, which is quadratic (see `indexDocument`).
 */
function parseText(text: string, work: SpecWork, budget: number): ParsedYaml {
  work.parses += 1;
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  const docs: Document.Parsed[] = [];
  // Parser.parse reports the start of the first line itself; feeding lexemes one by one does not.
  lineCounter.addNewLine(0);
  let tokens = 0;
  for (const lexeme of new Lexer().lex(text)) {
    tokens += 1;
    if (tokens > budget) {
      work.tokens += tokens;
      return { text, lineCounter, docs: [], repairedAt: [], tooManyTokensAt: parser.offset };
    }
    for (const token of parser.next(lexeme)) docs.push(...composer.next(token));
  }
  work.tokens += tokens;
  for (const token of parser.end()) docs.push(...composer.next(token));
  docs.push(...composer.end());
  return { text, lineCounter, docs, repairedAt: [] };
}

/**
 * Parses the text; when a quoted string's continuation lines are not indented past its key (YAML
 * forbids it, but the Go parser Sourcegraph uses accepts it), indents them and parses again. Only
 * leading whitespace inside quoted strings changes, which YAML folds away, so values are the same;
 * columns on those lines shift. Every attempt counts against the one token budget: when the next
 * one could exceed it, the first parse's errors stand.
 */
export function parseLeniently(original: string, work: SpecWork): ParsedYaml {
  const first = parseText(original, work, MAX_YAML_TOKENS);
  let parsed = first;
  const repairedAt: number[] = [];
  for (let attempt = 0; attempt < 20 && parsed.tooManyTokensAt === undefined; attempt++) {
    const missing = parsed.docs[0]?.errors.find(
      (e) => e.code === 'MISSING_CHAR' && /quote/.test(e.message),
    );
    if (!missing) break;
    const repaired = indentQuotedContinuation(parsed.text, missing.pos[0]);
    if (!repaired) break;
    const left = MAX_YAML_TOKENS - work.tokens;
    const next = parseText(repaired.text, work, left);
    if (next.tooManyTokensAt !== undefined) break;
    if ((next.docs[0]?.errors.length ?? 1) >= (parsed.docs[0]?.errors.length ?? 0)) break;
    parsed = next;
    repairedAt.push(repaired.quoteAt);
  }
  if (repairedAt.length > 0 && (parsed.docs[0]?.errors.length ?? 0) > 0) return first;
  return { ...parsed, repairedAt };
}

function indentQuotedContinuation(
  text: string,
  errorOffset: number,
): { text: string; quoteAt: number } | undefined {
  // The string's first line is the line before where YAML gave up on it.
  const lineEnd = text.lastIndexOf('\n', Math.max(0, errorOffset - 1));
  const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const m = /^(\s*)(?:-\s+)?[^"'#]*?:\s+(["'])/.exec(line) ?? /^(\s*)-\s+(["'])/.exec(line);
  if (!m) return undefined;
  const indent = m[1]!.length;
  const quote = m[2]!;
  const quoteAt = lineStart + m[0].length - 1;
  let close = -1;
  for (let i = quoteAt + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else {
        close = i;
        break;
      }
    }
  }
  if (close < 0) return undefined;
  const body = text
    .slice(quoteAt, close)
    .replace(/\n([ \t]*)(?=[^\s])/g, (whole, spaces: string) =>
      spaces.length > indent ? whole : `\n${' '.repeat(indent + 1)}`,
    );
  return { text: text.slice(0, quoteAt) + body + text.slice(close), quoteAt };
}
