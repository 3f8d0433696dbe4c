import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `repository_index_refreshes`: a code host's last refresh of the index. */
@Entity({ name: 'repository_index_refreshes' })
export class RepositoryIndexRefresh {
  @PrimaryColumn({ name: 'code_host_id', type: 'text' })
  codeHostId!: string;

  /** Its organizations then, lower-cased. */
  @Column({ name: 'organizations', type: 'text', array: true })
  organizations!: string[];

  /** When it finished. */
  @Column({ name: 'refreshed_at', type: 'timestamptz' })
  refreshedAt!: Date;

  /** When the last listing (complete or incremental) started. */
  @Column({ name: 'listing_started_at', type: 'timestamptz', nullable: true })
  listingStartedAt!: Date | null;

  /** When the last complete listing started. */
  @Column({ name: 'full_listing_started_at', type: 'timestamptz', nullable: true })
  fullListingStartedAt!: Date | null;
}
