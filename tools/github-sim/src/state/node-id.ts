// GitHub's legacy global node ids: base64("0" + length of type name + ":" + type name + database id),
// e.g. "MDEwOlJlcG9zaXRvcnkx" is Repository 1. Clients treat them as opaque; GraphQL decodes them.

/** The GraphQL type names the simulator issues node ids for. */
export type NodeType =
  | 'User'
  | 'Organization'
  | 'Repository'
  | 'PullRequest'
  | 'IssueComment'
  | 'PullRequestReview'
  | 'StatusContext'
  | 'CheckRun'
  | 'CheckSuite'
  | 'Label'
  | 'Hook';

export function encodeNodeId(type: NodeType, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

/** Returns the type and database id of a node id the simulator issued, or null for anything else. */
export function decodeNodeId(nodeId: string): { type: NodeType; id: number } | null {
  const text = Buffer.from(nodeId, 'base64').toString('utf8');
  const match = /^0(\d+):([A-Za-z]+?)(\d+)$/.exec(text);
  if (!match || Number(match[1]) !== match[2]!.length) return null;
  return { type: match[2] as NodeType, id: Number(match[3]) };
}
