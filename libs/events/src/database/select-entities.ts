// Entity reads on a hot path without the QueryBuilder's per-call cost. The QueryBuilder builds
// its SQL anew on every call (~0.5–1 ms of CPU for a one-row lookup with its alias rewriting and
// hydration), which the reconciler's rounds and the executor's cache lookups pay once per
// changeset. Here the select list comes from the entity's metadata once per DataSource, and rows
// are hydrated as TypeORM does (the driver's prepareHydratedValue, the column's setEntityValue),
// so the entity stays the one description of the table.
import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
} from 'typeorm';

interface Prepared {
  readonly metadata: EntityMetadata;
  /** `SELECT "a", "b" FROM "table"`: the WHERE clause is the caller's. */
  readonly select: string;
}

const prepared = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, Prepared>>();

function prepare(manager: EntityManager, entity: EntityTarget<ObjectLiteral>): Prepared {
  const source = manager.connection;
  let byEntity = prepared.get(source);
  if (byEntity === undefined) {
    byEntity = new Map();
    prepared.set(source, byEntity);
  }
  let entry = byEntity.get(entity);
  if (entry === undefined) {
    const metadata = source.getMetadata(entity);
    const columns = metadata.columns.map((c) => `"${c.databaseName}"`).join(', ');
    // Unqualified, like the entities: the connection's search_path names the schema.
    entry = { metadata, select: `SELECT ${columns} FROM "${metadata.tableName}"` };
    byEntity.set(entity, entry);
  }
  return entry;
}

/**
 * The entities of `entity`'s table matching `where` (SQL over the table's column names, with
 * `$1`… for `parameters`), hydrated as `getMany()` would. Runs on `manager` (a transaction's
 * manager reads inside that transaction).
 */
export async function selectEntities<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: string,
  parameters: readonly unknown[],
): Promise<E[]> {
  const { metadata, select } = prepare(manager, entity as EntityTarget<ObjectLiteral>);
  const rows = (await manager.query(`${select} WHERE ${where}`, [...parameters])) as Record<
    string,
    unknown
  >[];
  const { driver } = manager.connection;
  return rows.map((row) => {
    const out = metadata.create() as E;
    for (const column of metadata.columns) {
      column.setEntityValue(out, driver.prepareHydratedValue(row[column.databaseName], column));
    }
    return out;
  });
}
