import type { ArgumentNode, ListNode, PipeNode } from './ast.js';
import type { TemplatePosition } from './errors.js';
import type { ParsedTemplate } from './parser.js';

/** A variable path a template reads, such as `['outputs', 'headerCount']`, and where it is written. */
export interface TemplateReference {
  path: string[];
  position: TemplatePosition;
  /** Offset of the reference in the template source. */
  offset: number;
}

/**
 * Every variable path the template reads from the namespaces, whichever way it is spelled:
 * `repository.name`, `.repository.name`, `$.repository.name`, `(repository).name`, and fields
 * of the dot inside `with` (`${{ with outputs.x }}${{ .y }}` reads `outputs.x.y`). Paths read
 * through other variables or inside `range` (where the dot is each element) are reported only
 * up to what is known statically: their root reference is where the value was taken.
 * `index outputs "x"` reports `['outputs']`; it is the way to probe for an optional output.
 */
export function templateReferences(template: ParsedTemplate): TemplateReference[] {
  const found: Array<{ path: string[]; offset: number }> = [];
  visitList(template.root, [], found);
  return found
    .sort((a, b) => a.offset - b.offset)
    .map(({ path, offset }) => ({ path, offset, position: template.lines.positionAt(offset) }));
}

type DotPath = readonly string[] | undefined;
type Found = Array<{ path: string[]; offset: number }>;

function visitList(list: ListNode, dot: DotPath, found: Found): void {
  for (const node of list.nodes) {
    switch (node.kind) {
      case 'action':
        visitPipe(node.pipe, dot, found);
        break;
      case 'if':
      case 'with':
      case 'range': {
        visitPipe(node.pipe, dot, found);
        let inner: DotPath = dot;
        if (node.kind === 'with') inner = pipePath(node.pipe, dot);
        if (node.kind === 'range') inner = undefined;
        visitList(node.list, inner, found);
        if (node.elseList) visitList(node.elseList, dot, found);
        break;
      }
      default:
        break;
    }
  }
}

function visitPipe(pipe: PipeNode, dot: DotPath, found: Found): void {
  for (const command of pipe.commands) {
    for (const arg of command.args) visitArgument(arg, dot, found);
  }
}

function visitArgument(arg: ArgumentNode, dot: DotPath, found: Found): void {
  if (arg.kind === 'dot') return;
  const path = staticPath(arg, dot);
  if (path && path.length > 0) {
    found.push({ path: [...path], offset: arg.offset });
    return;
  }
  if (arg.kind === 'pipe') visitPipe(arg, dot, found);
  if (arg.kind === 'chain' && arg.node.kind === 'pipe') visitPipe(arg.node, dot, found);
}

/** The path an argument reads, when it can be known without evaluating anything. */
function staticPath(arg: ArgumentNode, dot: DotPath): DotPath {
  const names = (fields: ReadonlyArray<{ name: string }>): string[] =>
    fields.map((field) => field.name);
  switch (arg.kind) {
    case 'identifier':
      return arg.isNamespace ? [arg.name] : undefined;
    case 'field':
      return dot ? [...dot, ...names(arg.fields)] : undefined;
    case 'variable':
      return arg.name === '$' ? names(arg.fields) : undefined;
    case 'chain': {
      const base = arg.node.kind === 'pipe' ? pipePath(arg.node, dot) : staticPath(arg.node, dot);
      return base ? [...base, ...names(arg.fields)] : undefined;
    }
    case 'dot':
      return dot;
    case 'pipe':
      return pipePath(arg, dot);
    default:
      return undefined;
  }
}

function pipePath(pipe: PipeNode, dot: DotPath): DotPath {
  const [command] = pipe.commands;
  if (pipe.commands.length !== 1 || command.args.length !== 1) return undefined;
  return staticPath(command.args[0], dot);
}
