/**
 * Splitting a property map over several messages so that no payload passes the broker's limit
 * (baetyl-broker `maxMessagePayloadSize`, 32768 bytes by default). Pure.
 */
import { stringifyJson } from '../../devicemodel/json.ts';

/** What {@link splitPropertyMap} made. */
export interface SplitResult {
  /** Serialized payloads, in the order they should be published. */
  readonly payloads: string[];
  /**
   * Names of properties whose message alone is larger than `maxBytes`. Each is still in
   * `payloads`, alone in its message; the caller decides (the Publisher drops it and logs,
   * because baetyl-broker closes the connection on an oversized packet, and a QoS 1 message
   * would then be resent after every reconnect).
   */
  readonly oversized: string[];
}

/** UTF-8 length of a string: the size the broker counts. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Splits `properties` into as few payloads as fit: each `build(part)` serialized (compact JSON,
 * {@link stringifyJson}) is at most `maxBytes` UTF-8 bytes.
 *
 * - The whole map in one message when it fits (the common case: one serialization).
 * - Otherwise first-fit decreasing bin packing: properties by size, largest first, each into the
 *   first message with room. FFD is not always optimal (bin packing is NP-hard) but uses at most
 *   11/9·OPT + 6/9 messages. Within a message the keys keep their original order.
 * - Sizes are computed exactly, without re-serializing per property: `build({})` gives the fixed
 *   part, each entry adds `"key":value` plus a comma after the first. This holds because `build`
 *   embeds the map once and its other fields have a fixed length (a UUID `reqId`, the timestamp);
 *   every payload is still measured after serialization, and a part that misses is halved.
 * - Properties whose value is `undefined` are left out (JSON has no undefined).
 * - An empty map gives one payload with an empty map.
 * - `build` is called once per payload, so each part gets its own blink `reqId`.
 */
export function splitPropertyMap(
  build: (props: Record<string, unknown>) => object,
  properties: Record<string, unknown>,
  maxBytes: number,
): SplitResult {
  // Common case first: no undefined values and the whole map fits in one message.
  let plain = true;
  for (const k in properties) if (properties[k] === undefined) plain = false;
  if (plain) {
    const text = stringifyJson(build(properties));
    if (byteLength(text) <= maxBytes) return { payloads: [text], oversized: [] };
  }
  const entries = Object.entries(properties).filter(([, v]) => v !== undefined);
  const whole = stringifyJson(build(Object.fromEntries(entries)));
  if (entries.length <= 1 || byteLength(whole) <= maxBytes) {
    const oversized = entries.length === 1 && byteLength(whole) > maxBytes ? [entries[0]![0]] : [];
    return { payloads: [whole], oversized };
  }

  const base = byteLength(stringifyJson(build({})));
  // `{"k":v}` minus the two braces is what the entry adds to a map.
  const sizes = entries.map(([k, v]) => byteLength(stringifyJson({ [k]: v })) - 2);
  const order = entries.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]! || a - b);

  const bins: { idx: number[]; bytes: number }[] = [];
  const alone: number[] = [];
  for (const i of order) {
    const size = sizes[i]!;
    if (base + size > maxBytes) {
      alone.push(i);
      continue;
    }
    const bin = bins.find((b) => b.bytes + 1 + size <= maxBytes);
    if (bin) {
      bin.idx.push(i);
      bin.bytes += 1 + size;
    } else {
      bins.push({ idx: [i], bytes: base + size });
    }
  }

  const payloads: string[] = [];
  const emit = (idx: number[]): void => {
    const sorted = [...idx].sort((a, b) => a - b);
    const text = stringifyJson(build(Object.fromEntries(sorted.map((i) => entries[i]!))));
    if (byteLength(text) <= maxBytes || sorted.length === 1) {
      payloads.push(text);
      return;
    }
    // Only reached if `build` breaks the size model above; halving still keeps the limit.
    const half = Math.ceil(sorted.length / 2);
    emit(sorted.slice(0, half));
    emit(sorted.slice(half));
  };
  for (const b of bins) emit(b.idx);
  for (const i of alone) emit([i]);
  return { payloads, oversized: alone.sort((a, b) => a - b).map((i) => entries[i]![0]) };
}

/**
 * The payloads of {@link splitPropertyMap}. A property too large alone is returned in a message
 * of its own that exceeds `maxBytes`; callers that must know use `splitPropertyMap` (its
 * `oversized` list) or compare {@link byteLength} of each payload with `maxBytes`.
 */
export function splitProperties(
  build: (props: Record<string, unknown>) => object,
  properties: Record<string, unknown>,
  maxBytes: number,
): string[] {
  return splitPropertyMap(build, properties, maxBytes).payloads;
}
