/**
 * Sourcegraph evaluates regular expressions with Go's RE2; we evaluate them with JavaScript's
 * RegExp. This translates what RE2 has and JavaScript spells differently, and refuses what RE2
 * itself refuses, so that a query valid here is valid on Sourcegraph and the reverse:
 *
 * - `(?i)`, `(?s)`, `(?m)` flag groups become RegExp flags. RE2 scopes a flag group to the rest of
 *   its group and `(?i:…)` to its body; here they apply to the whole expression (approximation).
 * - `\A` → `^`, `\z` → `$`, `\Q…\E` → the text escaped, `(?P<name>` → `(?<name>`,
 *   `[[:alpha:]]` and the other ASCII classes → their ranges, `\pL` → `\p{L}`.
 * - Lookarounds (`(?=`, `(?!`, `(?<=`, `(?<!`), backreferences (`\1`) and repetition counts
 *   above 1000 are errors, as on Sourcegraph.
 */
export interface Re2Translation {
  readonly regexp?: RegExp;
  readonly error?: string;
  /** 0-based offset of the problem in the source, when known. */
  readonly errorOffset?: number;
  /** Set when a flag group had to be widened to the whole expression. */
  readonly approximated?: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

export function translateRe2(
  source: string,
  options: { caseSensitive?: boolean } = {},
): Re2Translation {
  const flags = new Set<string>();
  if (!options.caseSensitive) flags.add('i');
  let out = '';
  let approximated: string | undefined;
  let inClass = false;
  let needsUnicode = false;
  const fail = (error: string, errorOffset: number): Re2Translation => ({ error, errorOffset });

  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) return fail('trailing backslash at the end of the expression', i);
      if (next === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        const literal = source.slice(i + 2, end < 0 ? source.length : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? source.length : end + 1;
        continue;
      }
      if (!inClass && next === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (!inClass && next === 'z') {
        out += '$';
        i++;
        continue;
      }
      if (/[1-9]/.test(next)) return fail('backreferences (\\1) are not supported by RE2', i);
      if (next === 'C') return fail('\\C is not supported', i);
      if (next === 'p' || next === 'P') {
        needsUnicode = true;
        const name = source[i + 2];
        if (name !== undefined && name !== '{') {
          out += `\\${next}{${name}}`;
          i += 2;
          continue;
        }
      }
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === '[' && source[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(i));
        if (m) {
          const ranges = Object.hasOwn(POSIX_CLASSES, m[2]!) ? POSIX_CLASSES[m[2]!] : undefined;
          if (!ranges) return fail(`unknown character class [:${m[2]}:]`, i);
          if (m[1])
            return fail(
              `negated ASCII classes like [:^${m[2]}:] are not supported here; use [^[:${m[2]}:]]`,
              i,
            );
          out += ranges;
          i += m[0].length - 1;
          continue;
        }
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // A `]` right after `[` or `[^` is a literal in RE2.
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (source[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(' && source[i + 1] === '?') {
      const rest = source.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest))
        return fail('lookaround assertions are not supported by RE2', i);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      const flagGroup = /^([imsU-]+)(\)|:)/.exec(rest);
      if (flagGroup) {
        const [whole, letters, close] = flagGroup as unknown as [string, string, string];
        let on = true;
        for (const letter of letters) {
          if (letter === '-') on = false;
          else if (letter === 'U') return fail('the ungreedy flag (?U) is not supported here', i);
          else if (on) flags.add(letter);
          else flags.delete(letter);
        }
        if (i > 0 || close === ':') {
          approximated = `the flags (?${letters}) apply to the whole expression`;
        }
        out += close === ':' ? '(?:' : '';
        i += 1 + whole.length;
        continue;
      }
    }
    if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (
        m &&
        (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000))
      ) {
        return fail('repetition counts above 1000 are not supported by RE2', i);
      }
    }
    out += ch;
  }

  if (inClass) return fail('missing closing ]', source.lastIndexOf('['));
  const flagString = [...flags].sort().join('') + (needsUnicode ? 'u' : '');
  try {
    return { regexp: new RegExp(out, flagString), approximated };
  } catch (err) {
    const message = (err as Error).message
      .replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
      .replace(/^Invalid regular expression: /, '');
    return { error: message.charAt(0).toLowerCase() + message.slice(1) };
  }
}
