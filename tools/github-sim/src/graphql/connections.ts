// Relay connections over in-memory lists, paginated with GitHub's arguments
// (first/last/after/before) and opaque cursors.

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

const PREFIX = 'cursor:v2:';

export function encodeCursor(index: number): string {
  return Buffer.from(`${PREFIX}${index}`).toString('base64');
}

/** The list index a cursor stands for, or undefined for a cursor the sim did not issue. */
export function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  if (!text.startsWith(PREFIX)) return undefined;
  const index = Number(text.slice(PREFIX.length));
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}

/** One page of `items` (the whole list, in order), as the Relay specification slices it. */
export function connectionOf<T>(items: readonly T[], args: ConnectionArgs): Connection<T> {
  let start = 0;
  let end = items.length;
  const after = args.after == null ? undefined : decodeCursor(args.after);
  const before = args.before == null ? undefined : decodeCursor(args.before);
  if (after !== undefined) start = Math.min(end, after + 1);
  if (before !== undefined) end = Math.max(start, Math.min(end, before));
  const windowStart = start;
  const windowEnd = end;
  if (args.first != null) end = Math.min(end, start + Math.max(0, args.first));
  if (args.last != null) start = Math.max(start, end - Math.max(0, args.last));
  const edges = items
    .slice(start, end)
    .map((node, i) => ({ cursor: encodeCursor(start + i), node }));
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: args.first != null ? end < windowEnd : false,
      hasPreviousPage: args.last != null ? start > windowStart : false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: items.length,
  };
}
