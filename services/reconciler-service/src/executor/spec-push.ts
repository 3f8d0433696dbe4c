import {
  appendObjectToPack,
  CodeHostError,
  commitObject,
  PackFileError,
  parseRepositoryName,
  type CodeHostResolver,
} from '@campaigns/codehost';
import type { EventsLogger, PostgresEventStore } from '@campaigns/events';
import type { BranchChangesetSpec } from '../planner/index.js';
import { buildCommit } from './commit-builder.js';
import type { Round } from './round.js';
import { specCommitFields } from './spec-commit.js';

/**
 * Pushes the spec's commit, replacing the branch; returns its sha. With the workspace's tree
 * and pack in the spec, the commit is built here and sent with the pack in one request;
 * otherwise (older specs, a split diff, a host that refuses the pack) the base revision is
 * fetched, the diff applied and committed by git. Both give the same commit.
 */
export async function pushSpecCommit(
  deps: { store: PostgresEventStore; resolver: CodeHostResolver; logger: EventsLogger },
  r: Round,
  spec: BranchChangesetSpec,
  /** Where the branch goes: the changeset's repository, or a fork of it. */
  target: string,
): Promise<string> {
  const repo = r.row.repository;
  const host = r.host!;
  const packed = await packedCommit(deps, r);
  if (packed !== null) {
    // A fork shares its network's objects on GitHub, so the pack built on the base revision
    // applies there as well. The branch is believed where the last push put it, if it went here.
    const sameTarget = (r.row.headRepository ?? repo) === target;
    const result = await host.pushPack({
      repo: target,
      branch: r.row.headBranch,
      commitSha: packed.sha,
      pack: packed.pack,
      expectedOldSha: sameTarget ? r.row.headRefOid : null,
    });
    if (result.status === 'pushed') return packed.sha;
    deps.logger.warn(
      { changeset_id: r.changesetId, reason: result.reason },
      'the code host refused the pack; pushing from a fetched repository',
    );
  }
  const diff = await deps.store.getBlob(spec.diffSha256);
  if (diff === null) {
    throw new CodeHostError('terminal', `the diff blob ${spec.diffSha256} is missing`, {
      operation: 'push',
      repo,
    });
  }
  const hostConfig = deps.resolver.resolve(repo, r.row.campaign);
  const name = parseRepositoryName(repo);
  const built = await buildCommit({
    repo,
    remoteUrl: `${hostConfig.url}/${name.owner}/${name.name}.git`,
    token: hostConfig.token,
    baseRef: spec.baseRef,
    baseRevision: r.desired.spec!.baseRevision,
    diff,
    message: spec.commit.message,
    author: spec.commit.author,
    date: r.desired.recordedAt,
  });
  try {
    await host.pushBranch({
      repo: target,
      localRepoPath: built.localRepoPath,
      commitSha: built.commitSha,
      branch: r.row.headBranch,
      force: true,
    });
  } finally {
    await built.dispose();
  }
  return built.commitSha;
}

/** The spec's commit and the executor's pack with it appended; null when it cannot be built here. */
async function packedCommit(
  deps: { store: PostgresEventStore; logger: EventsLogger },
  r: Round,
): Promise<{ sha: string; pack: Buffer } | null> {
  const fields = specCommitFields(r.desired);
  const commit = fields === null ? null : commitObject(fields);
  if (commit === null) return null;
  const pack = await deps.store.getBlob(r.desired.spec!.tree!.objects.sha256);
  if (pack === null) return null;
  try {
    return { sha: commit.sha, pack: appendObjectToPack(pack, 'commit', commit.content) };
  } catch (error) {
    if (!(error instanceof PackFileError)) throw error;
    deps.logger.warn(
      { changeset_id: r.changesetId, err: error.message },
      "the workspace's pack is unusable; pushing from a fetched repository",
    );
    return null;
  }
}
