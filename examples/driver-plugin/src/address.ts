/** zod schemas of a KV/1 device (`accessConfig.kv`) and point (`visitor.kv`). */
import { baseConnectionShape, z } from 'fieldgate/sdk';
import type { Point, PointType } from 'fieldgate/sdk';
import { KEY } from './codec.ts';

/** `accessConfig.kv`: where the instrument listens, plus Baetyl's interval and timeout. */
export const kvConnectionSchema = z.strictObject({
  address: z.string().min(1).describe('host name or IP address of the instrument'),
  port: z.number().int().min(1).max(65535),
  ...baseConnectionShape({ interval: 5000, timeout: 1000 }),
  /** Ask the instrument to push changes (SUB) besides polling. Default false. */
  subscribe: z.boolean().default(false),
});
export type KvConnection = z.output<typeof kvConnectionSchema>;

/** `visitor.kv`: the key the instrument knows the value by. */
export const kvAddressSchema = z.strictObject({
  key: z.string().regex(KEY, { error: 'a key: 1–64 letters, digits, "_", "." or "-"' }),
});
export type KvAddress = z.output<typeof kvAddressSchema>;

const SUPPORTED: readonly PointType[] = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'];

/** Checks a point as a whole: KV/1 carries the scalar types only. */
export function checkKvPoint(p: Point<KvAddress>): { path: (string | number)[]; message: string }[] {
  return SUPPORTED.includes(p.type) ? [] : [{ path: ['type'], message: `KV/1 points can be ${SUPPORTED.join(', ')}; not ${p.type}` }];
}
