/**
 * The parsed form of a template, shaped like Go's text/template/parse tree. Every node keeps the
 * offset of its first character in the template source so errors can point at it.
 */

export interface ListNode {
  readonly kind: 'list';
  readonly offset: number;
  readonly nodes: readonly TemplateNode[];
}

export type TemplateNode = TextNode | ActionNode | BranchNode | LoopControlNode;

export interface TextNode {
  readonly kind: 'text';
  readonly offset: number;
  readonly text: string;
}

/** `${{ pipeline }}`: prints the pipeline's value unless it declares variables. */
export interface ActionNode {
  readonly kind: 'action';
  readonly offset: number;
  readonly pipe: PipeNode;
}

/** `if`, `with` and `range`; `elseList` holds the `else` branch (an `else if` is an `if` alone in it). */
export interface BranchNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly offset: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | undefined;
}

export interface LoopControlNode {
  readonly kind: 'break' | 'continue';
  readonly offset: number;
}

export interface VariableDeclaration {
  readonly name: string;
  readonly offset: number;
}

/** `$x := a | b c` — declarations (or assignments) then commands separated by `|`. */
export interface PipeNode {
  readonly kind: 'pipe';
  readonly offset: number;
  readonly declarations: readonly VariableDeclaration[];
  readonly isAssignment: boolean;
  readonly commands: readonly CommandNode[];
}

/** A function call or a single operand; the previous command's value is appended as the last argument. */
export interface CommandNode {
  readonly kind: 'command';
  readonly offset: number;
  readonly args: readonly ArgumentNode[];
}

export type ArgumentNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

/** One `.name` step of a field chain, with its own offset for precise errors. */
export interface FieldStep {
  readonly name: string;
  readonly offset: number;
}

/** `.a.b` — fields of the dot. */
export interface FieldNode {
  readonly kind: 'field';
  readonly offset: number;
  readonly fields: readonly FieldStep[];
}

/** `$x.a.b` (or `$`, `$.a`). */
export interface VariableNode {
  readonly kind: 'variable';
  readonly offset: number;
  readonly name: string;
  readonly fields: readonly FieldStep[];
}

/** `(pipeline).a.b` or `repository.name`: fields of something that is not the dot or a variable. */
export interface ChainNode {
  readonly kind: 'chain';
  readonly offset: number;
  readonly node: IdentifierNode | PipeNode;
  readonly fields: readonly FieldStep[];
}

/** A function (`join`) or a namespace (`repository`). */
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly offset: number;
  readonly name: string;
  readonly isNamespace: boolean;
}

export interface DotNode {
  readonly kind: 'dot';
  readonly offset: number;
}

export interface NilNode {
  readonly kind: 'nil';
  readonly offset: number;
}

export interface BoolNode {
  readonly kind: 'bool';
  readonly offset: number;
  readonly value: boolean;
}

export interface NumberNode {
  readonly kind: 'number';
  readonly offset: number;
  readonly value: number;
  readonly text: string;
}

export interface StringNode {
  readonly kind: 'string';
  readonly offset: number;
  readonly value: string;
  readonly text: string;
}
