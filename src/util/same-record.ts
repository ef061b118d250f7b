/**
 * Whether two flat records (JSON objects whose values are strings or numbers) hold the same keys
 * with the same values. Key order does not count: jsonb hands keys back in its own order, not in
 * the order they were written. A missing record (null, undefined) is the same as an empty one.
 */
export function sameRecord<T extends object>(a: T | null | undefined, b: T): boolean {
  const x = (a ?? {}) as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}
