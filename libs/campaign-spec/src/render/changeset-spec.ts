import type { CommitAuthor, PublicationState } from '../spec/campaign-spec.schema.js';
import type { TemplateValue } from '../template/index.js';

/**
 * The inputs and output of rendering a spec's changesetTemplate for one workspace. The executor
 * produces `StepResults`; the spec-service renders them into `ChangesetSpec`s (desired state).
 */

/** Where the steps ran: a repository at a branch, or one workspace (project) inside it. */
export interface Workspace {
  /** HOST/OWNER/NAME, e.g. `github.com/acme/api`. */
  readonly repository: string;
  /** The branch the changes are proposed to (the base branch), e.g. `main`. */
  readonly branch: string;
  /** The commit of `branch` the steps ran on. */
  readonly baseRevision: string;
  /** The workspace directory relative to the repository root, no leading `/` or `./`; `''` for the root. */
  readonly path: string;
  /** Files (relative to the repository root) where the `on` queries matched, for `repository.search_result_paths`. */
  readonly searchResultPaths: readonly string[];
}

/** Paths relative to the repository root. A renamed file is listed by its new path. */
export interface ChangedFiles {
  readonly modified: readonly string[];
  readonly added: readonly string[];
  readonly deleted: readonly string[];
  readonly renamed: readonly string[];
}

/** One file's part of the unified diff the steps produced. */
export interface FileDiff {
  /** The path after the change (the old path for a deleted file). */
  readonly path: string;
  /** The unified diff of this file, with its `diff --git` header. */
  readonly patch: string;
}

/** What one step did, for `previous_step.*` and `step.*`. */
export interface StepResult {
  /** Index of the step in `spec.steps`. */
  readonly stepIndex: number;
  /** The step's `if:` was false, so it did not run (its stdout/stderr are empty). */
  readonly skipped: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The files this step changed. */
  readonly files: ChangedFiles;
}

/** What all the steps of one workspace produced. */
export interface StepResults {
  /** The files all steps changed together (what `steps.modified_files` etc. list). */
  readonly files: ChangedFiles;
  /**
   * Per-file diffs of the cumulative change; used to split changes with transformChanges and to
   * attach each changeset's diff. Optional: without it, changesets carry file lists only.
   */
  readonly fileDiffs?: readonly FileDiff[];
  /** The outputs after the last step, by name (json/yaml outputs already parsed). */
  readonly outputs: Readonly<Record<string, TemplateValue>>;
  /** Each step that was considered, in order. */
  readonly steps: readonly StepResult[];
}

/** Facts about the campaign that are not in the spec. */
export interface RenderContext {
  /**
   * Markdown that links back to the campaign (`batch_change_link`). When given and the body does
   * not use `batch_change_link`, it is appended to the body after a blank line.
   */
  readonly campaignLink?: string;
}

/** The desired state of one changeset (pull/merge request). */
export interface ChangesetSpec {
  /** HOST/OWNER/NAME. */
  readonly repository: string;
  /** The base branch and the commit the changes were made on. */
  readonly baseRef: string;
  readonly baseRevision: string;
  /** The branch the commit is pushed to (without `refs/heads/`). */
  readonly headRef: string;
  readonly title: string;
  readonly body: string;
  readonly commit: { readonly message: string; readonly author?: CommitAuthor };
  /** `true`, `false` or `'draft'`, resolved for this repository and branch. */
  readonly published: PublicationState;
  /** Push to a fork (`changesetTemplate.fork`); undefined leaves it to the site's default. */
  readonly fork?: boolean;
  /** The files of this changeset. */
  readonly files: ChangedFiles;
  /** The unified diff of this changeset, when `StepResults.fileDiffs` was given. */
  readonly diff?: string;
  /** The transformChanges group this changeset holds; undefined for the default changeset. */
  readonly group?: { readonly directory: string };
}

/** Rendering failed: a template error or a rendered value that cannot be used (e.g. a branch with spaces). */
export class ChangesetRenderError extends Error {
  override readonly name = 'ChangesetRenderError';

  constructor(
    /** The spec field, e.g. `changesetTemplate.branch`. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}
