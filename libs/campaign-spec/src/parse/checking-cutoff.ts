import type { z } from 'zod';
import { SchemaCache } from '../spec/schema-navigation.js';
import type { SpecPath } from './yaml-reader.js';

/** Lists and records with more children than this are checked child by child first. */
const CHECKED_ONE_BY_ONE = 100;

/** The value to check, and where checking stopped when it did. */
export interface CutOff {
  readonly value: unknown;
  /** The first child left out: every child of its list (or record) from there on is unchecked. */
  readonly stoppedAt?: SpecPath;
  /** Problems found checking children one by one. */
  readonly issues: number;
}

/**
 * Stops checking after about `maxIssues` schema problems, as compilers stop after many errors:
 * zod spends microseconds on each problem it finds (far more than on a valid value), so a spec
 * that is one long list of wrong entries would otherwise take seconds. Long lists and records are
 * checked child by child, innermost first; once the problems found reach `maxIssues`, the rest of
 * the list is left out of the value returned. Nothing is left out of a spec with fewer problems.
 */
export function cutOffAfterIssues(value: unknown, schema: z.ZodType, maxIssues: number): CutOff {
  const schemas = new SchemaCache();
  let issues = 0;
  let stoppedAt: SpecPath | undefined;

  const visit = (node: unknown, here: readonly z.ZodType[], trail?: Trail): unknown => {
    if (node === null || typeof node !== 'object') return node;
    const list = Array.isArray(node);
    const keys: (string | number)[] = list ? [...node.keys()] : Object.keys(node);
    const each = keys.length > CHECKED_ONE_BY_ONE ? schemas.each(here) : undefined;
    let copy: unknown[] | Record<string, unknown> | undefined;
    for (const [i, key] of keys.entries()) {
      if (each && issues >= maxIssues) {
        stoppedAt ??= pathOf({ up: trail, key });
        if (Array.isArray(copy)) copy.length = i;
        else if (copy) for (const dropped of keys.slice(i)) delete copy[dropped];
        return copy ?? (list ? (node as unknown[]).slice(0, i) : pick(node, keys.slice(0, i)));
      }
      const child = (node as Record<string | number, unknown>)[key];
      const checked = visit(child, schemas.child(here, key), { up: trail, key });
      if (checked !== child) {
        copy ??= list ? [...(node as unknown[])] : { ...(node as Record<string, unknown>) };
        setOwn(copy, key, checked);
      }
      if (each) {
        const parsed = each.safeParse(checked);
        if (!parsed.success) issues += parsed.error.issues.length;
      }
    }
    return copy ?? node;
  };

  const checked = visit(value, [schema]);
  return stoppedAt ? { value: checked, stoppedAt, issues } : { value, issues };
}

/** A path kept as links to the parent, so that visiting a value does not copy its path. */
interface Trail {
  readonly up: Trail | undefined;
  readonly key: string | number;
}

function pathOf(trail: Trail | undefined): SpecPath {
  const path: (string | number)[] = [];
  for (let t = trail; t; t = t.up) path.push(t.key);
  return path.reverse();
}

function pick(node: object, keys: readonly (string | number)[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of keys) setOwn(kept, key, (node as Record<string | number, unknown>)[key]);
  return kept;
}

/** Sets an own data property, even for a key such as "__proto__". */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
