import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * The last version of each stream a projection has applied, written in the same transaction as
 * the projection's rows. Tables are schema-less: a service's connections search its own schema
 * (see `openDatabase`), so one entity serves every service and a replay's scratch schema.
 */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpoint {
  @PrimaryColumn({ type: 'text' })
  projection!: string;

  @PrimaryColumn({ name: 'stream_id', type: 'text' })
  streamId!: string;

  /** A bigint, read as a string (pg's default); `BigInt(streamVersion)` to compare. */
  @Column({ name: 'stream_version', type: 'bigint' })
  streamVersion!: string;
}

/** An event a projection's consumer gave up on, with the handler's error; its stream moved past it. */
@Entity({ name: 'dead_letters' })
@Unique('dead_letters_projection_event_id_key', ['projection', 'eventId'])
export class DeadLetter {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'text' })
  projection!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'stream_id', type: 'text' })
  streamId!: string;

  @Column({ name: 'stream_version', type: 'bigint' })
  streamVersion!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  error!: string;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ type: 'jsonb' })
  event!: unknown;

  @Column({ name: 'failed_at', type: 'timestamptz', default: () => 'now()' })
  failedAt!: Date;
}

/** The entities every service with projection consumers registers. */
export const CONSUMER_ENTITIES = [ProjectionCheckpoint, DeadLetter] as const;
