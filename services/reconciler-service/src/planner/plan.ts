/**
 * The reconciler's pure planner: from what the campaign wants (the current changeset spec), what
 * it wanted last time (the previous spec) and what the reconciler recorded about the changeset,
 * decide which code host operations converge the changeset. Deciding only; the executor does.
 */
import type {
  BranchChangesetSpec,
  ChangesetSpec,
  ChangesetState,
  PushedCommit,
} from './changeset.js';
import { canEnableNativeAutoMerge, mergeBlocker } from './merge.js';
import { inExecutionOrder, type Operation, type OperationType } from './operation.js';

/** What changed between the previous and the current spec (all false without a previous spec). */
export interface ChangesetSpecDelta {
  readonly titleChanged: boolean;
  readonly bodyChanged: boolean;
  readonly baseRefChanged: boolean;
  readonly diffChanged: boolean;
  readonly commitMessageChanged: boolean;
  readonly commitAuthorChanged: boolean;
  /** `published` went from `"draft"` to `true`. */
  readonly undraftRequested: boolean;
}

/** A spec the planner cannot act on; the reconciler records it as a terminal `ReconcileFailed`. */
export type PlanningError =
  | {
      readonly kind: 'draft-unsupported';
      readonly repository: string;
      readonly message: string;
    }
  | {
      readonly kind: 'cannot-unpublish';
      readonly repository: string;
      readonly message: string;
    }
  | {
      readonly kind: 'spec-kind-mismatch';
      readonly repository: string;
      readonly message: string;
    }
  | {
      readonly kind: 'fork-unsupported';
      readonly repository: string;
      readonly message: string;
    };

/** The planner's answer: operations in execution order, or an error and no operations. */
export interface ChangesetPlan {
  readonly operations: readonly Operation[];
  readonly delta: ChangesetSpecDelta;
  readonly error: PlanningError | null;
}

const NO_DELTA: ChangesetSpecDelta = {
  titleChanged: false,
  bodyChanged: false,
  baseRefChanged: false,
  diffChanged: false,
  commitMessageChanged: false,
  commitAuthorChanged: false,
  undraftRequested: false,
};

/** Compares two branch specs field by field; used for audit reasons and the CLI's preview. */
export function compareChangesetSpecs(
  previous: ChangesetSpec | null,
  current: ChangesetSpec | null,
): ChangesetSpecDelta {
  if (previous?.kind !== 'branch' || current?.kind !== 'branch') return NO_DELTA;
  return {
    titleChanged: previous.title !== current.title,
    bodyChanged: previous.body !== current.body,
    baseRefChanged: previous.baseRef !== current.baseRef,
    diffChanged: previous.diffSha256 !== current.diffSha256,
    commitMessageChanged: previous.commit.message !== current.commit.message,
    commitAuthorChanged:
      previous.commit.author.name !== current.commit.author.name ||
      previous.commit.author.email !== current.commit.author.email,
    undraftRequested: previous.published === 'draft' && current.published === true,
  };
}

/**
 * Plans the operations that bring `changeset` to `currentSpec`.
 *
 * Level-based: pushes and updates are planned by comparing the current spec with what the
 * changeset records (last pushed commit, last known title/body/base), so an operation that
 * failed or was interrupted is planned again; `previousSpec` only explains why.
 *
 * `currentSpec` is null when the changeset's repository left the campaign's spec. A current spec
 * whose head branch differs from the changeset's is a different changeset: the caller keys
 * changesets by (repository, head branch), creates a new one for the new branch and plans the old
 * one with that spec, which retires it (close + archive) like a dropped repository.
 */
export function planChangesetOperations(
  previousSpec: ChangesetSpec | null,
  currentSpec: ChangesetSpec | null,
  changeset: ChangesetState,
): ChangesetPlan {
  const delta = compareChangesetSpecs(previousSpec, currentSpec);
  const planned: Operation[] = [];
  const add = (type: OperationType, reason: string): void => {
    if (!planned.some((operation) => operation.type === type)) planned.push({ type, reason });
  };
  const result = (): ChangesetPlan => ({
    operations: inExecutionOrder(planned),
    delta,
    error: null,
  });
  const failed = (error: PlanningError): ChangesetPlan => ({ operations: [], delta, error });

  // Merged and read-only changesets are final: nothing we could do would be welcome.
  if (changeset.externalState === 'merged' || changeset.externalState === 'read-only') {
    return result();
  }
  if (changeset.detached) return result();

  if (changeset.ownership === 'tracked') {
    if (currentSpec === null) {
      add('detach', 'the imported changeset is no longer in the spec; it is not ours to close');
      return result();
    }
    if (currentSpec.kind !== 'import') {
      return failed(kindMismatch(changeset, 'an imported changeset', 'a branch changeset spec'));
    }
    if (changeset.publicationState === 'unpublished') {
      add('import', `importChangesets lists #${currentSpec.externalId}`);
      add('sync', 'load the imported changeset from the code host');
    }
    return result();
  }

  if (
    currentSpec === null ||
    (currentSpec.kind === 'branch' && currentSpec.headBranch !== changeset.headBranch)
  ) {
    const why =
      currentSpec === null
        ? 'the repository is no longer in the spec'
        : `the head branch changed from ${changeset.headBranch ?? '(none)'} to ${currentSpec.headBranch}`;
    planRetirement(changeset, why, add);
    return result();
  }
  if (currentSpec.kind !== 'branch') {
    return failed(kindMismatch(changeset, 'a changeset this campaign created', 'an import spec'));
  }

  if (changeset.publicationState === 'unpublished') {
    return planFirstPublication(currentSpec, changeset, add, result, failed);
  }
  if (currentSpec.published === false) {
    return failed({
      kind: 'cannot-unpublish',
      repository: changeset.repository,
      message:
        `${changeset.repository}: the changeset is already published and cannot be unpublished; ` +
        'set published to true or "draft", or remove the repository from the spec to close it',
    });
  }
  // Deleted on the code host (GitLab lets people delete merge requests): nothing left to act on.
  if (changeset.externalState === 'deleted') return result();

  if (changeset.externalState === 'closed') {
    // Sourcegraph's planner reopens a closed changeset its batch change still owns and wants;
    // we follow it: the spec is the source of truth, removing the repository is how to close.
    add('reopen', 'the changeset is closed but the spec still wants it open');
  }
  if (currentSpec.published === true && changeset.draft) {
    add(
      'undraft',
      delta.undraftRequested
        ? 'published changed from "draft" to true'
        : 'the spec wants it ready for review but it is a draft',
    );
  }
  const pushReason = whyPush(currentSpec, changeset.lastPushed, delta);
  if (pushReason !== null) add('push', pushReason);
  const updateReason = whyUpdate(currentSpec, changeset, delta);
  if (updateReason !== null) add('update', updateReason);
  else if (pushReason !== null)
    add('sync', 'read the new head commit and checks back from the code host');
  planAutoMerge(currentSpec, changeset, planned, add);
  return result();
}

/**
 * Merges when the spec asks for auto-merge and the changeset's checks and review allow it
 * (`mergeBlocker`), as it will be once this round's reopen or undraft are done; with `native`,
 * on a host that has its own auto-merge, turns that on while the checks run instead
 * (`canEnableNativeAutoMerge`). Not in a round that pushes or moves the base: the checks and
 * review were observed for another head or base, so the merge waits for their next observation.
 */
function planAutoMerge(
  spec: BranchChangesetSpec,
  changeset: ChangesetState,
  planned: readonly Operation[],
  add: Add,
): void {
  if (spec.autoMerge === null) return;
  if (planned.some((o) => o.type === 'push') || changeset.baseRef !== spec.baseRef) return;
  const reopened = planned.some((o) => o.type === 'reopen');
  const undrafted = planned.some((o) => o.type === 'undraft');
  const afterRound = {
    ...changeset,
    externalState: reopened ? ('open' as const) : changeset.externalState,
    draft: undrafted ? false : changeset.draft,
  };
  const { method, native } = spec.autoMerge;
  if (native && changeset.supportsNativeAutoMerge && canEnableNativeAutoMerge(afterRound)) {
    add('enable-auto-merge', `auto-merge (${method}): the code host merges it once checks pass`);
    return;
  }
  if (mergeBlocker(afterRound) !== null) return;
  const review =
    changeset.reviewDecision === 'APPROVED' ? 'it is approved' : 'no review is required';
  add('merge', `auto-merge (${method}): checks pass and ${review}`);
}

type Add = (type: OperationType, reason: string) => void;

/** An owned changeset that no longer has a spec: close it on the host and archive it here. */
function planRetirement(changeset: ChangesetState, why: string, add: Add): void {
  // Nothing exists on the code host for an unpublished changeset; the caller drops it.
  if (changeset.publicationState === 'unpublished') return;
  if (changeset.externalState === 'open') add('close', why);
  if (!changeset.archived) add('archive', why);
}

function planFirstPublication(
  spec: BranchChangesetSpec,
  changeset: ChangesetState,
  add: Add,
  result: () => ChangesetPlan,
  failed: (error: PlanningError) => ChangesetPlan,
): ChangesetPlan {
  if (spec.published === false) return result();
  if (spec.published === 'draft' && !changeset.supportsDrafts) {
    return failed({
      kind: 'draft-unsupported',
      repository: changeset.repository,
      message:
        `${changeset.repository}: published is "draft" but this code host does not support draft ` +
        'changesets; set published to true or false for this repository',
    });
  }
  if (spec.fork && !changeset.supportsForks) {
    return failed({
      kind: 'fork-unsupported',
      repository: changeset.repository,
      message:
        `${changeset.repository}: fork is true but this code host cannot push to forks; ` +
        'set changesetTemplate.fork to false to push the branch to the repository itself',
    });
  }
  if (!samePush(spec, changeset.lastPushed))
    add('push', `push ${spec.headBranch} before opening it`);
  else if (changeset.headInFork !== spec.fork)
    // Pushed before the spec (or the host's default) changed where: the changeset is opened
    // from where the branch is, so it goes there first.
    add(
      'push',
      spec.fork
        ? `push ${spec.headBranch} to a fork: fork is true now`
        : `push ${spec.headBranch} to the repository itself: fork is false now`,
    );
  if (spec.published === 'draft') add('publish-draft', 'published is "draft"');
  else add('publish', 'published is true');
  return result();
}

/**
 * Whether a push of `spec` goes to a fork: the spec's `fork` until the changeset is published;
 * after, wherever its head branch already is, since a pull request's head cannot move to
 * another repository.
 */
export function pushesToFork(
  spec: BranchChangesetSpec,
  changeset: Pick<ChangesetState, 'publicationState' | 'headInFork'>,
): boolean {
  return changeset.publicationState === 'unpublished' ? spec.fork : changeset.headInFork;
}

function samePush(spec: BranchChangesetSpec, pushed: PushedCommit | null): boolean {
  return (
    pushed !== null &&
    pushed.diffSha256 === spec.diffSha256 &&
    pushed.message === spec.commit.message &&
    pushed.author.name === spec.commit.author.name &&
    pushed.author.email === spec.commit.author.email
  );
}

function whyPush(
  spec: BranchChangesetSpec,
  pushed: PushedCommit | null,
  delta: ChangesetSpecDelta,
): string | null {
  if (samePush(spec, pushed)) return null;
  const changed = [
    delta.diffChanged && 'diff',
    delta.commitMessageChanged && 'commit message',
    delta.commitAuthorChanged && 'commit author',
  ].filter((field): field is string => field !== false);
  return changed.length > 0
    ? `the ${changed.join(', ')} changed in the spec`
    : "the head branch does not have the spec's commit (a previous push did not complete, or someone pushed)";
}

function whyUpdate(
  spec: BranchChangesetSpec,
  changeset: ChangesetState,
  delta: ChangesetSpecDelta,
): string | null {
  const differing = [
    changeset.title !== spec.title && 'title',
    changeset.body !== spec.body && 'body',
    changeset.baseRef !== spec.baseRef && 'base',
  ].filter((field): field is string => field !== false);
  if (differing.length === 0) return null;
  const inSpec =
    (delta.titleChanged && differing.includes('title')) ||
    (delta.bodyChanged && differing.includes('body')) ||
    (delta.baseRefChanged && differing.includes('base'));
  return inSpec
    ? `the ${differing.join(', ')} changed in the spec`
    : `the ${differing.join(', ')} on the code host differ from the spec`;
}

function kindMismatch(changeset: ChangesetState, is: string, got: string): PlanningError {
  return {
    kind: 'spec-kind-mismatch',
    repository: changeset.repository,
    message: `${changeset.repository}: the changeset is ${is} but was given ${got}; this is a bug in the caller`,
  };
}
