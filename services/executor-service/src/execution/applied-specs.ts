import { formatDiagnostic, parseCampaignSpec, type CampaignSpec } from '@campaigns/campaign-spec';
import {
  campaignStream,
  EVENT_COLUMNS,
  rowToEvent,
  SpecApplied,
  type EventRow,
  type ExecutionJob,
  type PostgresEventStore,
} from '@campaigns/events';

/** Applied specs kept parsed, by applyId: an application's jobs come together. */
const APPLIED_SPECS_CACHED = 64;

/** A job's SpecApplied, parsed. */
export interface AppliedSpec {
  readonly actor: string;
  readonly spec: CampaignSpec | null;
  /** Why the spec does not parse. */
  readonly problems: string;
}

/** The SpecApplied events of jobs, each parsed once per applyId (the most recent kept). */
export class AppliedSpecs {
  readonly #applied = new Map<string, AppliedSpec>();

  constructor(
    private readonly store: PostgresEventStore,
    /** The actor of a SpecApplied that names none. */
    private readonly fallbackActor: string,
  ) {}

  /** The job's SpecApplied, parsed (one targeted query on a miss), or null when there is none. */
  async of(job: ExecutionJob): Promise<AppliedSpec | null> {
    const cached = this.#applied.get(job.applyId);
    if (cached) {
      this.#applied.delete(job.applyId);
      this.#applied.set(job.applyId, cached);
      return cached;
    }
    const { rows } = await this.store.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events
        WHERE stream_id = $1 AND type = $2 AND data->>'applyId' = $3
        ORDER BY stream_version LIMIT 1`,
      [campaignStream(job.campaign), SpecApplied.type, job.applyId],
    );
    if (!rows[0]) return null;
    const event = this.store.upcast(rowToEvent(rows[0]));
    const data = event.data as { specText: string; fileName: string; actor: string };
    const parsed = parseCampaignSpec(data.specText, data.fileName);
    const applied: AppliedSpec = {
      actor: event.metadata.actor ?? data.actor ?? this.fallbackActor,
      spec: parsed.spec ?? null,
      problems: parsed.spec
        ? ''
        : parsed.errors.map((d) => formatDiagnostic(data.fileName, d)).join('; '),
    };
    this.#applied.set(job.applyId, applied);
    if (this.#applied.size > APPLIED_SPECS_CACHED) {
      this.#applied.delete(this.#applied.keys().next().value!);
    }
    return applied;
  }
}
