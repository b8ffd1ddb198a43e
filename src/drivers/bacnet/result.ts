/** The one rule that turns a property's values and its object's status flags into a read result. */
import type { Point, ReadResult } from '../sdk/index.ts';
import type { BacnetAddress } from './address.ts';
import { TAG } from './constants.ts';
import { bitsToNumber, decodeValues, qualityFromFlags } from './values.ts';
import type { AppData } from './values.ts';

/**
 * One point's result: decode the values to the point's type, then apply the status flags
 * (see {@link qualityFromFlags}); without flags (not read, or an error) the quality is `good`.
 */
export function toResult(i: { readonly point: Point<BacnetAddress> }, values: readonly AppData[], flags: readonly AppData[] | undefined, ts: number): ReadResult {
  const id = i.point.id;
  const d = decodeValues(values, i.point.type);
  if (d.kind === 'error') return { id, quality: 'bad', error: d.error, ts };
  const f = flags?.[0];
  const bits = f !== undefined && f.type === TAG.BIT_STRING ? bitsToNumber(f.value) : undefined;
  if (bits === undefined) return { id, quality: 'good', value: d.value, ts };
  const q = qualityFromFlags(bits);
  if (q.quality === 'bad') return { id, quality: 'bad', error: q.error ?? { code: 'Exception', message: 'status flags: fault' }, ts };
  return { id, quality: q.quality, value: d.value, ts };
}
