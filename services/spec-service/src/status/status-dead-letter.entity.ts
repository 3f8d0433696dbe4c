import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `status_dead_letters`: an event a consumer gave up on, charged to the campaign it names. */
@Entity({ name: 'status_dead_letters' })
@Index('status_dead_letters_campaign_apply_id_recorded_at_idx', [
  'campaign',
  'applyId',
  'recordedAt',
])
export class StatusDeadLetter {
  /** The ConsumerDeadLettered event's id. */
  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  /** The application current when it was recorded; null when the campaign had none. */
  @Column({ name: 'apply_id', type: 'uuid', nullable: true })
  applyId!: string | null;

  @Column({ name: 'consumer', type: 'text' })
  consumer!: string;

  @Column({ name: 'dead_event_id', type: 'uuid' })
  deadEventId!: string;

  @Column({ name: 'dead_event_type', type: 'text' })
  deadEventType!: string;

  @Column({ name: 'error', type: 'text' })
  error!: string;

  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}
