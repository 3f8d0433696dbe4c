import type { CampaignSpec } from '@campaigns/campaign-spec';
import {
  ConcurrencyError,
  EventsError,
  type EventData,
  type EventsLogger,
  type PatchComputed,
  type PostgresEventStore,
  type ProjectionDefinition,
  type Queryable,
  type SpecApplied,
  type StoredEvent,
} from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
import {
  awaitsOutcome,
  decide,
  type Outcome,
  type PendingAppend,
  type Resolution,
  type Resolved,
} from './decide.js';
import type { ApplyRow } from './desired-state.js';
import {
  loadDesiredState,
  loadWantedChangesets,
  PROCESS_MANAGER_ENTITIES,
  PROCESS_MANAGER_TABLES,
  processManagerMigrations,
  saveDesiredState,
  withSavepoint,
} from './desired-state-store.js';
import { ParsedSpecs } from './parsed-specs.js';
import { planExecutions } from './plan-executions.js';
import { staticBranchCollision } from './branch-collisions.js';

export { metadataFor, SPEC_SERVICE_SOURCE, type Resolution } from './decide.js';
export { DEFAULT_COMMIT_AUTHOR } from './render-patch.js';

type SpecAppliedData = EventData<typeof SpecApplied>;
type PatchComputedData = EventData<typeof PatchComputed>;

export interface ProcessManagerOptions {
  store: PostgresEventStore;
  resolver: WorkspaceResolver;
  logger?: EventsLogger;
}

/** Name of the process manager's projection; its tables are prefixed `pm_`. */
export const PROCESS_MANAGER_NAME = 'desired_state';

/**
 * What the process manager is as a set of tables: its name, what it follows, its DDL and
 * entities. The service's migrations are made from it, with no store or resolver at hand.
 */
export const DESIRED_STATE_TABLES = {
  name: PROCESS_MANAGER_NAME,
  categories: ['campaign', 'execution'],
  migrations: processManagerMigrations,
  entities: PROCESS_MANAGER_ENTITIES,
  tables: PROCESS_MANAGER_TABLES,
} as const satisfies Omit<ProjectionDefinition, 'handle'>;

/** What `prepare` gathers for a batch before its transaction opens. */
export interface DesiredStatePreparation {
  /** By SpecApplied event id: the resolution of each application still awaiting its outcome. */
  resolutions: Map<string, Resolution>;
  /** The step results blobs of the batch's patches, by sha256. */
  results: Map<string, Buffer>;
}

/** ExecutionQueued events serialised and sent at a time. */
const QUEUED_PER_APPEND = 5_000;

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
 * This is the wiring: what to read (`desired-state-store.ts`), what to decide (`decide.ts`, pure),
 * and recording it. It is not a replayable projection: it resolves against code hosts and appends
 * events. Its tables are its memory of what it has decided (`pm_changesets` is the desired state it
 * recorded), written in the same transaction as the events that record those decisions.
 */
export function desiredStateProcessManager(
  options: ProcessManagerOptions,
): ProjectionDefinition<DesiredStatePreparation> {
  const { store, resolver } = options;
  const specs = new ParsedSpecs();

  /** The events after a SpecApplied in its stream, from which `decide` sees whether it awaits. */
  const laterThan = (e: StoredEvent, db: Queryable) =>
    store.readStream(e.stream_id, { fromVersion: e.stream_version + 1n }, db);

  async function resolve(d: SpecAppliedData): Promise<Resolution> {
    try {
      const spec = specs.get(d.applyId, { specText: d.specText, fileName: d.fileName });
      if (!spec) throw new Error('the spec no longer validates');
      const resolved = await resolver.resolve(spec);
      const collision = staticBranchCollision(spec, resolved.workspaces);
      if (collision !== null) return { outcome: 'failed', message: collision };
      return { outcome: 'resolved', plan: planExecutions(d.applyId, resolved) };
    } catch (err) {
      return { outcome: 'failed', message: (err as Error).message };
    }
  }

  return {
    ...DESIRED_STATE_TABLES,

    async prepare(events) {
      const resolutions = new Map<string, Resolution>();
      for (const e of events) {
        if (e.type !== 'SpecApplied' || !awaitsOutcome(e, await laterThan(e, store.pool))) continue;
        resolutions.set(e.event_id, await resolve(e.data as SpecAppliedData));
      }
      const results = await store.getBlobs(
        patchesOf(events)
          .filter((p) => !p.data.empty)
          .map((p) => p.data.results.sha256),
      );
      return { resolutions, results };
    },

    // `manager` reads and writes the pm_* rows; `tx`, the same transaction's pg client, is the
    // event store's (appends, reads, blobs): the events and the rows commit together.
    async handle(events, { tx, manager, schema, prepared }) {
      const patches = patchesOf(events);
      const applyIds = [...new Set(patches.map((p) => p.data.applyId))];
      // Specs at hand now are kept for the whole batch, whatever the cache drops meanwhile.
      const pinned = new Map<string, CampaignSpec | null>();
      for (const id of applyIds) if (specs.has(id)) pinned.set(id, specs.get(id)!);
      const state = await loadDesiredState(manager, schema, {
        campaigns: [
          ...new Set(
            events
              .filter((e) => CAMPAIGN_ROW_EVENTS.includes(e.type))
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

      const specOf = (apply: ApplyRow): CampaignSpec | null => {
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
        return spec;
      };

      for (const e of events) {
        let resolved: Resolved;
        if (e.type === 'SpecApplied') {
          resolved = {
            later: await laterThan(e, tx),
            resolution: prepared?.resolutions.get(e.event_id),
          };
          // Removing the changesets that left the spec needs all the campaign's wanted ones.
          if (resolved.resolution?.outcome === 'resolved' && awaitsOutcome(e, resolved.later!))
            await loadWantedChangesets(manager, state, (e.data as SpecAppliedData).campaign);
        } else if (e.type === 'CampaignClosed' || e.type === 'CampaignDeleted') {
          // Closing (or forgetting) the changesets needs all the campaign's wanted ones.
          await loadWantedChangesets(manager, state, (e.data as { campaign: string }).campaign);
          resolved = {};
        } else if (e.type === 'PatchComputed') {
          const d = e.data as PatchComputedData;
          resolved = { resultsBlob: results.get(d.results.sha256), specOf };
        } else {
          continue;
        }
        let decision = decide(state, e, resolved);
        if (decision.outcome) {
          // What this batch decided before the application is recorded before its outcome.
          await appendInOrder(store, tx, pending.splice(0));
          const refusal = await recordOutcome(tx, decision.outcome, e);
          if (refusal !== undefined) {
            const resolution: Resolution = { outcome: 'failed', message: refusal };
            decision = decide(state, e, { ...resolved, resolution });
            await recordOutcome(tx, decision.outcome!, e);
          }
        }
        // A loop, not a spread: a SpecApplied can remove as many changesets as a campaign has.
        for (const a of decision.appends) pending.push(a);
        decision.newBlobs.forEach((b) => newBlobs.add(b));
        for (const change of decision.changes) state.evolve(change);
      }
      // Parts of diffs (transformChanges) are new content; whole diffs are the executor's blobs.
      for (const blob of newBlobs) await store.putBlob(blob, tx);
      await appendInOrder(store, tx, pending);
      await saveDesiredState(manager, schema, state);
    },
  };

  /**
   * Records an application's outcome. A resolution goes all or nothing: an outcome the store can
   * never take (a payload too large or invalid) is rolled back and its message returned, to be
   * recorded as a failure instead (retrying would only fail again).
   */
  async function recordOutcome(
    tx: PoolClient,
    outcome: Outcome,
    e: StoredEvent,
  ): Promise<string | undefined> {
    const { stream, metadata } = outcome;
    if (outcome.kind === 'failed') {
      await store.append(stream, [outcome.event], { expected: 'any', metadata }, tx);
      const d = e.data as SpecAppliedData;
      options.logger?.warn(
        { campaign: d.campaign, applyId: d.applyId, err: outcome.message },
        'workspace resolution failed',
      );
      return undefined;
    }
    return withSavepoint(
      tx,
      'workspaces_resolved',
      async () => {
        await store.append(stream, [outcome.event], { expected: 'any', metadata }, tx);
        // In slices, so only one slice's serialised events are held at a time; the savepoint
        // keeps the whole outcome all or nothing.
        const { queued } = outcome;
        for (let i = 0; i < queued.length; i += QUEUED_PER_APPEND)
          await store.appendToStreams(queued.slice(i, i + QUEUED_PER_APPEND), metadata, tx);
        return undefined;
      },
      (err) => {
        if (!(err instanceof EventsError) || err instanceof ConcurrencyError) throw err;
        return `recording the resolved workspaces failed: ${err.message}`;
      },
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

/** Events whose campaign's pm_campaigns row the batch reads. */
const CAMPAIGN_ROW_EVENTS: readonly string[] = [
  'SpecApplied',
  'PatchComputed',
  'CampaignClosed',
  'CampaignDeleted',
];

function patchesOf(events: readonly StoredEvent[]): StoredEvent<PatchComputedData>[] {
  return events.filter((e) => e.type === 'PatchComputed') as StoredEvent<PatchComputedData>[];
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
