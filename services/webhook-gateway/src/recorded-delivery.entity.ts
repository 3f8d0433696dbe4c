import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A delivery whose observations were appended (webhook_gateway.deliveries), noted in the same
 * transaction: a redelivery finds it and records nothing. One that only echoed the events has
 * no changeset ids.
 */
@Entity({ name: 'deliveries' })
export class RecordedDelivery {
  /** X-GitHub-Delivery. */
  @PrimaryColumn({ name: 'delivery_id', type: 'text' })
  deliveryId!: string;

  @Column({ name: 'event', type: 'text' })
  event!: string;

  @Column({ name: 'action', type: 'text', nullable: true })
  action!: string | null;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'changeset_ids', type: 'text', array: true })
  changesetIds!: string[];

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;
}
