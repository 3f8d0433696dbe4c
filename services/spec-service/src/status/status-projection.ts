import { categoryOf, type ProjectionDefinition } from '@campaigns/events';
import { evolveChangeset, evolveExecution } from './status-evolve.js';
import {
  applyCampaignEvent,
  CHANGESETS,
  forgetCampaign,
  EXECUTIONS,
  loadRows,
  saveRows,
  STATUS_ENTITIES,
  STATUS_TABLES,
  statusMigrations,
} from './status-store.js';

export type { StatusChangesetRow, StatusExecutionRow } from './status-evolve.js';

export const STATUS_PROJECTION_NAME = 'status';

/**
 * The status read model behind `get`, `changesets`, `executions` and `list`: one row per campaign
 * (its current application), per execution, per changeset and per event a consumer gave up on.
 * Deterministic (times are `recorded_at`), so replay can rebuild it and compare. Rows hold facts;
 * what they mean (a changeset's displayed state, whether it converged, the campaign's phase) is
 * derived when read, in `campaign-status.ts`.
 *
 * This is the wiring: the tables and statements are `status-store.ts`, how execution and
 * changeset events change their rows is `status-evolve.ts` (pure).
 */
export function statusProjection(): ProjectionDefinition {
  return {
    name: STATUS_PROJECTION_NAME,
    categories: ['campaign', 'execution', 'changeset', 'deadletter'],
    migrations: statusMigrations,
    entities: STATUS_ENTITIES,
    tables: STATUS_TABLES,
    // Execution and changeset events (nearly all of a busy log) work on rows read once per batch
    // and written back in a few statements; the few campaign and dead-letter events are applied
    // as they come. Each kind has its own tables, so order between kinds does not matter.
    async handle(events, { manager, schema }) {
      const idsOf = (category: string, field: 'executionId' | 'changesetId') => [
        ...new Set(
          events
            .filter((e) => categoryOf(e.stream_id) === category)
            .map((e) => (e.data as Record<typeof field, string>)[field]),
        ),
      ];
      const executionIds = idsOf('execution', 'executionId');
      const changesetIds = idsOf('changeset', 'changesetId');
      let executions = await loadRows(manager, EXECUTIONS, executionIds);
      let changesets = await loadRows(manager, CHANGESETS, changesetIds);
      for (const e of events) {
        const category = categoryOf(e.stream_id);
        if (category === 'execution') evolveExecution(executions, e);
        else if (category === 'changeset') evolveChangeset(changesets, e);
        else if (e.type === 'CampaignDeleted') {
          // Rare: what the batch did so far is written, the campaign's rows go, and the batch
          // goes on from what is left, so the result does not depend on where batches end.
          await saveRows(manager, schema, EXECUTIONS, executions);
          await saveRows(manager, schema, CHANGESETS, changesets);
          await forgetCampaign(manager, (e.data as { campaign: string }).campaign);
          await applyCampaignEvent(manager, e);
          executions = await loadRows(manager, EXECUTIONS, executionIds);
          changesets = await loadRows(manager, CHANGESETS, changesetIds);
        } else await applyCampaignEvent(manager, e);
      }
      await saveRows(manager, schema, EXECUTIONS, executions);
      await saveRows(manager, schema, CHANGESETS, changesets);
    },
  };
}
