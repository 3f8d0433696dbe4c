import { ChangesetRenderError, type CampaignSpec } from '@campaigns/campaign-spec';
import {
  campaignStream,
  changesetStream,
  ConcurrencyError,
  deterministicEventId,
  EventsError,
  executionStream,
  type ChangesetSpecComputed,
  type EventData,
  type EventMetadata,
  type EventsLogger,
  type NewEvent,
  type PatchComputed,
  type PostgresEventStore,
  type ProjectionDefinition,
  type Queryable,
  type SpecApplied,
  type StoredEvent,
} from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
import { ParsedSpecs } from './parsed-specs.js';
import {
  changesetsLeavingSpec,
  planWorkspaceChangesets,
  type ChangesetChange,
  type ChangesetRemoval,
} from './plan-changesets.js';
import { planExecutions, recordedProblems, type ExecutionPlan } from './plan-executions.js';
import {
  PROCESS_MANAGER_TABLES,
  processManagerMigrations,
  ProcessManagerRows,
  type ApplyRow,
} from './process-manager-rows.js';
import { renderPatch, RenderFailure, type PatchRendering } from './render-patch.js';

export { DEFAULT_COMMIT_AUTHOR } from './render-patch.js';

/** Who the spec-service says recorded its events. */
export const SPEC_SERVICE_SOURCE = 'spec-service';

type SpecAppliedData = EventData<typeof SpecApplied>;
type PatchComputedData = EventData<typeof PatchComputed>;
type ChangesetSpecComputedData = EventData<typeof ChangesetSpecComputed>;

export interface ProcessManagerOptions {
  store: PostgresEventStore;
  resolver: WorkspaceResolver;
  logger?: EventsLogger;
}

/** Name of the process manager's projection; its tables are prefixed `pm_`. */
export const PROCESS_MANAGER_NAME = 'desired_state';

/** How resolving one application's workspaces ended: what to queue, or why nothing runs. */
export type Resolution =
  { outcome: 'resolved'; plan: ExecutionPlan } | { outcome: 'failed'; message: string };

/** What `prepare` gathers for a batch before its transaction opens. */
export interface DesiredStatePreparation {
  /** By SpecApplied event id: the resolution of each application still awaiting its outcome. */
  resolutions: Map<string, Resolution>;
  /** The step results blobs of the batch's patches, by sha256. */
  results: Map<string, Buffer>;
}

/** Events the process manager records, each with the metadata of its own cause. */
interface PendingAppend {
  stream: string;
  expected: 'any';
  event: NewEvent & { event_id: string; metadata: EventMetadata };
}

/** ExecutionQueued events serialised and sent at a time. */
const QUEUED_PER_APPEND = 5_000;

/** The outcomes of a SpecApplied; once one is in its stream, the application was reacted to. */
const OUTCOMES = ['WorkspacesResolved', 'WorkspaceResolutionFailed'] as const;

/**
 * The desired-state process manager: turns each `SpecApplied` into `WorkspacesResolved` and one
 * `ExecutionQueued` per workspace, and each `PatchComputed` of the campaign's current application
 * into `ChangesetSpecComputed` / `ChangesetSpecRemoved` events. It runs as a ProjectionConsumer,
 * so its appends commit together with its state and its checkpoint: each reaction happens once.
 * Event ids derive from the causing event, so even a re-run of a reaction stores nothing twice.
 *
 * Resolving workspaces (a repository index refresh can take minutes) happens in `prepare`, before
 * the transaction: an open transaction holds back the relay, and so every service. A batch is
 * decided in memory over its rows read once, and recorded with a few multi-row statements.
 *
 * It is not a replayable projection: it resolves against code hosts and appends events. Its
 * tables are its memory of what it has decided (`pm_changesets` is the desired state it
 * recorded), written in the same transaction as the events that record those decisions.
 */
export function desiredStateProcessManager(
  options: ProcessManagerOptions,
): ProjectionDefinition<DesiredStatePreparation> {
  const { store, resolver } = options;
  const specs = new ParsedSpecs();

  /** Whether a SpecApplied still awaits its outcome: not superseded, not already reacted to. */
  async function awaitsOutcome(e: StoredEvent, db: Queryable): Promise<boolean> {
    const later = await store.readStream(e.stream_id, { fromVersion: e.stream_version + 1n }, db);
    // A newer application makes this one moot: its own reaction follows.
    if (later.some((l) => l.type === 'SpecApplied')) return false;
    // Resolving again could answer otherwise than the outcome already recorded.
    const outcomes = new Set(OUTCOMES.map((t) => deterministicEventId(e.event_id, t)));
    return !later.some((l) => outcomes.has(l.event_id));
  }

  async function resolve(d: SpecAppliedData): Promise<Resolution> {
    try {
      const spec = specs.get(d.applyId, { specText: d.specText, fileName: d.fileName });
      if (!spec) throw new Error('the spec no longer validates');
      return {
        outcome: 'resolved',
        plan: planExecutions(d.applyId, await resolver.resolve(spec)),
      };
    } catch (err) {
      return { outcome: 'failed', message: (err as Error).message };
    }
  }

  return {
    name: PROCESS_MANAGER_NAME,
    categories: ['campaign', 'execution'],
    migrations: processManagerMigrations,
    tables: PROCESS_MANAGER_TABLES,

    async prepare(events) {
      const resolutions = new Map<string, Resolution>();
      for (const e of events) {
        if (e.type !== 'SpecApplied' || !(await awaitsOutcome(e, store.pool))) continue;
        resolutions.set(e.event_id, await resolve(e.data as SpecAppliedData));
      }
      const results = await store.getBlobs(
        patchesOf(events)
          .filter((p) => !p.data.empty)
          .map((p) => p.data.results.sha256),
      );
      return { resolutions, results };
    },

    async handle(events, { tx, schema, prepared }) {
      const patches = patchesOf(events);
      const applyIds = [...new Set(patches.map((p) => p.data.applyId))];
      // Specs at hand now are kept for the whole batch, whatever the cache drops meanwhile.
      const pinned = new Map<string, CampaignSpec | null>();
      for (const id of applyIds) if (specs.has(id)) pinned.set(id, specs.get(id)!);
      const rows = await ProcessManagerRows.load(tx, schema, {
        campaigns: [
          ...new Set(
            events
              .filter((e) => e.type === 'SpecApplied' || e.type === 'PatchComputed')
              .map((e) => (e.data as { campaign: string }).campaign),
          ),
        ],
        applyIds,
        withoutSpecText: new Set(pinned.keys()),
        workspaces: patches.map((p) => ({
          campaign: p.data.campaign,
          repository: p.data.workspace.repository,
        })),
      });
      const results = await resultsOf(patches, prepared?.results ?? new Map());
      const pending: PendingAppend[] = [];
      const newBlobs = new Set<string>();

      const specOf = (apply: ApplyRow): CampaignSpec => {
        let spec = pinned.get(apply.apply_id);
        if (spec === undefined) {
          const source =
            apply.spec_text === null
              ? undefined
              : { specText: apply.spec_text, fileName: apply.file_name };
          spec = specs.get(apply.apply_id, source);
          if (spec === undefined)
            throw new Error(
              `the spec of application ${apply.apply_id} was neither read nor cached`,
            );
          pinned.set(apply.apply_id, spec);
        }
        if (spec === null)
          throw new RenderFailure(`the spec of this application no longer validates`);
        return spec;
      };

      const computeChangeset = (
        c: Extract<ChangesetChange, { kind: 'computed' }>,
        cause: StoredEvent<PatchComputedData>,
        metadata: EventMetadata,
      ): void => {
        const d = cause.data;
        const eventId = deterministicEventId(
          cause.event_id,
          'ChangesetSpecComputed',
          c.changesetId,
        );
        const data: ChangesetSpecComputedData = {
          changesetId: c.changesetId,
          campaign: d.campaign,
          repository: d.workspace.repository,
          headBranch: c.headBranch,
          applyId: d.applyId,
          executionId: d.executionId,
          spec: c.spec,
        };
        pending.push({
          stream: changesetStream(c.changesetId),
          expected: 'any',
          event: { event_id: eventId, type: 'ChangesetSpecComputed', data, metadata },
        });
        rows.putChangeset({
          changeset_id: c.changesetId,
          campaign: d.campaign,
          repository: d.workspace.repository,
          head_branch: c.headBranch,
          workspace_path: d.workspace.path,
          removed: false,
          spec: c.spec,
          last_event_id: eventId,
        });
      };

      const removeChangeset = (
        { row, reason }: ChangesetRemoval,
        causeId: string,
        applyId: string,
        metadata: EventMetadata,
      ): void => {
        const eventId = deterministicEventId(causeId, 'ChangesetSpecRemoved', row.changeset_id);
        pending.push({
          stream: changesetStream(row.changeset_id),
          expected: 'any',
          event: {
            event_id: eventId,
            type: 'ChangesetSpecRemoved',
            data: {
              changesetId: row.changeset_id,
              campaign: row.campaign,
              repository: row.repository,
              headBranch: row.head_branch,
              applyId,
              reason,
            },
            metadata,
          },
        });
        rows.putChangeset({ ...row, removed: true, last_event_id: eventId });
      };

      const onSpecApplied = async (e: StoredEvent<SpecAppliedData>): Promise<void> => {
        const d = e.data;
        rows.recordApplication(
          {
            apply_id: d.applyId,
            campaign: d.campaign,
            spec_hash: d.specHash,
            spec_text: d.specText,
            file_name: d.fileName,
            actor: d.actor,
            spec_event_id: e.event_id,
          },
          e.stream_version,
        );
        if (!(await awaitsOutcome(e, tx))) return;
        const resolution = prepared?.resolutions.get(e.event_id);
        if (!resolution)
          throw new Error(
            `SpecApplied ${e.event_id} of ${d.campaign} reached its transaction unresolved; a retry resolves it`,
          );
        // What this batch decided before the application is recorded before its outcome.
        await appendInOrder(store, tx, pending.splice(0));
        const metadata = metadataFor(d.applyId, e.event_id, d.actor);
        if (resolution.outcome === 'resolved') {
          const failure = await recordResolution(store, tx, e, resolution.plan, metadata);
          if (failure === undefined) {
            const { workspaces } = resolution.plan;
            for (const w of workspaces) rows.queueExecution(w.executionId, d.campaign, d.applyId);
            const repositories = new Set(workspaces.map((w) => w.workspace.repository));
            const wanted = await rows.wantedChangesets(d.campaign);
            for (const c of changesetsLeavingSpec(wanted, repositories))
              removeChangeset(c, e.event_id, d.applyId, metadata);
            return;
          }
          await resolutionFailed(tx, e, failure, metadata);
        } else {
          await resolutionFailed(tx, e, resolution.message, metadata);
        }
      };

      const onPatchComputed = (e: StoredEvent<PatchComputedData>): void => {
        const d = e.data;
        if (rows.currentApplication(d.campaign) !== d.applyId) return; // a stale application's result
        const apply = rows.application(d.applyId);
        if (!apply)
          throw new Error(`application ${d.applyId} of ${d.campaign} is current but not recorded`);
        const metadata = metadataFor(d.applyId, e.event_id, apply.actor);
        let rendering: PatchRendering;
        try {
          rendering = d.empty
            ? { changesets: [], newBlobs: [] }
            : renderPatch(specOf(apply), d, results.get(d.results.sha256));
        } catch (err) {
          if (!(err instanceof RenderFailure || err instanceof ChangesetRenderError)) throw err;
          const message = err.message.slice(0, 4000);
          pending.push({
            stream: executionStream(d.executionId),
            expected: 'any',
            event: {
              event_id: deterministicEventId(e.event_id, 'render-failed'),
              type: 'ChangesetRenderFailed',
              data: {
                executionId: d.executionId,
                campaign: d.campaign,
                applyId: d.applyId,
                repository: d.workspace.repository,
                path: d.workspace.path,
                message,
              },
              metadata,
            },
          });
          rows.executionHandled(d.executionId, d.campaign, d.applyId, message);
          return;
        }
        rendering.newBlobs.forEach((b) => newBlobs.add(b));
        const recorded = rows.changesetsOf(d.campaign, d.workspace.repository, d.workspace.path);
        for (const c of planWorkspaceChangesets(
          d.campaign,
          d.workspace.repository,
          recorded,
          rendering.changesets,
        )) {
          if (c.kind === 'computed') computeChangeset(c, e, metadata);
          else removeChangeset(c, e.event_id, d.applyId, metadata);
        }
        rows.executionHandled(d.executionId, d.campaign, d.applyId, null);
      };

      for (const e of events) {
        if (e.type === 'SpecApplied') await onSpecApplied(e as StoredEvent<SpecAppliedData>);
        else if (e.type === 'PatchComputed') onPatchComputed(e as StoredEvent<PatchComputedData>);
      }
      // Parts of diffs (transformChanges) are new content; whole diffs are the executor's blobs.
      for (const blob of newBlobs) await store.putBlob(blob, tx);
      await appendInOrder(store, tx, pending);
      await rows.save();
    },
  };

  async function resolutionFailed(
    tx: PoolClient,
    e: StoredEvent<SpecAppliedData>,
    message: string,
    metadata: EventMetadata,
  ): Promise<void> {
    const d = e.data;
    await store.append(
      campaignStream(d.campaign),
      [
        {
          event_id: deterministicEventId(e.event_id, 'WorkspaceResolutionFailed'),
          type: 'WorkspaceResolutionFailed',
          data: {
            campaign: d.campaign,
            applyId: d.applyId,
            specHash: d.specHash,
            message: message.slice(0, 4000),
          },
        },
      ],
      { expected: 'any', metadata },
      tx,
    );
    options.logger?.warn(
      { campaign: d.campaign, applyId: d.applyId, err: message },
      'workspace resolution failed',
    );
  }

  /** Blobs `prepare` did not bring (e.g. a batch handled without it) are read now, together. */
  async function resultsOf(
    patches: readonly StoredEvent<PatchComputedData>[],
    prepared: Map<string, Buffer>,
  ): Promise<Map<string, Buffer>> {
    const missing = patches
      .filter((p) => !p.data.empty && !prepared.has(p.data.results.sha256))
      .map((p) => p.data.results.sha256);
    if (missing.length === 0) return prepared;
    return new Map([...prepared, ...(await store.getBlobs(missing))]);
  }
}

function patchesOf(events: readonly StoredEvent[]): StoredEvent<PatchComputedData>[] {
  return events.filter((e) => e.type === 'PatchComputed') as StoredEvent<PatchComputedData>[];
}

/**
 * Records an application's resolution: `WorkspacesResolved` and one `ExecutionQueued` per
 * workspace, all or nothing. An outcome the store can never take (a payload too large or invalid)
 * is rolled back and returned as the message of a failure: retrying would only fail again.
 */
async function recordResolution(
  store: PostgresEventStore,
  tx: PoolClient,
  e: StoredEvent<SpecAppliedData>,
  plan: ExecutionPlan,
  metadata: EventMetadata,
): Promise<string | undefined> {
  const d = e.data;
  await tx.query('SAVEPOINT workspaces_resolved');
  try {
    await store.append(
      campaignStream(d.campaign),
      [
        {
          event_id: deterministicEventId(e.event_id, 'WorkspacesResolved'),
          type: 'WorkspacesResolved',
          data: {
            campaign: d.campaign,
            applyId: d.applyId,
            specHash: d.specHash,
            workspaceCount: plan.workspaces.length,
            ...recordedProblems(plan.problems),
          },
        },
      ],
      { expected: 'any', metadata },
      tx,
    );
    // In slices, so only one slice's serialised events are held at a time; the savepoint keeps
    // the whole outcome all or nothing.
    for (let i = 0; i < plan.workspaces.length; i += QUEUED_PER_APPEND) {
      await store.appendToStreams(
        plan.workspaces.slice(i, i + QUEUED_PER_APPEND).map((w) => ({
          stream: executionStream(w.executionId),
          expected: 'any' as const,
          event: {
            event_id: deterministicEventId(e.event_id, 'ExecutionQueued', w.executionId),
            type: 'ExecutionQueued',
            data: {
              executionId: w.executionId,
              campaign: d.campaign,
              applyId: d.applyId,
              specHash: d.specHash,
              workspace: w.workspace,
            },
          },
        })),
        metadata,
        tx,
      );
    }
    await tx.query('RELEASE SAVEPOINT workspaces_resolved');
    return undefined;
  } catch (err) {
    if (!(err instanceof EventsError) || err instanceof ConcurrencyError) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT workspaces_resolved');
    return `recording the resolved workspaces failed: ${err.message}`;
  }
}

/**
 * Appends the events in their order with as few statements as `appendToStreams` allows; a stream
 * named twice waits for the next statement, so each stream still gets its events in order.
 */
async function appendInOrder(
  store: PostgresEventStore,
  tx: PoolClient,
  appends: PendingAppend[],
): Promise<void> {
  let start = 0;
  while (start < appends.length) {
    const streams = new Set<string>();
    let end = start;
    while (end < appends.length && !streams.has(appends[end]!.stream))
      streams.add(appends[end++]!.stream);
    await store.appendToStreams(appends.slice(start, end), appends[start]!.event.metadata, tx);
    start = end;
  }
}

export function metadataFor(
  applyId: string,
  causationId: string | null,
  actor: string,
): EventMetadata {
  return { correlation_id: applyId, causation_id: causationId, actor, source: SPEC_SERVICE_SOURCE };
}
