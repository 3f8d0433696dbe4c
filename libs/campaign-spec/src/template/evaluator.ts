import type {
  ArgumentNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldStep,
  IdentifierNode,
  ListNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './ast.js';
import { closestName, quote, type TemplateErrorCode, TemplateError } from './errors.js';
import { FormatBudgetExceeded, formatValue, ValueTooDeep, type FormatContext } from './format.js';
import { checkArity, templateFunction, type CallContext } from './functions.js';
import { isTemplateNamespace, NAMESPACE_ALIASES, TEMPLATE_NAMESPACES } from './namespaces.js';
import { DEFAULT_MAX_DEPTH, type ParsedTemplate } from './parser.js';
import {
  isTrue,
  kindOf,
  mapGet,
  mapKeys,
  NO_VALUE,
  UnsupportedValueError,
  describeValue,
  utf8Length,
  type TemplateMap,
} from './values.js';

/** The data templates read: JSON-like values. */
export type TemplateValue =
  string | number | boolean | null | TemplateValue[] | { [key: string]: TemplateValue };

export interface TemplateOptions {
  /** Evaluation steps (nodes, function calls, range iterations) before giving up. Default 1,000,000. */
  maxSteps?: number;
  /** Largest rendered output (and largest intermediate string), in UTF-8 bytes. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Deepest nesting of blocks and parentheses evaluated. Default 100. */
  maxDepth?: number;
}

export const DEFAULT_MAX_STEPS = 1_000_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Renders a parsed template with `data` as both the namespaces (`repository.name`) and the dot
 * (`.repository.name`). Deterministic: the same template and data give the same text. Throws a
 * TemplateError, with the position of the node that failed, for every failure.
 */
export function renderTemplate(
  template: ParsedTemplate,
  data: Readonly<Record<string, TemplateValue>>,
  options: TemplateOptions = {},
): string {
  return new Evaluator(template, data, options).render();
}

/**
 * A step's `if:` the way Sourcegraph evaluates it: an empty condition is true; otherwise the
 * rendered text, with surrounding white space removed, must be exactly `true`.
 */
export function evaluateCondition(
  template: ParsedTemplate,
  data: Readonly<Record<string, TemplateValue>>,
  options: TemplateOptions = {},
): boolean {
  if (template.source === '') return true;
  return renderTemplate(template, data, options).trim() === 'true';
}

/** "No piped value": distinct from NO_VALUE, which is a value. */
const ABSENT: unique symbol = Symbol('absent');
type Final = unknown;

type Signal = 'break' | 'continue' | undefined;

interface Variable {
  readonly name: string;
  value: unknown;
}

const TOKEN_AT = /"(?:[^"\\\n]|\\.)*"|`[^`]*`|[^\s()|]+|[()|]/y;

class Evaluator {
  private readonly maxSteps: number;
  private readonly maxOutputBytes: number;
  private readonly maxDepth: number;
  private readonly root: TemplateMap;
  /** The maps that get special treatment; read in render(), where data errors become TemplateErrors. */
  private outputs: unknown = NO_VALUE;
  private repository: unknown = NO_VALUE;
  private readonly variables: Variable[];
  private readonly spaceJoined = new WeakSet<object>();
  private readonly output: string[] = [];
  private outputBytes = 0;
  private steps = 0;
  private depth = 0;
  /** The node being evaluated, for errors raised deep inside helpers. */
  private currentOffset = 0;

  constructor(
    private readonly template: ParsedTemplate,
    data: unknown,
    options: TemplateOptions,
  ) {
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (safeKind(data) !== 'map') {
      throw this.error('unsupported-value', 'template data must be a plain object or a Map', 0);
    }
    this.root = data as TemplateMap;
    this.variables = [{ name: '$', value: this.root }];
  }

  render(): string {
    try {
      this.outputs = this.rootEntry('outputs');
      this.repository = this.rootEntry('repository');
      this.walkList(this.root, this.template.root);
    } catch (error) {
      throw this.translate(error);
    }
    return this.output.join('');
  }

  // --- errors and limits -----------------------------------------------------------------------

  private error(code: TemplateErrorCode, detail: string, offset: number): TemplateError {
    TOKEN_AT.lastIndex = offset;
    const token = TOKEN_AT.exec(this.template.source)?.[0] ?? '';
    return this.template.lines.error(code, detail, offset, token);
  }

  /** Errors thrown by value helpers carry no position; they get the current node's. */
  private translate(error: unknown): unknown {
    if (error instanceof TemplateError) return error;
    if (error instanceof UnsupportedValueError)
      return this.error('unsupported-value', error.reason, this.currentOffset);
    if (error instanceof ValueTooDeep) {
      return this.error(
        'unsupported-value',
        'a value is nested too deeply to print (or contains itself)',
        this.currentOffset,
      );
    }
    if (error instanceof FormatBudgetExceeded) {
      return this.error(
        'output-limit',
        `output would be larger than the limit of ${this.maxOutputBytes} bytes`,
        this.currentOffset,
      );
    }
    if (error instanceof RangeError) {
      return this.error(
        'depth-limit',
        'template or data is nested too deeply to evaluate',
        this.currentOffset,
      );
    }
    return error;
  }

  private tick(offset: number): void {
    this.currentOffset = offset;
    this.steps += 1;
    if (this.steps > this.maxSteps) {
      throw this.error(
        'step-limit',
        `evaluation took more than ${this.maxSteps} steps; is a range over too much data?`,
        offset,
      );
    }
  }

  private enter(offset: number): void {
    this.depth += 1;
    if (this.depth > this.maxDepth) {
      throw this.error(
        'depth-limit',
        `evaluation nests deeper than the limit of ${this.maxDepth}`,
        offset,
      );
    }
  }

  private leave(): void {
    this.depth -= 1;
  }

  private write(text: string, offset: number): void {
    if (text === '') return;
    this.outputBytes += utf8Length(text);
    if (this.outputBytes > this.maxOutputBytes) {
      throw this.error(
        'output-limit',
        `output is larger than the limit of ${this.maxOutputBytes} bytes`,
        offset,
      );
    }
    this.output.push(text);
  }

  private formatContext(budget: number): FormatContext {
    return { isSpaceJoined: (list) => this.spaceJoined.has(list), budget };
  }

  // --- namespaces, fields, variables -----------------------------------------------------------

  private rootEntry(name: string): unknown {
    const value = mapGet(this.root, name);
    if (value !== NO_VALUE) return value;
    const alias = NAMESPACE_ALIASES.get(name);
    return alias === undefined ? NO_VALUE : mapGet(this.root, alias);
  }

  private namespace(name: string, offset: number): unknown {
    const value = this.rootEntry(name);
    if (value !== NO_VALUE) return value;
    if (isTemplateNamespace(name)) {
      throw this.error('missing-namespace', `${quote(name)} is not available here`, offset);
    }
    const suggestion = closestName(name, TEMPLATE_NAMESPACES);
    throw this.error(
      'unknown-namespace',
      `unknown variable namespace ${quote(name)}; the namespaces are ${TEMPLATE_NAMESPACES.join(', ')}` +
        (suggestion ? `; did you mean ${quote(suggestion)}?` : ''),
      offset,
    );
  }

  /** Reads `.name` of `receiver`; `chainOffset` is where the whole reference starts. */
  private field(receiver: unknown, step: FieldStep, chainOffset: number): unknown {
    this.tick(step.offset);
    switch (kindOf(receiver)) {
      case 'missing':
        // As in Go, fields of a missing value are missing too.
        return NO_VALUE;
      case 'nil':
        throw this.error('nil-field', `cannot read field ${quote(step.name)} of nil`, step.offset);
      case 'map': {
        if (receiver === this.root) return this.namespace(step.name, step.offset);
        const value = mapGet(receiver as TemplateMap, step.name);
        if (value === NO_VALUE && receiver === this.outputs) {
          const defined = mapKeys(receiver as TemplateMap);
          const suggestion = closestName(step.name, defined);
          throw this.error(
            'missing-output',
            `output ${quote(step.name)} is not defined: no step sets outputs.${step.name}` +
              (suggestion ? `; did you mean outputs.${suggestion}?` : '') +
              (defined.length > 0 ? ` (defined: ${defined.slice(0, 10).join(', ')})` : ''),
            chainOffset,
          );
        }
        if (
          receiver === this.repository &&
          step.name === 'search_result_paths' &&
          Array.isArray(value)
        ) {
          // Sourcegraph's list type for these paths prints them separated by spaces.
          this.spaceJoined.add(value);
        }
        return value;
      }
      default:
        throw this.error(
          'bad-field',
          `cannot read field ${quote(step.name)} of ${describeValue(receiver)}; only maps have fields`,
          step.offset,
        );
    }
  }

  private fields(receiver: unknown, fields: readonly FieldStep[], chainOffset: number): unknown {
    let value = receiver;
    for (const step of fields) value = this.field(value, step, chainOffset);
    return value;
  }

  private variable(name: string, offset: number): Variable {
    for (let i = this.variables.length - 1; i >= 0; i--) {
      if (this.variables[i].name === name) return this.variables[i];
    }
    throw this.error('undefined-variable', `undefined variable ${quote(name)}`, offset);
  }

  // --- walking the tree ------------------------------------------------------------------------

  private walkList(dot: unknown, list: ListNode): Signal {
    for (const node of list.nodes) {
      const signal = this.walk(dot, node);
      if (signal) return signal;
    }
    return undefined;
  }

  private walk(dot: unknown, node: TemplateNode): Signal {
    this.tick(node.offset);
    switch (node.kind) {
      case 'text':
        this.write(node.text, node.offset);
        return undefined;
      case 'action': {
        const value = this.pipeline(dot, node.pipe);
        if (node.pipe.declarations.length === 0) {
          this.currentOffset = node.pipe.offset;
          this.write(
            formatValue(value, this.formatContext(this.maxOutputBytes - this.outputBytes)),
            node.offset,
          );
        }
        return undefined;
      }
      case 'if':
      case 'with':
        return this.ifOrWith(dot, node);
      case 'range':
        return this.range(dot, node);
      case 'break':
      case 'continue':
        return node.kind;
    }
  }

  private ifOrWith(dot: unknown, node: BranchNode): Signal {
    const scope = this.variables.length;
    this.enter(node.offset);
    try {
      const value = this.pipeline(dot, node.pipe);
      if (isTrue(value)) return this.walkList(node.kind === 'with' ? value : dot, node.list);
      if (node.elseList) return this.walkList(dot, node.elseList);
      return undefined;
    } finally {
      this.variables.length = scope;
      this.leave();
    }
  }

  private range(dot: unknown, node: BranchNode): Signal {
    const scope = this.variables.length;
    this.enter(node.offset);
    try {
      const value = this.commands(dot, node.pipe);
      const { declarations, isAssignment } = node.pipe;
      const targets = declarations.map((declaration) =>
        isAssignment
          ? this.variable(declaration.name, declaration.offset)
          : { name: declaration.name, value: null },
      );
      if (!isAssignment) this.variables.push(...targets);
      const iterate = (key: unknown, element: unknown): Signal => {
        this.tick(node.offset);
        if (targets.length === 1) targets[0].value = element;
        if (targets.length === 2) {
          targets[0].value = key;
          targets[1].value = element;
        }
        const bodyScope = this.variables.length;
        try {
          return this.walkList(element, node.list);
        } finally {
          this.variables.length = bodyScope;
        }
      };
      let iterations = 0;
      const kind = kindOf(value);
      if (kind === 'list') {
        const list = value as readonly unknown[];
        for (let i = 0; i < list.length; i++) {
          iterations += 1;
          if (iterate(i, list[i] ?? null) === 'break') break;
        }
      } else if (kind === 'map') {
        const map = value as TemplateMap;
        for (const key of mapKeys(map)) {
          iterations += 1;
          if (iterate(key, mapGet(map, key)) === 'break') break;
        }
      } else if (kind === 'number') {
        const count = value as number;
        if (!Number.isInteger(count)) {
          throw this.error(
            'wrong-type',
            `range can't iterate over ${describeValue(count)}`,
            node.pipe.offset,
          );
        }
        if (targets.length > 1) {
          throw this.error(
            'wrong-type',
            'range over a number can declare only one variable',
            node.pipe.offset,
          );
        }
        for (let i = 0; i < count; i++) {
          iterations += 1;
          if (iterate(i, i) === 'break') break;
        }
      } else if (kind !== 'nil' && kind !== 'missing') {
        throw this.error(
          'wrong-type',
          `range can't iterate over ${describeValue(value)}; it needs a list, a map or a number`,
          node.pipe.offset,
        );
      }
      if (iterations === 0 && node.elseList) {
        // As in Go, the else branch sees the declared variables holding the (empty) ranged value.
        if (!isAssignment) for (const target of targets) target.value = value;
        return this.walkList(dot, node.elseList);
      }
      return undefined;
    } finally {
      this.variables.length = scope;
      this.leave();
    }
  }

  // --- pipelines and commands ------------------------------------------------------------------

  /** Evaluates the commands and then declares or assigns the pipeline's variables. */
  private pipeline(dot: unknown, pipe: PipeNode): unknown {
    const value = this.commands(dot, pipe);
    for (const declaration of pipe.declarations) {
      if (pipe.isAssignment) this.variable(declaration.name, declaration.offset).value = value;
      else this.variables.push({ name: declaration.name, value });
    }
    return value;
  }

  private commands(dot: unknown, pipe: PipeNode): unknown {
    let value: Final = ABSENT;
    for (const command of pipe.commands) value = this.command(dot, command, value);
    return value;
  }

  private nested(dot: unknown, pipe: PipeNode): unknown {
    this.enter(pipe.offset);
    try {
      return this.pipeline(dot, pipe);
    } finally {
      this.leave();
    }
  }

  private command(dot: unknown, command: CommandNode, final: Final): unknown {
    const [first, ...rest] = command.args;
    this.tick(first.offset);
    switch (first.kind) {
      case 'identifier':
        if (first.isNamespace) {
          this.notAFunction(
            command.args,
            final,
            `${first.name} is a variable namespace, not a function`,
          );
          return this.namespace(first.name, first.offset);
        }
        return this.call(dot, first, rest, final);
      case 'field':
        this.notAFunction(
          command.args,
          final,
          `.${first.fields[first.fields.length - 1].name} is a field, not a function`,
        );
        return this.fields(dot, first.fields, first.offset);
      case 'variable':
        this.notAFunction(command.args, final, `${first.name} is a variable, not a function`);
        return this.variableNode(first);
      case 'chain':
        this.notAFunction(
          command.args,
          final,
          `.${first.fields[first.fields.length - 1].name} is a field, not a function`,
        );
        return this.chain(dot, first);
      case 'pipe':
        this.notAFunction(command.args, final, 'a parenthesized pipeline is not a function');
        return this.nested(dot, first);
      case 'nil':
        throw this.error('syntax', 'nil is not a command', first.offset);
      default:
        this.notAFunction(command.args, final, `${describeNode(first)} is not a function`);
        return this.argument(dot, first);
    }
  }

  private notAFunction(args: readonly ArgumentNode[], final: Final, why: string): void {
    if (args.length > 1)
      throw this.error('not-a-function', `can't give arguments to ${why}`, args[1].offset);
    if (final !== ABSENT)
      throw this.error('not-a-function', `can't pipe a value into ${why}`, args[0].offset);
  }

  private variableNode(node: VariableNode): unknown {
    const value = this.variable(node.name, node.offset).value;
    return this.fields(value, node.fields, node.offset);
  }

  private chain(dot: unknown, node: ChainNode): unknown {
    const base =
      node.node.kind === 'pipe'
        ? this.nested(dot, node.node)
        : node.node.isNamespace
          ? this.namespace(node.node.name, node.node.offset)
          : this.call(dot, node.node, [], ABSENT);
    return this.fields(base, node.fields, node.offset);
  }

  private argument(dot: unknown, node: ArgumentNode): unknown {
    this.tick(node.offset);
    switch (node.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
      case 'number':
      case 'string':
        return node.value;
      case 'field':
        return this.fields(dot, node.fields, node.offset);
      case 'variable':
        return this.variableNode(node);
      case 'chain':
        return this.chain(dot, node);
      case 'identifier':
        return node.isNamespace
          ? this.namespace(node.name, node.offset)
          : this.call(dot, node, [], ABSENT);
      case 'pipe':
        return this.nested(dot, node);
    }
  }

  private call(
    dot: unknown,
    identifier: IdentifierNode,
    argNodes: readonly ArgumentNode[],
    final: Final,
  ): unknown {
    const { name } = identifier;
    const fn = templateFunction(name);
    const count = argNodes.length + (final === ABSENT ? 0 : 1);
    const context: CallContext = {
      name,
      fail: (code, detail, argument) => {
        const offset =
          argument !== undefined && argument < argNodes.length
            ? argNodes[argument].offset
            : identifier.offset;
        throw this.error(code, detail, offset);
      },
      format: this.formatContext(this.maxOutputBytes),
      maxStringLength: this.maxOutputBytes,
    };
    checkArity(name, count, context);
    if (!fn)
      throw this.error(
        'unknown-name',
        `${quote(name)} is not a template function`,
        identifier.offset,
      );
    this.tick(identifier.offset);
    if (name === 'and' || name === 'or') {
      // Go evaluates and/or lazily and returns the deciding operand itself.
      let value: unknown = null;
      for (const node of argNodes) {
        value = this.argument(dot, node);
        if (isTrue(value) !== (name === 'and')) return value;
      }
      return final === ABSENT ? value : final;
    }
    const args = argNodes.map((node) => this.argument(dot, node));
    if (final !== ABSENT) args.push(final);
    this.currentOffset = identifier.offset;
    return fn.call(args, context);
  }
}

function safeKind(value: unknown): string {
  try {
    return kindOf(value);
  } catch {
    return 'unsupported';
  }
}

function describeNode(node: ArgumentNode): string {
  switch (node.kind) {
    case 'string':
      return `the string ${quote(node.value)}`;
    case 'number':
      return `the number ${node.text}`;
    case 'bool':
      return String(node.value);
    case 'dot':
      return '"."';
    default:
      return node.kind;
  }
}
