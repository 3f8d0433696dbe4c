import { z } from 'zod';
import { EventValidationError, UnknownEventTypeError } from '../store/errors.js';

/** Turns a payload of one older schema version into the next version's shape. */
export type Upcaster = (data: unknown) => unknown;

/** One event type: its name, current schema version, payload schema and upcasters from older versions. */
export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly schemaVersion: number;
  readonly schema: S;
  /** upcasters[n] turns a version-n payload into version n+1. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
}

/** The payload type a definition validates to. */
export type EventData<D extends EventDefinition> = z.infer<D['schema']>;

/** Defines an event type once; its TypeScript type is inferred from the schema. */
export function defineEvent<T extends string, S extends z.ZodType>(
  type: T,
  schema: S,
  options: { schemaVersion?: number; upcasters?: Record<number, Upcaster> } = {},
): EventDefinition<T, S> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(type)) {
    throw new Error(`event type "${type}" must be PascalCase letters and digits`);
  }
  const schemaVersion = options.schemaVersion ?? 1;
  const upcasters = options.upcasters ?? {};
  for (let v = 1; v < schemaVersion; v++) {
    if (!upcasters[v])
      throw new Error(`event type ${type} v${schemaVersion} lacks an upcaster from v${v}`);
  }
  return { type, schemaVersion, schema, upcasters };
}

function describeIssues(type: string, error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]!;
  const field = ['data', ...issue.path.map(String)].join('.');
  return { field, message: `${type}.${field}: ${issue.message}` };
}

/** The set of event types a process knows; validates payloads at append and at consume. */
export class EventCatalogue {
  private readonly byType = new Map<string, EventDefinition>();

  constructor(definitions: readonly EventDefinition[]) {
    for (const d of definitions) {
      if (this.byType.has(d.type)) throw new Error(`event type ${d.type} is defined twice`);
      this.byType.set(d.type, d);
    }
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  definition(type: string): EventDefinition {
    const d = this.byType.get(type);
    if (!d) throw new UnknownEventTypeError(type, this.types);
    return d;
  }

  /** Validates a payload of the current schema version; returns the parsed payload. */
  validate(type: string, data: unknown): { data: unknown; schemaVersion: number } {
    const d = this.definition(type);
    const parsed = d.schema.safeParse(data);
    if (!parsed.success) {
      const { field, message } = describeIssues(type, parsed.error);
      throw new EventValidationError(type, field, message);
    }
    return { data: parsed.data, schemaVersion: d.schemaVersion };
  }

  /** Brings a stored payload of any known schema version up to the current one, then validates it. */
  upcast(type: string, schemaVersion: number, data: unknown): unknown {
    const d = this.definition(type);
    if (schemaVersion > d.schemaVersion) {
      throw new EventValidationError(
        type,
        'schema_version',
        `${type}: stored schema version ${schemaVersion} is newer than this process knows (${d.schemaVersion}); upgrade the service`,
      );
    }
    let current = data;
    for (let v = schemaVersion; v < d.schemaVersion; v++) current = d.upcasters[v]!(current);
    return this.validate(type, current).data;
  }
}
