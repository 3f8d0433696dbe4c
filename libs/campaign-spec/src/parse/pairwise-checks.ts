import {
  GlobError,
  isLiteralGlob,
  literalPrefix,
  matchesGlob,
  type GlobWork,
} from '../glob/glob.js';

/**
 * Checks that compare the entries of a list with each other, without comparing every pair:
 * hashing and sorting find equal and prefix-related entries in O(n log n), and a glob is matched
 * only against the names that start with its literal prefix, each match charged to a shared budget.
 */

/** Distinct names in code-unit order, so that the names with a given prefix are consecutive. */
export class SortedNames {
  private readonly names: string[];

  constructor(names: Iterable<string>) {
    this.names = [...new Set(names)].sort();
  }

  /** The names that start with `prefix`, found by binary search. */
  *withPrefix(prefix: string): Generator<string> {
    let low = 0;
    let high = this.names.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.names[middle]! < prefix) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < this.names.length && this.names[i]!.startsWith(prefix); i++) {
      yield this.names[i]!;
    }
  }
}

/**
 * Whether `glob` matches `name`, charging the budget one step for the comparison and the glob
 * matcher's own steps; throws GlobError when the budget runs out.
 */
function matchesWithin(glob: string, name: string, work: GlobWork): boolean {
  work.remaining -= 1;
  return matchesGlob(glob, name, work);
}

/** Two workspace entries that certainly match a repository in common. */
export interface WorkspaceOverlap {
  readonly later: number;
  readonly earlier: number;
  /** The repository both match, or undefined when the globs are the same. */
  readonly shared?: string;
}

/**
 * For each workspace entry that overlaps an earlier one, the earliest such entry: the same glob,
 * a literal repository name matched by the other glob, or a repository named in the spec that both
 * match. `complete` is false when the budget ran out before every candidate was matched.
 */
export function findWorkspaceOverlaps(
  entries: readonly { index: number; glob: string }[],
  named: readonly string[],
  work: GlobWork,
): { overlaps: WorkspaceOverlap[]; complete: boolean } {
  /** The best overlap found for each later entry: earliest other entry, then the surest kind. */
  const best = new Map<number, WorkspaceOverlap & { rank: number }>();
  const consider = (a: number, b: number, rank: number, shared?: string): void => {
    const [earlier, later] = a < b ? [a, b] : [b, a];
    const known = best.get(later);
    if (!known || earlier < known.earlier || (earlier === known.earlier && rank < known.rank)) {
      best.set(later, { later, earlier, shared, rank });
    }
  };

  const firstOfGlob = new Map<string, number>();
  for (const { index, glob } of entries) {
    const first = firstOfGlob.get(glob);
    if (first === undefined) firstOfGlob.set(glob, index);
    else consider(first, index, 0);
  }
  const literals = new Map<string, number>();
  for (const [glob, index] of firstOfGlob) if (isLiteralGlob(glob)) literals.set(glob, index);
  const namedSet = new Set(named);
  const names = new SortedNames([...literals.keys(), ...namedSet]);

  /** For each name, the (first) entries of the distinct non-literal globs that match it. */
  const matchedBy = new Map<string, number[]>();
  let complete = true;
  try {
    for (const [glob, index] of firstOfGlob) {
      if (isLiteralGlob(glob)) continue;
      for (const name of names.withPrefix(literalPrefix(glob))) {
        if (!matchesWithin(glob, name, work)) continue;
        const list = matchedBy.get(name);
        if (list) list.push(index);
        else matchedBy.set(name, [index]);
      }
    }
  } catch (err) {
    if (!(err instanceof GlobError)) throw err;
    complete = false;
  }

  for (const [name, globs] of matchedBy) {
    const literal = literals.get(name);
    if (literal !== undefined) for (const g of globs) consider(literal, g, 1, name);
    if (namedSet.has(name)) {
      const all = literal === undefined ? globs : [literal, ...globs];
      const first = all.reduce((a, b) => Math.min(a, b));
      for (const g of all) if (g !== first) consider(first, g, 2, name);
    }
  }
  const overlaps = [...best.values()]
    .sort((a, b) => a.later - b.later)
    .map(({ later, earlier, shared }) => ({ later, earlier, shared }));
  return { overlaps, complete };
}

interface BranchNode {
  readonly children: Map<string, BranchNode>;
  /** The first group whose branch ends here. */
  group?: number;
  /** The first group whose branch passes through or ends here (the node's creator). */
  readonly first: number;
}

/**
 * For each branch that cannot coexist in Git with an earlier one (`a` and `a/b`: one would be a
 * directory of the other), the earliest such branch's index. A tree of '/'-separated components
 * finds both directions in time linear in the total length of the branches. Equal branches are
 * not conflicts here (they are reported as duplicates).
 */
export function findBranchConflicts(
  branches: readonly (string | undefined)[],
  work: { branchSteps: number },
): { index: number; other: number }[] {
  const root: BranchNode = { children: new Map(), first: -1 };
  const conflicts: { index: number; other: number }[] = [];
  branches.forEach((branch, index) => {
    if (branch === undefined) return;
    const components = branch.split('/');
    let node = root;
    let other: number | undefined;
    for (const component of components) {
      work.branchSteps += 1;
      // An earlier branch ending at a node this one passes through is a directory of it.
      if (node !== root && node.group !== undefined) other = Math.min(other ?? index, node.group);
      let child = node.children.get(component);
      if (!child) {
        child = { children: new Map(), first: index };
        node.children.set(component, child);
      }
      node = child;
    }
    // The same branch as an earlier group is a duplicate, reported as such.
    if (node.group !== undefined) return;
    node.group = index;
    // Earlier branches below this one's end are inside it, as a directory.
    if (node.children.size > 0) other = Math.min(other ?? index, node.first);
    if (other !== undefined) conflicts.push({ index, other });
  });
  return conflicts;
}
