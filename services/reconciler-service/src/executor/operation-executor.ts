import {
  changesetObserved,
  CodeHostError,
  observedFields,
  type CodeHostResolver,
} from '@campaigns/codehost';
import type { EventsLogger, PostgresEventStore } from '@campaigns/events';
import type { Counter } from 'prom-client';
import { pushesToFork, type BranchChangesetSpec, type Operation } from '../planner/index.js';
import type { Round } from './round.js';
import { pushSpecCommit } from './spec-push.js';

export interface OperationExecutorDeps {
  store: PostgresEventStore;
  resolver: CodeHostResolver;
  logger: EventsLogger;
  /** `campaigns_reconciler_operations_total`. */
  operations: Counter;
  /** Called after each code host write and before its event is held (tests simulate crashes here). */
  afterHostWrite?: (changesetId: string, operation: string) => Promise<void>;
}

/**
 * Carries out planned operations on the code host, one method per operation (Sourcegraph's
 * `executor.go`). Each writes once, then holds the event saying what the host answered; the
 * round's view evolves with it. It never plans: what to do next is the planner's, from the
 * evolved view. Operations it cannot carry out are refused here, in one place.
 */
export class OperationExecutor {
  constructor(private readonly deps: OperationExecutorDeps) {}

  async perform(r: Round, operation: Operation): Promise<void> {
    // The previous operation's event is recorded before the next write to the code host.
    await r.flush();
    switch (operation.type) {
      case 'push':
        await this.push(r);
        break;
      case 'publish':
      case 'publish-draft':
        await this.publish(r, operation.type === 'publish-draft');
        break;
      case 'update':
        await this.update(r);
        break;
      case 'undraft':
        await this.undraft(r);
        break;
      case 'reopen':
        await this.reopen(r);
        break;
      case 'close':
        await this.close(r, operation.reason);
        break;
      case 'archive':
        // Recorded by ChangesetReconciled's operations; nothing to do on the code host.
        break;
      case 'sync':
        r.readBack = true;
        break;
      case 'import':
        await this.import(r);
        break;
      case 'detach':
        // Recorded by ChangesetReconciled's operations: the pull request is left as it is.
        break;
      case 'merge':
        await this.merge(r);
        break;
      case 'enable-auto-merge':
        await this.enableAutoMerge(r);
        break;
      default:
        // comment: reserved; nothing plans it.
        throw new CodeHostError('terminal', `operation ${operation.type} is not supported yet`, {
          operation: operation.type,
          repo: r.row.repository,
        });
    }
    if (!r.operations.includes(operation.type)) r.operations.push(operation.type);
  }

  /**
   * Reads an imported pull request (importChangesets) and records what the host shows; one the
   * host does not have is a terminal failure naming it, until the spec changes.
   */
  private async import(r: Round): Promise<void> {
    const number = r.desired.importNumber;
    if (number === null) throw new Error('import without an import spec');
    const [pr] = await r.host!.loadChangesets([{ repo: r.row.repository, number }]);
    if (pr === undefined)
      throw new CodeHostError(
        'terminal',
        `pull request #${number} not found; remove it from importChangesets or correct the number`,
        { operation: 'import', repo: r.row.repository },
      );
    r.hold({
      type: 'ChangesetObserved',
      data: changesetObserved(r.row, pr.number, observedFields(pr), {
        source: 'sync',
        trigger: 'import',
      }),
    });
  }

  private async push(r: Round): Promise<void> {
    const spec = r.spec;
    if (spec === null || r.desired.spec === null) throw new Error('push without a spec');
    const headRepository = await this.pushTarget(r, spec);
    const commitSha = await pushSpecCommit(this.deps, r, spec, headRepository);
    await this.wrote(r, 'push');
    r.hold({
      type: 'ChangesetUpdated',
      data: {
        specEventId: r.desired.specEventId,
        operation: 'push',
        number: r.row.number,
        commitSha,
        diffSha256: spec.diffSha256,
        message: spec.commit.message,
        author: { ...spec.commit.author },
        ...(headRepository === r.row.repository ? {} : { headRepository }),
      },
    });
  }

  /**
   * The repository the branch is pushed to (`pushesToFork` decides whether a fork): the one it
   * was pushed to before when that was a fork, else the fork in the host's `forkNamespace` (or
   * the token's user), made when missing.
   */
  private async pushTarget(r: Round, spec: BranchChangesetSpec): Promise<string> {
    const state = {
      publicationState: r.row.publicationState,
      headInFork: r.row.headRepository !== null,
    };
    if (!pushesToFork(spec, state)) return r.row.repository;
    if (r.row.headRepository !== null) return r.row.headRepository;
    const namespace = r.hostConfig?.forkNamespace;
    return r.host!.ensureFork({
      repo: r.row.repository,
      ...(namespace === undefined ? {} : { namespace }),
    });
  }

  private async publish(r: Round, draft: boolean): Promise<void> {
    const spec = r.spec;
    if (spec === null) throw new Error('publish without a spec');
    const pr = await r.host!.createChangeset({
      repo: r.row.repository,
      head: r.row.headBranch,
      // Opened from wherever the branch was pushed: a fork, or the repository itself.
      ...(r.row.headRepository === null ? {} : { headRepository: r.row.headRepository }),
      base: spec.baseRef,
      title: spec.title,
      body: spec.body,
      draft,
    });
    await this.wrote(r, draft ? 'publish-draft' : 'publish');
    r.hold({
      type: 'ChangesetPublished',
      data: {
        specEventId: r.desired.specEventId,
        number: pr.number,
        url: pr.url,
        nodeId: pr.nodeId,
        draft: pr.isDraft,
        baseRef: pr.baseRefName,
        headRefOid: pr.headRefOid,
        title: pr.title,
        body: pr.body,
      },
    });
  }

  private async update(r: Round): Promise<void> {
    const spec = r.spec;
    if (spec === null) throw new Error('update without a spec');
    const pr = await r.host!.updateChangeset({
      ...this.ref(r),
      title: spec.title,
      body: spec.body,
      base: spec.baseRef,
    });
    await this.wrote(r, 'update');
    r.hold({
      type: 'ChangesetUpdated',
      data: {
        specEventId: r.desired.specEventId,
        operation: 'update',
        number: pr.number,
        title: pr.title,
        body: pr.body,
        baseRef: pr.baseRefName,
      },
    });
  }

  private async undraft(r: Round): Promise<void> {
    const pr = await r.host!.markReadyForReview(this.ref(r));
    await this.wrote(r, 'undraft');
    r.hold({
      type: 'ChangesetUpdated',
      data: { specEventId: r.desired.specEventId, operation: 'undraft', number: pr.number },
    });
  }

  private async reopen(r: Round): Promise<void> {
    const pr = await r.host!.reopenChangeset(this.ref(r));
    await this.wrote(r, 'reopen');
    r.hold({
      type: 'ChangesetUpdated',
      data: { specEventId: r.desired.specEventId, operation: 'reopen', number: pr.number },
    });
  }

  private async close(r: Round, reason: string): Promise<void> {
    const pr = await r.host!.closeChangeset(this.ref(r));
    await this.wrote(r, 'close');
    r.hold({
      type: 'ChangesetClosed',
      data: { specEventId: r.desired.specEventId, number: pr.number, url: pr.url, reason },
    });
  }

  /**
   * Merges the head commit the checks and review were observed for: when the head moved since,
   * the code host refuses (409), and that refusal, like a conflict's (405), is recorded as a
   * terminal ReconcileFailed of `merge` that blocks merging until the head, checks or review
   * change (evolveChangeset).
   */
  private async merge(r: Round): Promise<void> {
    const method = r.spec?.autoMerge?.method;
    if (method === undefined || r.row.headRefOid === null)
      throw new Error('merge without auto-merge or a known head');
    const merged = await r.host!.mergeChangeset({
      ...this.ref(r),
      method,
      expectedHeadSha: r.row.headRefOid,
    });
    await this.wrote(r, 'merge');
    r.hold({
      type: 'ChangesetUpdated',
      data: {
        specEventId: r.desired.specEventId,
        operation: 'merge',
        number: r.row.number,
        mergeMethod: method,
        mergeCommitSha: merged.sha,
      },
    });
  }

  /**
   * Turns on the host's own auto-merge for the observed head. A refusal (the repository does not
   * allow it, nothing left to wait for) is a terminal ReconcileFailed of `enable-auto-merge`:
   * not asked again for that head, and the reconciler merges itself once checks pass.
   */
  private async enableAutoMerge(r: Round): Promise<void> {
    const method = r.spec?.autoMerge?.method;
    const head = r.row.headRefOid;
    if (method === undefined || head === null)
      throw new Error('enable-auto-merge without auto-merge or a known head');
    await r.host!.enableAutoMerge({ ...this.ref(r), method, expectedHeadSha: head });
    await this.wrote(r, 'enable-auto-merge');
    r.hold({
      type: 'ChangesetUpdated',
      data: {
        specEventId: r.desired.specEventId,
        operation: 'enable-auto-merge',
        number: r.row.number,
        mergeMethod: method,
        commitSha: head,
      },
    });
  }

  private ref(r: Round) {
    return { repo: r.row.repository, number: r.row.number! };
  }

  private async wrote(r: Round, operation: string): Promise<void> {
    this.deps.operations.inc({ operation, outcome: 'done' });
    await this.deps.afterHostWrite?.(r.changesetId, operation);
  }
}
