/**
 * JSON text for MQTT payloads. `JSON.stringify` throws on `bigint` and Node 20 has no
 * `JSON.rawJSON`, yet 64-bit points (uint64 counters, int64 energy totals) must reach the broker
 * with every digit: so this writer emits a bigint as its exact decimal literal
 * (RFC 8259 §6 puts no limit on a number's digits).
 */

/**
 * Like `JSON.stringify(value)` (no indentation), except that a `bigint` is written as an exact
 * number literal (`18446744073709551615`) and non-finite numbers as `null`. `toJSON` is honoured,
 * `undefined`/functions/symbols are dropped from objects and become `null` in arrays (and at the
 * top level). Cycles throw a TypeError, as with `JSON.stringify`.
 */
export function stringifyJson(value: unknown): string {
  // Fast path: the engine's serializer, which only fails on bigint (and cycles, which the
  // writer below reports the same way). Payloads without 64-bit values never leave it.
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return write(value, new Set<object>()) ?? 'null';
  }
}

/** `undefined` means "omit" (for object members). */
function write(value: unknown, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const obj = value as object;
  // Boxed primitives serialise as their primitive, like JSON.stringify.
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return write(obj.valueOf(), seen);
  if (seen.has(obj)) throw new TypeError('stringifyJson: cyclic structure');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((v: unknown) => write(v, seen) ?? 'null').join(',')}]`;
  } else {
    const parts: string[] = [];
    for (const k of Object.keys(obj)) {
      const v = write((obj as Record<string, unknown>)[k], seen);
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
    }
    out = `{${parts.join(',')}}`;
  }
  seen.delete(obj);
  return out;
}
