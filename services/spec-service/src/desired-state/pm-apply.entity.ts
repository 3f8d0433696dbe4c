import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `pm_applies`: one application of a spec, with the text it was applied with. */
@Entity({ name: 'pm_applies' })
export class PmApply {
  @PrimaryColumn({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'spec_hash', type: 'text' })
  specHash!: string;

  @Column({ name: 'spec_text', type: 'text' })
  specText!: string;

  @Column({ name: 'file_name', type: 'text' })
  fileName!: string;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;

  @Column({ name: 'spec_event_id', type: 'uuid' })
  specEventId!: string;
}
