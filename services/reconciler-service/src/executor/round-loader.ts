import {
  codeHostConfigForCampaign,
  type CampaignsConfig,
  type CodeHost,
  type CodeHostConfig,
  type CodeHosts,
} from '@campaigns/codehost';
import { changesetStream, type PostgresEventStore } from '@campaigns/events';
import type { DataSource } from 'typeorm';
import { specForRound } from '../changeset/changeset-row.js';
import { loadChangesetRow, loadRecordedSpecs } from '../projection/changeset-store.js';
import type { Claim } from './reconcile-queue.js';
import type { RoundStart } from './round.js';

/** What to do with a claim: a round to run, or the claim to give back (and whether it is done). */
export type LoadedClaim =
  | { readonly round: RoundStart }
  | { readonly release: { readonly waitVersion: bigint; readonly done: boolean } };

/**
 * Loads what a claimed changeset's round works from, in three reads: the projected row, the
 * store's stream version, the desired and previous specs. A projection behind the store (our own
 * last events not applied yet) gives the claim back to wait for it; a changeset with nothing
 * left to do (no desired spec, or a terminal failure for it) is done.
 */
export async function loadRound(
  deps: {
    database: DataSource;
    store: PostgresEventStore;
    codeHosts: CodeHosts;
    config: CampaignsConfig;
  },
  claim: Claim,
): Promise<LoadedClaim> {
  const { database, store } = deps;
  const stream = changesetStream(claim.id);
  const row = await loadChangesetRow(database.manager, claim.id);
  const storeVersion = (await store.streamVersion(stream)) ?? 0n;
  if (row === null || storeVersion > row.streamVersion) {
    return { release: { waitVersion: storeVersion, done: false } };
  }
  // The desired spec and the one reconciled before it, in one read.
  const specs = await loadRecordedSpecs(
    database.manager,
    [row.desiredSpecEventId, row.previousSpecEventId].filter((id): id is string => id !== null),
  );
  const desired =
    row.desiredSpecEventId === null ? null : (specs.get(row.desiredSpecEventId) ?? null);
  if (desired === null || row.terminalSpecEventId === desired.specEventId) {
    return { release: { waitVersion: storeVersion, done: true } };
  }
  // The campaign's namespace's own token on the host, if it has one: it pushes and publishes.
  const hostConfig = hostConfigFor(deps.config, row.repository, row.campaign);
  const previous =
    row.previousSpecEventId === null ? null : (specs.get(row.previousSpecEventId) ?? null);
  return {
    round: {
      changesetId: claim.id,
      claimedDueVersion: claim.dueVersion,
      stream,
      row,
      desired,
      previous,
      spec: specForRound(row, desired, previous, hostConfig?.fork ?? false),
      host: hostFor(deps.codeHosts, row.repository, row.campaign),
      hostConfig,
    },
  };
}

function hostConfigFor(
  config: CampaignsConfig,
  repository: string,
  campaign: string,
): CodeHostConfig | null {
  const host = repository.split('/')[0];
  const found = config.codeHosts.find((h) => h.host === host);
  return found === undefined ? null : codeHostConfigForCampaign(found, campaign);
}

function hostFor(codeHosts: CodeHosts, repository: string, campaign: string): CodeHost | null {
  try {
    return codeHosts.forRepository(repository, campaign);
  } catch {
    return null;
  }
}
