import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `pm_campaigns`: each campaign's current application (the newest SpecApplied of its stream). */
@Entity({ name: 'pm_campaigns' })
export class PmCampaign {
  @PrimaryColumn({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'spec_event_id', type: 'uuid' })
  specEventId!: string;

  /** A bigint, read as a string (pg's default). */
  @Column({ name: 'stream_version', type: 'bigint' })
  streamVersion!: string;

  /** `campaign close`: its patches render nothing any more (until its name is applied anew). */
  @Column({ name: 'closed', type: 'boolean', default: false })
  closed!: boolean;
}
