/**
 * Value and type vocabulary shared by every layer. Pure data: no I/O, no imports of ours.
 *
 * Names follow Baetyl's `dmcontext/format.go` (model types) plus the raw point types that
 * Baetyl's drivers decode (`uint16`, `uint32`, `uint64`).
 */

/** Types a point (an access-template property) can be decoded as. */
export const POINT_TYPES = [
  'bool',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
] as const;
export type PointType = (typeof POINT_TYPES)[number];

/** Types a model (product) property can have (Baetyl `data_plus_type`, plus unsigned and `int`). */
export const MODEL_TYPES = [
  'bool',
  'int',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
  'time',
  'date',
  'enum',
  'array',
  'object',
] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * A decoded value. 64-bit integers are `bigint` so that no digit is lost; everything else is a
 * plain JS value. Publishing converts `bigint` to an exact JSON number literal.
 */
export type PointValue = number | bigint | boolean | string;

/** A model attribute value after mapping (arrays/objects only pass through from drivers that produce them). */
export type AttributeValue = PointValue | null | readonly AttributeValue[] | { readonly [k: string]: AttributeValue };

/** OPC UA-style quality, reduced to the three states every protocol can express. */
export type Quality = 'good' | 'bad' | 'uncertain';

/**
 * One byte-order name for all widths. `ABCD` means big-endian bytes and words (Modbus default),
 * `BADC` swaps the bytes inside each register, `CDAB` swaps registers (word order), `DCBA` both.
 * A 4-letter name is applied to 16- and 64-bit values by the same rule (swap bytes in each
 * register / reverse register order), so one setting per point covers every type.
 */
export type ByteOrder = 'ABCD' | 'BADC' | 'CDAB' | 'DCBA';
export const BYTE_ORDERS: readonly ByteOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];
/** The 64-bit spellings accepted in configuration, with the 4-letter order each means. */
export const BYTE_ORDER_ALIASES_64: Readonly<Record<string, ByteOrder>> = {
  ABCDEFGH: 'ABCD',
  BADCFEHG: 'BADC',
  GHEFCDAB: 'CDAB',
  HGFEDCBA: 'DCBA',
};

/** Size in bytes of a fixed-width point type; `undefined` for `string` (sized by quantity). */
export function byteWidth(type: PointType): number | undefined {
  switch (type) {
    case 'bool':
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 8;
    case 'string':
      return undefined;
  }
}
