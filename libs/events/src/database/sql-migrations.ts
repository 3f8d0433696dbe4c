import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { Migration } from '../store/migrations.js';
import { projectionMigrations, type ProjectionDefinition } from '../projections/projection.js';

/** A TypeORM migration class, as `DataSourceOptions.migrations` takes them. */
export type MigrationClass = new () => MigrationInterface;

/**
 * A group of migrations of one component (a service, a projection, an index): their DDL stays
 * written once, as SQL parameterised by schema where a replay needs a scratch copy, and TypeORM
 * runs and records it. `timestamp` orders the group among the service's others and names its
 * migrations; it must never change once released (TypeORM knows a migration by its name).
 */
export interface MigrationGroup {
  /** The component name today's runner recorded these under (`campaigns_schema_migrations`). */
  readonly component: string;
  /** 13 digits (TypeORM's convention); version v of the group is named with timestamp + v. */
  readonly timestamp: number;
  readonly migrations: readonly Migration[];
}

const LEGACY_TABLE = 'public.campaigns_schema_migrations';

/**
 * TypeORM migrations for a group. One that today's runner (`runMigrations`) already applied to
 * this database is adopted: recorded as run without running its DDL again. Forward-only, like
 * the runner: `down` refuses.
 */
export function sqlMigrations(group: MigrationGroup): MigrationClass[] {
  if (!/^\d{13}$/.test(String(group.timestamp)))
    throw new Error(`migration group ${group.component}: timestamp must have 13 digits`);
  const prefix = group.component.replace(/[^A-Za-z0-9]+/g, '_');
  return group.migrations.map((m) => {
    const name = `${prefix}_v${m.version}_${group.timestamp + m.version}`;
    return class implements MigrationInterface {
      readonly name = name;
      async up(runner: QueryRunner): Promise<void> {
        if (await appliedByLegacyRunner(runner, group.component, m.version)) return;
        try {
          await runner.query(m.sql);
        } catch (err) {
          throw new Error(
            `migration ${group.component} #${m.version} (${m.name}) failed: ${(err as Error).message}`,
            { cause: err },
          );
        }
      }
      async down(): Promise<void> {
        throw new Error(`migration ${name} is forward-only`);
      }
    };
  });
}

/**
 * A projection's migrations (its consumer's bookkeeping first) as a group in `schema`: its name
 * and DDL are all they need, so a service can list them before it can build the projection.
 */
export function projectionSqlMigrations(
  projection: Pick<ProjectionDefinition, 'name' | 'migrations'>,
  schema: string,
  timestamp: number,
): MigrationClass[] {
  return sqlMigrations({
    component: `${schema}.${projection.name}`,
    timestamp,
    migrations: projectionMigrations(projection, schema),
  });
}

async function appliedByLegacyRunner(
  runner: QueryRunner,
  component: string,
  version: number,
): Promise<boolean> {
  const [table] = (await runner.query(`SELECT to_regclass($1) AS t`, [LEGACY_TABLE])) as {
    t: string | null;
  }[];
  if (!table?.t) return false;
  const rows = (await runner.query(
    `SELECT 1 FROM ${LEGACY_TABLE} WHERE component = $1 AND version = $2`,
    [component, version],
  )) as unknown[];
  return rows.length > 0;
}
