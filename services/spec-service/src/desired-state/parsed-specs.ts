import { parseCampaignSpec, type CampaignSpec } from '@campaigns/campaign-spec';

/**
 * The parsed specs of the most recently used applications, so that rendering a patch does not
 * parse the spec's YAML again. Bounded: the least recently used application is dropped first.
 * `null` records a spec that no longer validates (e.g. after a schema change).
 */
export class ParsedSpecs {
  private readonly specs = new Map<string, CampaignSpec | null>();

  constructor(private readonly capacity = 64) {}

  has(applyId: string): boolean {
    return this.specs.has(applyId);
  }

  /** The cached spec, or the spec parsed from `source` (then cached); undefined when neither. */
  get(
    applyId: string,
    source?: { specText: string; fileName: string },
  ): CampaignSpec | null | undefined {
    let spec = this.specs.get(applyId);
    if (spec === undefined) {
      if (!source) return undefined;
      spec = parseCampaignSpec(source.specText, source.fileName).spec ?? null;
    }
    // Map order is insertion order: re-inserting makes it the most recently used.
    this.specs.delete(applyId);
    this.specs.set(applyId, spec);
    if (this.specs.size > this.capacity) this.specs.delete(this.specs.keys().next().value!);
    return spec;
  }
}
