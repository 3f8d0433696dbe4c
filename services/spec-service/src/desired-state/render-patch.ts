import {
  renderChangesetSpecs,
  type CampaignSpec,
  type StepResults,
} from '@campaigns/campaign-spec';
import {
  sha256Hex,
  type BlobRefData,
  type ChangesetSpecData,
  type EventData,
  type PatchComputed,
} from '@campaigns/events';

type PatchComputedData = EventData<typeof PatchComputed>;

/**
 * The commit author of a changeset whose template names none. The reconciler pushes commits with
 * it; a spec sets its own with `changesetTemplate.commit.author`.
 */
export const DEFAULT_COMMIT_AUTHOR = Object.freeze({
  name: 'Campaigns',
  email: 'campaigns@noreply.localhost',
});

/** The changeset cannot be rendered from these results; recorded as the execution's failure. */
export class RenderFailure extends Error {
  override readonly name = 'RenderFailure';
}

/** One changeset's desired state, rendered from a workspace's patch. */
export interface RenderedChangeset {
  headBranch: string;
  spec: ChangesetSpecData;
}

export interface PatchRendering {
  changesets: RenderedChangeset[];
  /** Diffs of changesets that carry a part of the workspace's diff: to store as blobs. */
  newBlobs: string[];
}

/**
 * Renders the changeset template for one workspace's patch, given its step results blob. A
 * changeset whose diff is the workspace's whole diff reuses the patch's diff blob and carries its
 * `tree`, so the reconciler can push it without fetching; a part of the diff (transformChanges)
 * is a new blob. Throws RenderFailure or ChangesetRenderError when no changeset can be made.
 */
export function renderPatch(
  spec: CampaignSpec,
  patch: PatchComputedData,
  resultsBlob: Buffer | undefined,
): PatchRendering {
  if (!resultsBlob)
    throw new RenderFailure(`the step results blob ${patch.results.sha256} is missing`);
  let results: StepResults;
  try {
    results = JSON.parse(resultsBlob.toString('utf8')) as StepResults;
  } catch (err) {
    throw new RenderFailure(`the step results are not JSON: ${(err as Error).message}`);
  }
  const rendered = renderChangesetSpecs(spec, patch.workspace, results);
  const publicationRate = spec['x-campaigns']?.publicationRate;
  const autoMerge = spec['x-campaigns']?.autoMerge;
  const newBlobs: string[] = [];
  const changesets = rendered.map((cs): RenderedChangeset => {
    let diff: BlobRefData;
    let whole: boolean;
    if (cs.diff !== undefined) {
      const sha256 = sha256Hex(cs.diff);
      whole = patch.diff !== null && sha256 === patch.diff.sha256;
      diff = whole ? patch.diff! : { sha256, size: Buffer.byteLength(cs.diff) };
      if (!whole) newBlobs.push(cs.diff);
    } else if (rendered.length === 1 && patch.diff) {
      whole = true;
      diff = patch.diff;
    } else {
      throw new RenderFailure(
        `changeset ${cs.headRef}: the step results carry no per-file diffs to split the changes by transformChanges`,
      );
    }
    return {
      headBranch: cs.headRef,
      spec: {
        baseRef: cs.baseRef,
        baseRevision: cs.baseRevision,
        title: cs.title,
        body: cs.body,
        commit: {
          message: cs.commit.message,
          author: cs.commit.author
            ? { name: cs.commit.author.name, email: cs.commit.author.email }
            : { ...DEFAULT_COMMIT_AUTHOR },
        },
        published: cs.published,
        // Only when the template says: absent leaves it to the code host's default.
        ...(cs.fork === undefined ? {} : { fork: cs.fork }),
        ...(publicationRate === undefined ? {} : { publicationRate }),
        diff,
        files: {
          modified: [...cs.files.modified],
          added: [...cs.files.added],
          deleted: [...cs.files.deleted],
          renamed: [...cs.files.renamed],
        },
        ...(whole && patch.tree ? { tree: patch.tree } : {}),
        ...(autoMerge === undefined
          ? {}
          : {
              autoMerge: {
                method: autoMerge.method,
                // Only when asked for: events without it read as the reconciler merging itself.
                ...(autoMerge.native === true ? { native: true } : {}),
              },
            }),
      },
    };
  });
  return { changesets, newBlobs };
}
