import type { Visibility } from '@campaigns/codehost';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `indexed_repositories`: one repository of the index with its file paths. Its DDL also has a
 * unique index on `lower(name)` (indexed_repositories_lower_name), an expression TypeORM's
 * `@Index` does not describe; the SQL migrations are what create it.
 */
@Entity({ name: 'indexed_repositories' })
@Index('indexed_repositories_code_host', ['codeHostId'])
@Index('indexed_repositories_node_id', ['nodeId'])
export class IndexedRepositoryRecord {
  /** `HOST/OWNER/NAME`, spelled as the code host spells it. */
  @PrimaryColumn({ name: 'name', type: 'text' })
  name!: string;

  @Column({ name: 'code_host_id', type: 'text' })
  codeHostId!: string;

  @Column({ name: 'owner', type: 'text' })
  owner!: string;

  @Column({ name: 'default_branch', type: 'text' })
  defaultBranch!: string;

  @Column({ name: 'head_commit', type: 'text', nullable: true })
  headCommit!: string | null;

  @Column({ name: 'archived', type: 'boolean' })
  archived!: boolean;

  @Column({ name: 'fork', type: 'boolean' })
  fork!: boolean;

  @Column({ name: 'visibility', type: 'text' })
  visibility!: Visibility;

  /** Found by listing a configured organization; false when indexed on demand only. */
  @Column({ name: 'listed', type: 'boolean' })
  listed!: boolean;

  /** Every file path at `filesCommit`. */
  @Column({ name: 'files', type: 'text', array: true, default: () => "'{}'" })
  files!: string[];

  @Column({ name: 'files_commit', type: 'text', nullable: true })
  filesCommit!: string | null;

  @Column({ name: 'indexed_at', type: 'timestamptz', default: () => 'now()' })
  indexedAt!: Date;

  @Column({ name: 'description', type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'topics', type: 'text', array: true, default: () => "'{}'" })
  topics!: string[];

  /** When the head commit was committed; null for an empty repository. */
  @Column({ name: 'head_committed_at', type: 'timestamptz', nullable: true })
  headCommittedAt!: Date | null;

  /** The code host's id, which survives renames; null for rows indexed before it was kept. */
  @Column({ name: 'node_id', type: 'text', nullable: true })
  nodeId!: string | null;
}
