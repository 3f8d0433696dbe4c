import type {
  ArgumentNode,
  BranchNode,
  CommandNode,
  FieldStep,
  IdentifierNode,
  ListNode,
  PipeNode,
  TemplateNode,
  VariableDeclaration,
} from './ast.js';
import { closestName, quote, SourceLines, type TemplateError } from './errors.js';
import { isTemplateFunction, TEMPLATE_FUNCTIONS } from './functions.js';
import { lexTemplate, LEFT_DELIMITER, type Token, type TokenKind } from './lexer.js';
import { parseNumber, unquoteCharConstant, unquoteRawString, unquoteString } from './literals.js';
import { FORBIDDEN_NAMES, isTemplateNamespace, TEMPLATE_NAMESPACES } from './namespaces.js';
import { utf8Length } from './values.js';

/** A template ready to render; parse once, render many times. */
export interface ParsedTemplate {
  readonly source: string;
  /** The syntax tree, shaped like Go's text/template/parse tree. */
  readonly root: ListNode;
  /** @internal Maps offsets to line and column for errors. */
  readonly lines: SourceLines;
}

export interface ParseOptions {
  /** Deepest nesting of `if`/`range`/`with` blocks and parentheses. Default 100. */
  maxDepth?: number;
  /** Largest accepted source, in UTF-8 bytes. Default 1 MiB, the limit of a whole spec file. */
  maxSourceBytes?: number;
}

export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_SOURCE_BYTES = 1024 * 1024;
const MAX_ALLOWED_DEPTH = 1000;

/** True when `source` contains a template action, that is `${{`. */
export function isTemplated(source: string): boolean {
  return source.includes(LEFT_DELIMITER);
}

/** Parses a template; throws a TemplateError with a position for the first problem found. */
export function parseTemplate(source: string, options: ParseOptions = {}): ParsedTemplate {
  const lines = new SourceLines(source);
  const maxSourceBytes = options.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  const bytes = utf8Length(source);
  if (bytes > maxSourceBytes) {
    throw lines.error(
      'source-limit',
      `template is ${bytes} bytes, more than the limit of ${maxSourceBytes} bytes`,
      0,
      source.slice(0, 20),
    );
  }
  const tokens = lexTemplate(lines);
  // Capped so that a generous option cannot turn into a stack overflow.
  const maxDepth = Math.min(options.maxDepth ?? DEFAULT_MAX_DEPTH, MAX_ALLOWED_DEPTH);
  const root = new Parser(tokens, lines, maxDepth).parse();
  return { source, root, lines };
}

type ListEnd = { kind: 'end' | 'else'; token: Token } | undefined;

type BranchKind = BranchNode['kind'];

const OPERAND_STARTS: ReadonlySet<TokenKind> = new Set([
  'bool',
  'charConstant',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

class Parser {
  private index = 0;
  private depth = 0;
  private rangeDepth = 0;
  /** Variables in scope, innermost last; `$` is always defined. */
  private readonly variables: string[] = ['$'];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly lines: SourceLines,
    private readonly maxDepth: number,
  ) {}

  parse(): ListNode {
    const { list, end } = this.itemList();
    if (end) {
      throw this.error(
        `unexpected {{${end.kind}}}: there is no if, range or with for it to close`,
        end.token,
      );
    }
    return list;
  }

  // --- token helpers -------------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== 'eof') this.index += 1;
    return token;
  }

  private skipSpace(): void {
    while (this.tokens[this.index].kind === 'space') this.index += 1;
  }

  private peekNonSpace(): Token {
    this.skipSpace();
    return this.peek();
  }

  private nextNonSpace(): Token {
    this.skipSpace();
    return this.next();
  }

  private error(
    detail: string,
    token: Token,
    code: TemplateError['code'] = 'syntax',
  ): TemplateError {
    return this.lines.error(code, detail, token.offset, token.text);
  }

  private unexpected(token: Token, context: string): TemplateError {
    return this.error(`unexpected ${describe(token)} in ${context}`, token);
  }

  private expectRightDelim(context: string): void {
    const token = this.nextNonSpace();
    if (token.kind !== 'rightDelim') {
      throw this.error(`unexpected ${describe(token)} in ${context}: expected "}}"`, token);
    }
  }

  private enter(token: Token): void {
    this.depth += 1;
    if (this.depth > this.maxDepth) {
      throw this.error(
        `template nesting is deeper than the limit of ${this.maxDepth} (blocks and parentheses)`,
        token,
        'depth-limit',
      );
    }
  }

  private leave(): void {
    this.depth -= 1;
  }

  // --- lists and actions ---------------------------------------------------------------------

  private itemList(): { list: ListNode; end: ListEnd } {
    const offset = this.peek().offset;
    const nodes: TemplateNode[] = [];
    for (;;) {
      const token = this.next();
      switch (token.kind) {
        case 'eof':
          return { list: { kind: 'list', offset, nodes }, end: undefined };
        case 'text':
          nodes.push({ kind: 'text', offset: token.offset, text: token.text });
          break;
        case 'leftDelim': {
          const node = this.action(token);
          if ('token' in node) return { list: { kind: 'list', offset, nodes }, end: node };
          nodes.push(node);
          break;
        }
        default:
          throw this.unexpected(token, 'input');
      }
    }
  }

  private action(delimiter: Token): TemplateNode | { kind: 'end' | 'else'; token: Token } {
    const token = this.nextNonSpace();
    if (token.kind === 'keyword') {
      switch (token.text) {
        case 'if':
        case 'range':
        case 'with':
          return this.branch(token.text, token, delimiter);
        case 'else': {
          const following = this.peekNonSpace();
          if (!(
            following.kind === 'keyword' &&
            (following.text === 'if' || following.text === 'with')
          )) {
            this.expectRightDelim('else');
          }
          return { kind: 'else', token };
        }
        case 'end':
          this.expectRightDelim('end');
          return { kind: 'end', token };
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) {
            throw this.error(`{{${token.text}}} outside {{range}}`, token);
          }
          this.expectRightDelim(token.text);
          return { kind: token.text, offset: delimiter.offset };
        default:
          throw this.error(
            `{{${token.text}}} is not supported in campaign spec templates (only one template per field)`,
            token,
            'unsupported',
          );
      }
    }
    this.index -= 1;
    return {
      kind: 'action',
      offset: delimiter.offset,
      pipe: this.pipeline('command', 'rightDelim'),
    };
  }

  /** `if`, `range` and `with`, with their `else` (and `else if`/`else with`) branches. */
  private branch(kind: BranchKind, keyword: Token, delimiter: Token): BranchNode {
    this.enter(keyword);
    const outerScope = this.variables.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    const pipeScope = this.variables.length;
    if (kind === 'range') this.rangeDepth += 1;
    const body = this.itemList();
    if (kind === 'range') this.rangeDepth -= 1;
    // Variables declared in the body end with it; those of the pipeline also reach the else branch.
    this.variables.length = pipeScope;
    let elseList: ListNode | undefined;
    let end = body.end;
    if (end?.kind === 'else') {
      const elseToken = end.token;
      const following = this.peekNonSpace();
      if (following.kind === 'keyword' && (following.text === 'if' || following.text === 'with')) {
        if (following.text !== kind) {
          throw this.error(`{{else ${following.text}}} cannot follow {{${kind}}}`, following);
        }
        this.next();
        const nested = this.branch(kind, following, elseToken);
        elseList = { kind: 'list', offset: elseToken.offset, nodes: [nested] };
        end = { kind: 'end', token: elseToken };
      } else {
        const elseBody = this.itemList();
        elseList = elseBody.list;
        end = elseBody.end;
        if (end?.kind === 'else') {
          throw this.error(`a second {{else}} in one {{${kind}}}: expected {{end}}`, end.token);
        }
      }
    }
    if (!end) {
      throw this.lines.error(
        'unclosed-block',
        `{{${kind}}} has no matching {{end}}`,
        delimiter.offset,
        keyword.text,
      );
    }
    this.variables.length = outerScope;
    this.leave();
    return { kind, offset: delimiter.offset, pipe, list: body.list, elseList };
  }

  // --- pipelines -----------------------------------------------------------------------------

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace();
    const declarations: VariableDeclaration[] = [];
    let isAssignment = false;
    for (;;) {
      const variable = this.peekNonSpace();
      if (variable.kind !== 'variable') break;
      const mark = this.index;
      this.next();
      const operator = this.peekNonSpace();
      if (operator.kind === 'declare' || operator.kind === 'assign') {
        this.next();
        isAssignment = operator.kind === 'assign';
        declarations.push({ name: variable.text, offset: variable.offset });
        break;
      }
      if (operator.kind === 'comma') {
        this.next();
        declarations.push({ name: variable.text, offset: variable.offset });
        if (
          context === 'range' &&
          declarations.length < 2 &&
          this.peekNonSpace().kind === 'variable'
        )
          continue;
        if (context === 'range' && declarations.length < 2) {
          throw this.error('range can only initialize variables', this.peekNonSpace());
        }
        throw this.error(`too many declarations in ${context}`, operator);
      }
      if (declarations.length > 0) {
        throw this.error(`expected ":=" or "=" after ${quote(variable.text)}`, operator);
      }
      this.index = mark;
      break;
    }
    for (const declaration of declarations) {
      if (declaration.name === '$') {
        throw this.lines.error('syntax', 'cannot declare or assign "$"', declaration.offset, '$');
      }
      if (isAssignment) this.useVariable(declaration.name, declaration.offset);
    }

    const commands: CommandNode[] = [];
    for (;;) {
      const token = this.nextNonSpace();
      if (token.kind === end) break;
      if (!OPERAND_STARTS.has(token.kind)) throw this.unexpected(token, context);
      this.index -= 1;
      commands.push(this.command());
    }
    // Declared after the commands, so `$x := $x` cannot read the variable it declares.
    if (!isAssignment) this.variables.push(...declarations.map((declaration) => declaration.name));
    const pipe: PipeNode = {
      kind: 'pipe',
      offset: start.offset,
      declarations,
      isAssignment,
      commands,
    };
    this.checkPipeline(pipe, context, start);
    return pipe;
  }

  private checkPipeline(pipe: PipeNode, context: string, start: Token): void {
    if (pipe.commands.length === 0) {
      throw this.error(`missing value for ${context}`, start);
    }
    pipe.commands.forEach((command, index) => {
      const first = command.args[0];
      if (index > 0 && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.kind)) {
        throw this.lines.error(
          'syntax',
          `non executable command in pipeline stage ${index + 1}: a constant or "." cannot receive the piped value`,
          first.offset,
          this.tokenTextAt(first.offset),
        );
      }
    });
  }

  private tokenTextAt(offset: number): string {
    return this.tokens.find((token) => token.offset === offset)?.text ?? '';
  }

  private command(): CommandNode {
    const offset = this.peekNonSpace().offset;
    const args: ArgumentNode[] = [];
    for (;;) {
      this.skipSpace();
      const operand = this.operand();
      if (operand) args.push(operand);
      const token = this.next();
      if (token.kind === 'space') continue;
      if (token.kind === 'rightDelim' || token.kind === 'rightParen') {
        this.index -= 1;
        break;
      }
      if (token.kind === 'pipe') {
        if (args.length === 0) throw this.error('missing command before "|"', token);
        break;
      }
      throw this.unexpected(token, 'operand');
    }
    return { kind: 'command', offset, args };
  }

  private operand(): ArgumentNode | undefined {
    const node = this.term();
    if (!node || this.peek().kind !== 'field') return node;
    const fields: FieldStep[] = [];
    while (this.peek().kind === 'field') fields.push(this.fieldStep(this.next()));
    switch (node.kind) {
      case 'field':
        return { ...node, fields: [...node.fields, ...fields] };
      case 'variable':
        return { ...node, fields: [...node.fields, ...fields] };
      case 'identifier':
      case 'pipe':
        return { kind: 'chain', offset: node.offset, node, fields };
      default:
        throw this.lines.error(
          'syntax',
          `unexpected ${quote(fields[0].name)} after a constant or "."`,
          fields[0].offset,
          `.${fields[0].name}`,
        );
    }
  }

  private fieldStep(token: Token): FieldStep {
    const name = token.text.slice(1);
    if (FORBIDDEN_NAMES.has(name)) {
      throw this.error(`field name ${quote(name)} is not allowed`, token, 'forbidden-name');
    }
    return { name, offset: token.offset };
  }

  private term(): ArgumentNode | undefined {
    const token = this.nextNonSpace();
    switch (token.kind) {
      case 'identifier':
        return this.identifier(token);
      case 'dot':
        return { kind: 'dot', offset: token.offset };
      case 'nil':
        return { kind: 'nil', offset: token.offset };
      case 'variable': {
        this.useVariable(token.text, token.offset);
        if (token.text === '$')
          return { kind: 'variable', offset: token.offset, name: '$', fields: [] };
        return { kind: 'variable', offset: token.offset, name: token.text, fields: [] };
      }
      case 'field':
        return { kind: 'field', offset: token.offset, fields: [this.fieldStep(token)] };
      case 'bool':
        return { kind: 'bool', offset: token.offset, value: token.text === 'true' };
      case 'number': {
        const parsed = parseNumber(token.text);
        if (!parsed.ok) throw this.error(parsed.reason, token);
        return { kind: 'number', offset: token.offset, value: parsed.value, text: token.text };
      }
      case 'charConstant': {
        const parsed = unquoteCharConstant(token.text);
        if (!parsed.ok) throw this.error(`malformed character constant: ${parsed.reason}`, token);
        return { kind: 'number', offset: token.offset, value: parsed.value, text: token.text };
      }
      case 'string': {
        const parsed = unquoteString(token.text);
        if (!parsed.ok) throw this.error(`invalid string: ${parsed.reason}`, token);
        return { kind: 'string', offset: token.offset, value: parsed.value, text: token.text };
      }
      case 'rawString':
        return {
          kind: 'string',
          offset: token.offset,
          value: unquoteRawString(token.text),
          text: token.text,
        };
      case 'leftParen': {
        this.enter(token);
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.leave();
        return { ...pipe, offset: token.offset };
      }
      default:
        this.index -= 1;
        return undefined;
    }
  }

  private identifier(token: Token): IdentifierNode {
    const name = token.text;
    if (isTemplateFunction(name))
      return { kind: 'identifier', offset: token.offset, name, isNamespace: false };
    if (isTemplateNamespace(name))
      return { kind: 'identifier', offset: token.offset, name, isNamespace: true };
    const suggestion = closestName(name, [...TEMPLATE_NAMESPACES, ...TEMPLATE_FUNCTIONS]);
    const hint = suggestion ? `; did you mean ${quote(suggestion)}?` : '';
    throw this.error(
      `${quote(name)} is neither a template function nor a variable namespace (${TEMPLATE_NAMESPACES.join(', ')})${hint}`,
      token,
      'unknown-name',
    );
  }

  private useVariable(name: string, offset: number): void {
    if (!this.variables.includes(name)) {
      throw this.lines.error(
        'undefined-variable',
        `undefined variable ${quote(name)}`,
        offset,
        name,
      );
    }
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of template';
    case 'rightDelim':
      return '"}}"';
    case 'leftDelim':
      return '"${{"';
    case 'text':
      return `text ${quote(token.text)}`;
    case 'keyword':
      return `keyword ${quote(token.text)}`;
    default:
      return quote(token.text);
  }
}
