import { createHash } from 'node:crypto';
import type { EventsTopology } from '../nats/jetstream-topology.js';

/**
 * Stream naming for the Campaigns domain. Stream ids are `<category>-<id>`; the category routes
 * the event to `<prefix>.<category>.<Type>` on JetStream.
 *
 * - `campaign-<name>`: what people asked for (SpecApplied) and what it resolved to.
 * - `execution-<executionId>`: one workspace's run of the steps for one application.
 * - `changeset-<changesetId>`: one changeset's desired state, every reconciler operation and
 *   every observation of it on the code host.
 * - `bulk-<operationId>`: one bulk operation over a campaign's changesets and its results.
 * - `deadletter-<consumer>`: the events a consumer gave up on.
 * - `security-<namespace>`: requests refused in a namespace (AccessDenied).
 */
export const DOMAIN_CATEGORIES = {
  campaign: 'campaign',
  execution: 'execution',
  changeset: 'changeset',
  bulk: 'bulk',
  deadletter: 'deadletter',
  security: 'security',
} as const;

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function campaignStream(campaign: string): string {
  return `campaign-${campaign}`;
}

export function executionStream(executionId: string): string {
  return `execution-${executionId}`;
}

export function changesetStream(changesetId: string): string {
  return `changeset-${changesetId}`;
}

export function bulkStream(operationId: string): string {
  return `bulk-${operationId}`;
}

/** Where the refusals of requests in a namespace are recorded (`AccessDenied`). */
export function securityStream(namespace: string): string {
  return `security-${namespace}`;
}

/** Where a consumer records the events it gave up on (`ConsumerDeadLettered`). */
export function deadLetterStream(consumer: string): string {
  return `deadletter-${consumer}`;
}

/** One changeset of a campaign: a repository and the head branch the campaign pushes to. */
export function changesetId(campaign: string, repository: string, headBranch: string): string {
  return sha256Hex(`${campaign}\0${repository}\0${headBranch}`).slice(0, 32);
}

/**
 * A pull request a campaign imports (`importChangesets`): its repository and number. Distinct
 * from every branch changeset's id, since no branch name holds a NUL.
 */
export function importedChangesetId(campaign: string, repository: string, number: number): string {
  return sha256Hex(`${campaign}\0${repository}\0import\0${number}`).slice(0, 32);
}

/**
 * The head branch an imported changeset's events name: its number (`#120`), since the campaign
 * pushes no branch of it. Unique per repository among imports; the id (`importedChangesetId`)
 * is what tells it from a branch changeset.
 */
export function importedHeadBranch(number: number): string {
  return `#${number}`;
}

/** Where one execution runs: a repository, the branch it starts from, and a path in it. */
export interface WorkspaceIdentity {
  repository: string;
  branch: string;
  /** '' for the repository's root. */
  path: string;
}

/**
 * One workspace's execution for one spec application; the same inputs give the same id. The
 * branch is part of it: `on: repository` with several `branches:` runs each branch on its own.
 */
export function executionId(
  applyId: string,
  { repository, branch, path }: WorkspaceIdentity,
): string {
  return sha256Hex(`${applyId}\0${repository}\0${branch}\0${path}`).slice(0, 32);
}

/**
 * Deterministic event id (UUID-shaped) for an event that a handler may produce more than once
 * (redelivery, a restarted worker): the same cause gives the same id, so the store dedupes.
 */
export function deterministicEventId(...parts: readonly string[]): string {
  const h = sha256Hex(parts.join('\0'));
  // Version nibble 8 ("custom", RFC 9562) and the RFC variant, so it is a valid UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The JetStream work queue of execution jobs: spec-service publishes, executors compete. */
export interface JobsTopology {
  streamName: string;
  subject: string;
  /** The one durable consumer every executor replica pulls from. */
  durableName: string;
}

export function jobsTopology(topology: EventsTopology): JobsTopology {
  return {
    streamName: `${topology.streamName}_JOBS`,
    subject: `jobs.${topology.subjectPrefix}.execute`,
    durableName: 'executor',
  };
}
