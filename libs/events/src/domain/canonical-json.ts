/**
 * JSON with object keys sorted, so equal values always give equal text: a value read back from
 * jsonb compares equal to a fresh one, and a hash of it (the executor's step cache key) does not
 * depend on the order keys were written in. As `JSON.stringify` otherwise: `toJSON` is honoured
 * (dates), undefined properties are left out and undefined array items are `null`; undefined
 * itself gives `null`, so the result is always a string.
 */
export function canonicalJson(value: unknown): string {
  const json = toJsonValue(value);
  if (json === undefined || json === null || typeof json !== 'object')
    return JSON.stringify(json) ?? 'null';
  if (Array.isArray(json)) return `[${json.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(json as Record<string, unknown>)
    .filter(([, item]) => toJsonValue(item) !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** What `JSON.stringify` would write for a value: its `toJSON()` when it has one; functions and symbols are undefined. */
function toJsonValue(value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value !== null && typeof value === 'object' && 'toJSON' in value) {
    const toJSON = (value as { toJSON: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as () => unknown).call(value);
  }
  return value;
}
