import type { CampaignSpec, ChangesetTemplate } from '../spec/campaign-spec.schema.js';

/** What is left of a spec after dropping the parts that failed validation (see `validParts`). */
export type PartialSpec = {
  [K in keyof CampaignSpec]?: K extends 'changesetTemplate'
    ? SalvagedChangesetTemplate
    : CampaignSpec[K] extends readonly (infer E)[]
      ? (E | undefined)[]
      : CampaignSpec[K];
};

/** A changeset template whose invalid fields were dropped, one by one. */
export type SalvagedChangesetTemplate = Partial<Omit<ChangesetTemplate, 'commit'>> & {
  commit?: Partial<ChangesetTemplate['commit']>;
};

/** The elements of a salvaged list that survived validation. */
export function present<T>(items: readonly (T | undefined)[] | undefined): T[] {
  return (items ?? []).filter((item): item is T => item !== undefined);
}
