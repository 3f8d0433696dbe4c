import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Column, Entity, PrimaryColumn, type DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { openDatabase } from './database.js';
import { selectEntities } from './select-entities.js';

@Entity({ name: 'gadgets' })
class Gadget {
  @PrimaryColumn({ name: 'gadget_id', type: 'text' })
  gadgetId!: string;

  @Column({ name: 'stream_version', type: 'bigint' })
  streamVersion!: string;

  @Column({ type: 'jsonb', nullable: true })
  spec!: { steps: string[] } | null;

  @Column({ name: 'seen_at', type: 'timestamptz' })
  seenAt!: Date;

  @Column({ type: 'boolean' })
  draft!: boolean;

  @Column({ type: 'text', array: true })
  tags!: string[];

  @Column({
    type: 'text',
    transformer: { to: (v: string) => v.toLowerCase(), from: (v: string) => v.toUpperCase() },
  })
  label!: string;
}

describe('selectEntities', () => {
  let db: TestDatabase;
  let database: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    database = await openDatabase({
      url: db.url,
      schema: 'gadgets_test',
      applicationName: 'select-entities test',
      entities: [Gadget],
    });
    await database.query(`CREATE TABLE gadgets (
      gadget_id text PRIMARY KEY, stream_version bigint NOT NULL, spec jsonb,
      seen_at timestamptz NOT NULL, draft boolean NOT NULL, tags text[] NOT NULL, label text NOT NULL)`);
    await database.getRepository(Gadget).insert([
      {
        gadgetId: 'a',
        streamVersion: '9007199254740993',
        spec: { steps: ['echo'] },
        seenAt: new Date('2026-12-05T08:00:00.123Z'),
        draft: true,
        tags: ['x', 'y'],
        label: 'Alpha',
      },
      {
        gadgetId: 'b',
        streamVersion: '1',
        spec: null,
        seenAt: new Date('2026-12-05T09:00:00Z'),
        draft: false,
        tags: [],
        label: 'beta',
      },
    ]);
  });
  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
  });

  it('hydrates exactly what getMany hydrates: bigints, JSON, nulls, dates, arrays, transformers', async () => {
    const expected = await database
      .getRepository(Gadget)
      .createQueryBuilder('g')
      .where('g.gadget_id = ANY(:ids::text[])', { ids: ['a', 'b'] })
      .orderBy('g.gadget_id')
      .getMany();
    const got = await selectEntities(
      database.manager,
      Gadget,
      'gadget_id = ANY($1::text[]) ORDER BY gadget_id',
      [['a', 'b']],
    );
    expect(got).toEqual(expected);
    expect(got[0]).toBeInstanceOf(Gadget);
    expect(got[0]).toMatchObject({ streamVersion: '9007199254740993', label: 'ALPHA' });
    expect(got[1]!.spec).toBeNull();
  });

  it('reads inside the transaction of the manager it is given', async () => {
    await database.transaction(async (manager) => {
      await manager.query(`UPDATE gadgets SET draft = NOT draft WHERE gadget_id = 'b'`);
      const [inside] = await selectEntities(manager, Gadget, 'gadget_id = $1', ['b']);
      const [outside] = await selectEntities(database.manager, Gadget, 'gadget_id = $1', ['b']);
      expect(inside!.draft).toBe(true);
      expect(outside!.draft).toBe(false);
      await manager.query(`UPDATE gadgets SET draft = NOT draft WHERE gadget_id = 'b'`);
    });
  });

  it('finds nothing without failing', async () => {
    expect(await selectEntities(database.manager, Gadget, 'gadget_id = $1', ['none'])).toEqual([]);
  });
});
