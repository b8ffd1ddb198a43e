/**
 * 16-bit registers <-> typed point values, with the four byte/word orders.
 *
 * Pure: no I/O. Used by the Modbus driver (holding/input registers) and its simulator, so both
 * ends of the wire share one implementation.
 *
 * Byte order (see `ByteOrder` in ../types.ts): registers arrive in wire order; `BADC` and `DCBA`
 * swap the two bytes inside every register, `CDAB` and `DCBA` reverse the order of the registers
 * that make up one value. After that the bytes are big-endian (`ABCD`, Modbus Application
 * Protocol v1.1b3 §4.2: "MODBUS uses a 'big-Endian' representation"). The same rule serves 16-,
 * 32- and 64-bit values: for one register only the byte swap matters.
 */
import type { ByteOrder, PointType, PointValue } from '../types.ts';
import { byteWidth } from '../types.ts';

/** What a decoder made of its input: a value and how many registers it used, "need more", or a reason. */
export type DecodeResult<T> =
  | { kind: 'ok'; value: T; consumed: number }
  | { kind: 'incomplete' }
  | { kind: 'error'; error: string };

/** Result of encoding a value to registers. */
export type EncodeResult = { kind: 'ok'; value: number[] } | { kind: 'error'; error: string };

/** Options for `decodeRegisters`. */
export interface DecodeOptions {
  /** For `bool`: the bit (0 = least significant) of the register; without it, bool = register != 0. */
  readonly bit?: number;
  /** For `string`: one byte per char (`ascii`, the default) or one UTF-16 code unit per register. */
  readonly encoding?: 'ascii' | 'utf16';
  /** For `string`: registers that make up the string; default = all registers given. */
  readonly quantity?: number;
}

/** Options for `encodeRegisters`. */
export interface EncodeOptions {
  readonly bit?: number;
  readonly encoding?: 'ascii' | 'utf16';
  /** For `string`: registers to fill (padded with NULs); default = as few as the text needs. */
  readonly quantity?: number;
  /** For `bool` with `bit`: the register's current value, whose other bits are kept. */
  readonly current?: number;
}

const INT_RANGES = {
  int16: [-0x8000n, 0x7fffn],
  uint16: [0n, 0xffffn],
  int32: [-0x8000_0000n, 0x7fff_ffffn],
  uint32: [0n, 0xffff_ffffn],
  int64: [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
  uint64: [0n, 0xffff_ffff_ffff_ffffn],
} as const;

/** Largest finite float32 (2^128 - 2^104). */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Registers (each 0..0xFFFF) to bytes, each register big-endian (high byte first). */
export function registersToBytes(regs: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(regs.length * 2);
  for (let i = 0; i < regs.length; i++) {
    const r = (regs[i] ?? 0) & 0xffff;
    out[2 * i] = r >> 8;
    out[2 * i + 1] = r & 0xff;
  }
  return out;
}

/** Bytes to registers, big-endian pairs. An odd trailing byte becomes the high byte of a last register. */
export function bytesToRegisters(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  return out;
}

/** Wire-order registers -> canonical big-endian bytes (the order transform is its own inverse). */
function toCanonical(regs: readonly number[], order: ByteOrder, reverseWords: boolean): Uint8Array {
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const swapWords = reverseWords && (order === 'CDAB' || order === 'DCBA');
  const words = swapWords ? [...regs].reverse() : regs;
  const bytes = registersToBytes(words);
  if (swapBytes) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const t = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = t;
    }
  }
  return bytes;
}

/**
 * Canonical big-endian bytes -> wire-order registers. Swapping bytes and reversing words are each
 * their own inverse and commute, so the same transform maps both ways.
 */
function fromCanonical(bytes: Uint8Array, order: ByteOrder, reverseWords: boolean): number[] {
  return bytesToRegisters(toCanonical(bytesToRegisters(bytes), order, reverseWords));
}

function checkRegisters(regs: ArrayLike<number>, n: number): string | undefined {
  for (let i = 0; i < n; i++) {
    const r = regs[i];
    if (r === undefined || !Number.isInteger(r) || r < 0 || r > 0xffff) {
      return `register ${i} is ${String(r)}, not a 16-bit unsigned integer (0..65535)`;
    }
  }
  return undefined;
}

function checkBit(bit: number | undefined): string | undefined {
  if (bit === undefined) return undefined;
  if (!Number.isInteger(bit) || bit < 0 || bit > 15) return `bit must be an integer 0..15, got ${bit}`;
  return undefined;
}

/**
 * Decodes one value of `type` from the start of `regs` (wire order).
 *
 * - `incomplete` when fewer registers than the type needs are given (a truncated response).
 * - 64-bit integers decode as `bigint`; NaN/Infinity floats decode as ok values (the caller decides).
 * - `string`: `ascii` = two chars per register, high byte first (Latin-1 above 0x7F);
 *   `utf16` = one code unit per register; trailing NULs and spaces are trimmed. `BADC`/`DCBA`
 *   swap the two bytes of each register; word order does not apply to text.
 */
export function decodeRegisters(
  regs: ArrayLike<number>,
  type: PointType,
  order: ByteOrder,
  opts: DecodeOptions = {},
): DecodeResult<PointValue> {
  if (type === 'string') return decodeString(regs, order, opts);
  const width = byteWidth(type) ?? 2;
  const n = width / 2;
  const fast = decodeNumberAt(regs, 0, regs.length, type, order, opts.bit);
  if (fast !== undefined) return { kind: 'ok', value: fast, consumed: n };
  // Only the outcomes that are not `ok` get here (and stay exactly as they were).
  if (regs.length < n) return { kind: 'incomplete' };
  const bad = checkRegisters(regs, n);
  if (bad) return { kind: 'error', error: bad };
  const bytes = toCanonical(Array.from({ length: n }, (_, i) => regs[i]!), order, true);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ok = (value: PointValue): DecodeResult<PointValue> => ({ kind: 'ok', value, consumed: n });
  switch (type) {
    case 'bool': {
      const badBit = checkBit(opts.bit);
      if (badBit) return { kind: 'error', error: badBit };
      const r = view.getUint16(0);
      return ok(opts.bit === undefined ? r !== 0 : ((r >> opts.bit) & 1) === 1);
    }
    case 'int16':
      return ok(view.getInt16(0));
    case 'uint16':
      return ok(view.getUint16(0));
    case 'int32':
      return ok(view.getInt32(0));
    case 'uint32':
      return ok(view.getUint32(0));
    case 'float32':
      return ok(view.getFloat32(0));
    case 'int64':
      return ok(view.getBigInt64(0));
    case 'uint64':
      return ok(view.getBigUint64(0));
    case 'float64':
      return ok(view.getFloat64(0));
  }
}

/** Scratch bytes for {@link decodeNumberAt}: JS is single-threaded and the view never escapes. */
const SCRATCH = new DataView(new ArrayBuffer(8));

/**
 * The allocation-free fast path of {@link decodeRegisters} for the hot path of every poll: the
 * numeric or bool value that `decodeRegisters(regs.slice(offset, offset + count), type, order,
 * {bit})` would return as `ok`, read straight out of a response's registers; `undefined` whenever
 * that call would not be `ok` or is not a plain number/bool decode (too few registers, a register
 * out of range, a bad bit, `string`), so that the caller asks decodeRegisters for the exact
 * outcome. Per value it makes no array, no typed array and no closure (each of those cost more
 * than the decode itself: a Uint8Array has its own ArrayBuffer, and tsx names every closure).
 */
export function decodeNumberAt(
  regs: ArrayLike<number>,
  offset: number,
  count: number,
  type: PointType,
  order: ByteOrder,
  bit: number | undefined,
): PointValue | undefined {
  if (type === 'string') return undefined;
  const n = (byteWidth(type) ?? 2) / 2;
  if (count < n || regs.length - offset < n) return undefined;
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const swapWords = order === 'CDAB' || order === 'DCBA';
  for (let i = 0; i < n; i++) {
    const r = regs[offset + i];
    if (r === undefined || !Number.isInteger(r) || r < 0 || r > 0xffff) return undefined;
    // Same transform as toCanonical: reverse the words, swap the bytes inside each one.
    SCRATCH.setUint16(2 * (swapWords ? n - 1 - i : i), swapBytes ? ((r & 0xff) << 8) | (r >> 8) : r);
  }
  switch (type) {
    case 'bool': {
      if (bit !== undefined && (!Number.isInteger(bit) || bit < 0 || bit > 15)) return undefined;
      const r = SCRATCH.getUint16(0);
      return bit === undefined ? r !== 0 : ((r >> bit) & 1) === 1;
    }
    case 'int16':
      return SCRATCH.getInt16(0);
    case 'uint16':
      return SCRATCH.getUint16(0);
    case 'int32':
      return SCRATCH.getInt32(0);
    case 'uint32':
      return SCRATCH.getUint32(0);
    case 'float32':
      return SCRATCH.getFloat32(0);
    case 'int64':
      return SCRATCH.getBigInt64(0);
    case 'uint64':
      return SCRATCH.getBigUint64(0);
    case 'float64':
      return SCRATCH.getFloat64(0);
  }
  return undefined;
}

function decodeString(regs: ArrayLike<number>, order: ByteOrder, opts: DecodeOptions): DecodeResult<PointValue> {
  const n = opts.quantity ?? regs.length;
  if (!Number.isInteger(n) || n < 0) return { kind: 'error', error: `string quantity must be a non-negative integer, got ${n}` };
  if (n === 0 || regs.length < n) return { kind: 'incomplete' };
  const bad = checkRegisters(regs, n);
  if (bad) return { kind: 'error', error: bad };
  const bytes = toCanonical(Array.from({ length: n }, (_, i) => regs[i]!), order, false);
  let text = '';
  if (opts.encoding === 'utf16') {
    for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  } else {
    for (const b of bytes) text += String.fromCharCode(b);
  }
  return { kind: 'ok', value: text.replace(/[\0 ]+$/, ''), consumed: n };
}

/** An integer (number, bigint or boolean as 0/1) as a bigint, or why it is not one. */
function toBigInt(value: PointValue, type: keyof typeof INT_RANGES): bigint | string {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'boolean') v = value ? 1n : 0n;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `${type} needs an integer, got ${value}`;
    v = BigInt(value);
  } else return `${type} needs an integer, got string ${JSON.stringify(value)}`;
  const [min, max] = INT_RANGES[type];
  if (v < min || v > max) return `${v} is out of the ${type} range [${min}, ${max}]`;
  return v;
}

function toFloat(value: PointValue, type: 'float32' | 'float64'): number | string {
  let v: number;
  if (typeof value === 'number') v = value;
  else if (typeof value === 'bigint') v = Number(value);
  else if (typeof value === 'boolean') v = value ? 1 : 0;
  else return `${type} needs a number, got string ${JSON.stringify(value)}`;
  if (!Number.isFinite(v)) return `${type} needs a finite number, got ${v}`;
  if (type === 'float32' && Math.abs(v) > FLOAT32_MAX) return `${v} is out of the float32 range [-${FLOAT32_MAX}, ${FLOAT32_MAX}]`;
  return v;
}

/**
 * Encodes `value` as registers in wire order (the inverse of `decodeRegisters`).
 *
 * Integers are range-checked per type (a number, a bigint, or a boolean as 0/1); non-integers and
 * non-finite floats are errors. `bool` writes 1/0, or with `bit` sets/clears that bit of
 * `current`. `string` is padded with NULs to `quantity` registers; text that does not fit, or
 * chars that do not fit the encoding, are errors.
 */
export function encodeRegisters(value: PointValue, type: PointType, order: ByteOrder, opts: EncodeOptions = {}): EncodeResult {
  const err = (error: string): EncodeResult => ({ kind: 'error', error });
  if (type === 'string') return encodeString(value, order, opts);
  const width = byteWidth(type) ?? 2;
  const bytes = new Uint8Array(width);
  const view = new DataView(bytes.buffer);
  switch (type) {
    case 'bool': {
      let on: boolean;
      if (typeof value === 'boolean') on = value;
      else if (value === 0 || value === 1 || value === 0n || value === 1n) on = value === 1 || value === 1n;
      else return err(`bool needs true/false (or 0/1), got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
      const badBit = checkBit(opts.bit);
      if (badBit) return err(badBit);
      if (opts.bit === undefined) {
        view.setUint16(0, on ? 1 : 0);
        break;
      }
      // A bit write keeps the other bits: the caller reads the register first (read-modify-write).
      if (opts.current === undefined) return err(`writing bit ${opts.bit} needs the register's current value`);
      const cur = checkRegisters([opts.current], 1);
      if (cur) return err(`current value: ${cur}`);
      // `current` is in wire order like every register we get; bring it to canonical order first.
      const curCanon = new DataView(toCanonical([opts.current], order, true).buffer).getUint16(0);
      const mask = 1 << opts.bit;
      view.setUint16(0, on ? curCanon | mask : curCanon & ~mask & 0xffff);
      break;
    }
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      const v = toBigInt(value, type);
      if (typeof v === 'string') return err(v);
      if (type === 'int16') view.setInt16(0, Number(v));
      else if (type === 'uint16') view.setUint16(0, Number(v));
      else if (type === 'int32') view.setInt32(0, Number(v));
      else if (type === 'uint32') view.setUint32(0, Number(v));
      else if (type === 'int64') view.setBigInt64(0, v);
      else view.setBigUint64(0, v);
      break;
    }
    case 'float32':
    case 'float64': {
      const v = toFloat(value, type);
      if (typeof v === 'string') return err(v);
      if (type === 'float32') view.setFloat32(0, v);
      else view.setFloat64(0, v);
      break;
    }
  }
  return { kind: 'ok', value: fromCanonical(bytes, order, true) };
}

function encodeString(value: PointValue, order: ByteOrder, opts: EncodeOptions): EncodeResult {
  if (typeof value !== 'string') return { kind: 'error', error: `string needs text, got ${typeof value} ${String(value)}` };
  const utf16 = opts.encoding === 'utf16';
  const perReg = utf16 ? 1 : 2;
  const need = Math.ceil(value.length / perReg);
  const n = opts.quantity ?? need;
  if (!Number.isInteger(n) || n < 0) return { kind: 'error', error: `string quantity must be a non-negative integer, got ${n}` };
  if (need > n) {
    return { kind: 'error', error: `text of ${value.length} chars does not fit ${n} registers (${n * perReg} chars at most)` };
  }
  const bytes = new Uint8Array(n * 2); // zero-filled: the NUL padding
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (utf16) {
      bytes[2 * i] = c >> 8;
      bytes[2 * i + 1] = c & 0xff;
    } else {
      if (c > 0xff) return { kind: 'error', error: `char ${JSON.stringify(value[i])} at ${i} does not fit one byte (ascii encoding)` };
      bytes[i] = c;
    }
  }
  return { kind: 'ok', value: fromCanonical(bytes, order, false) };
}
