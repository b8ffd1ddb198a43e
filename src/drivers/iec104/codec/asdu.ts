/**
 * The ASDU of IEC 60870-5-101 §7.2 as IEC 60870-5-104 §6 carries it:
 *
 * | field | octets | clause |
 * |---|---|---|
 * | type identification | 1 | §7.2.1 |
 * | variable structure qualifier: bit 7 SQ, bits 0–6 number of objects | 1 | §7.2.2 |
 * | cause of transmission: bits 0–5 cause, bit 6 P/N, bit 7 T (test); then originator address | 1 or 2 (104: 2) | §7.2.3 |
 * | common address, little-endian | 1 or 2 (104: 2) | §7.2.4 |
 * | information objects: address (1–3 octets, 104: 3) + element [+ CP56Time2a] | | §7.2.5, §7.2.6 |
 *
 * With SQ = 0 every object carries its own address; with SQ = 1 only the first does and the
 * others follow at consecutive addresses. Field sizes are parameters for interop with stations
 * that use the IEC 60870-5-101 sizes.
 */
import { MAX_ASDU } from './apci.ts';
import { LAYOUTS } from './elements.ts';
import type { Element } from './elements.ts';
import { CP56_SIZE, decodeCp56, writeCp56 } from './time.ts';
import type { Cp56Time } from './time.ts';
import { codecError, typeName } from './types.ts';
import type { Decoded } from './types.ts';

/** Field sizes of the data unit identifier (system parameters of IEC 60870-5-104 §9). */
export interface AsduParams {
  readonly cotSize: 1 | 2;
  readonly caSize: 1 | 2;
  readonly ioaSize: 1 | 2 | 3;
}

/** The sizes IEC 60870-5-104 fixes: COT 2, CA 2, IOA 3. */
export const IEC104_PARAMS: AsduParams = Object.freeze({ cotSize: 2, caSize: 2, ioaSize: 3 });

/** One information object: its address, its element, and the time tag when the type has one. */
export interface InfoObject {
  readonly ioa: number;
  readonly element: Element;
  readonly time?: Cp56Time;
}

/** A decoded (or to-be-encoded) ASDU. */
export interface Asdu {
  readonly typeId: number;
  /** SQ: the objects sit at consecutive addresses starting at the first object's `ioa`. */
  readonly sequence: boolean;
  /** Cause of transmission, 0..63. */
  readonly cause: number;
  /** P/N: negative confirmation. */
  readonly negative: boolean;
  /** T: test ASDU, not to be acted on. */
  readonly test: boolean;
  /** Originator address (0 = default); only on the wire when cotSize = 2. */
  readonly originator: number;
  readonly commonAddress: number;
  readonly objects: readonly InfoObject[];
}

function headerSize(p: AsduParams): number {
  return 2 + p.cotSize + p.caSize;
}

/** Octets one object takes (address included unless it is a follower in an SQ = 1 ASDU). */
export function objectSize(typeId: number, p: AsduParams, withAddress = true): number | undefined {
  const l = LAYOUTS.get(typeId);
  if (l === undefined) return undefined;
  return (withAddress ? p.ioaSize : 0) + l.size + (l.timeTagged ? CP56_SIZE : 0);
}

/** Most objects of `typeId` one ASDU holds (limited by 249 octets and the 7-bit count). */
export function maxObjects(typeId: number, p: AsduParams, sequence = false): number {
  const body = MAX_ASDU - headerSize(p);
  const one = objectSize(typeId, p, !sequence);
  if (one === undefined) return 0;
  const n = sequence ? Math.floor((body - p.ioaSize) / one) : Math.floor(body / one);
  return Math.min(127, n);
}

function readUint(b: Uint8Array, o: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + b[o + i]!;
  return v;
}
function writeUint(b: Uint8Array, o: number, size: number, v: number): void {
  for (let i = 0; i < size; i++) b[o + i] = Math.floor(v / 256 ** i) & 0xff;
}

/**
 * Encodes an ASDU. Throws RangeError for what a caller must not ask: an unknown type, an element
 * of another type, a missing time tag, addresses that do not fit their field, SQ = 1 objects
 * that are not consecutive, or more than 249 octets (split with {@link maxObjects}).
 */
export function encodeAsdu(a: Asdu, p: AsduParams = IEC104_PARAMS): Uint8Array {
  const l = LAYOUTS.get(a.typeId);
  if (l === undefined) throw new RangeError(`cannot encode ${typeName(a.typeId)}`);
  const n = a.objects.length;
  if (n < 1 || n > 127) throw new RangeError(`an ASDU holds 1..127 objects, got ${n}`);
  const one = l.size + (l.timeTagged ? CP56_SIZE : 0);
  const size = headerSize(p) + (a.sequence ? p.ioaSize + n * one : n * (p.ioaSize + one));
  if (size > MAX_ASDU) throw new RangeError(`ASDU of ${size} octets exceeds ${MAX_ASDU}`);
  if (a.commonAddress < 0 || a.commonAddress >= 256 ** p.caSize) throw new RangeError(`common address ${a.commonAddress} does not fit ${p.caSize} octet(s)`);
  const b = new Uint8Array(size);
  b[0] = a.typeId;
  b[1] = (a.sequence ? 0x80 : 0) | n;
  b[2] = (a.cause & 0x3f) | (a.negative ? 0x40 : 0) | (a.test ? 0x80 : 0);
  let o = 3;
  if (p.cotSize === 2) b[o++] = a.originator & 0xff;
  writeUint(b, o, p.caSize, a.commonAddress);
  o += p.caSize;
  const first = a.objects[0]!.ioa;
  for (let i = 0; i < n; i++) {
    const obj = a.objects[i]!;
    if (obj.element.kind !== l.kind) throw new RangeError(`${typeName(a.typeId)} carries ${l.kind} elements, got ${obj.element.kind}`);
    if (obj.ioa < 0 || obj.ioa >= 256 ** p.ioaSize) throw new RangeError(`IOA ${obj.ioa} does not fit ${p.ioaSize} octet(s)`);
    if (a.sequence && obj.ioa !== first + i) throw new RangeError(`SQ=1 needs consecutive addresses: object ${i} has ${obj.ioa}, expected ${first + i}`);
    if (!a.sequence || i === 0) {
      writeUint(b, o, p.ioaSize, obj.ioa);
      o += p.ioaSize;
    }
    l.write(obj.element, b, o);
    o += l.size;
    if (l.timeTagged) {
      if (obj.time === undefined) throw new RangeError(`${typeName(a.typeId)} needs a time tag on every object`);
      o += writeCp56(obj.time, b, o);
    }
  }
  return b;
}

/**
 * Decodes a whole ASDU (the payload of one I-format APDU). The length must match the type,
 * count and SQ exactly: fewer octets is `Truncated`, more is `TrailingBytes`; an unknown type is
 * `UnknownType` (the header is then in the message only). Never throws.
 */
export function decodeAsdu(b: Uint8Array, p: AsduParams = IEC104_PARAMS): Decoded<Asdu> {
  const hs = headerSize(p);
  if (b.length < hs) return codecError('Truncated', `ASDU header needs ${hs} octets, got ${b.length}`, 0);
  const typeId = b[0]!;
  const l = LAYOUTS.get(typeId);
  if (l === undefined) return codecError('UnknownType', `unknown type identification ${typeId}`, 0);
  const sequence = (b[1]! & 0x80) !== 0;
  const n = b[1]! & 0x7f;
  if (n === 0) return codecError('BadLength', 'variable structure qualifier says 0 objects', 1);
  const cause = b[2]! & 0x3f;
  const negative = (b[2]! & 0x40) !== 0;
  const test = (b[2]! & 0x80) !== 0;
  let o = 3;
  const originator = p.cotSize === 2 ? b[o++]! : 0;
  const commonAddress = readUint(b, o, p.caSize);
  o += p.caSize;
  const one = l.size + (l.timeTagged ? CP56_SIZE : 0);
  const expected = hs + (sequence ? p.ioaSize + n * one : n * (p.ioaSize + one));
  if (b.length < expected) return codecError('Truncated', `${typeName(typeId)} with ${n} object(s)${sequence ? ' (SQ=1)' : ''} needs ${expected} octets, got ${b.length}`, b.length);
  if (b.length > expected) return codecError('TrailingBytes', `${typeName(typeId)} with ${n} object(s)${sequence ? ' (SQ=1)' : ''} is ${expected} octets, got ${b.length}`, expected);
  const objects: InfoObject[] = new Array(n);
  let ioa = 0;
  for (let i = 0; i < n; i++) {
    if (!sequence || i === 0) {
      ioa = readUint(b, o, p.ioaSize);
      o += p.ioaSize;
    } else {
      ioa += 1;
      if (ioa >= 256 ** p.ioaSize) return codecError('BadValue', `SQ=1 run passes the largest ${p.ioaSize}-octet IOA`, o);
    }
    const element = l.read(b, o);
    o += l.size;
    if (l.timeTagged) {
      const t = decodeCp56(b, o);
      if (t.kind !== 'ok') return codecError('Truncated', 'time tag cut short', o);
      o += CP56_SIZE;
      objects[i] = { ioa, element, time: t.value };
    } else {
      objects[i] = { ioa, element };
    }
  }
  return { kind: 'ok', consumed: b.length, value: { typeId, sequence, cause, negative, test, originator, commonAddress, objects } };
}

/** Reads only the type, cause and common address, for replies to ASDUs that do not decode. */
export function peekHeader(b: Uint8Array, p: AsduParams = IEC104_PARAMS): { typeId: number; cause: number; commonAddress: number; ioa: number } | undefined {
  const hs = headerSize(p);
  if (b.length < hs) return undefined;
  const ca = readUint(b, 2 + p.cotSize, p.caSize);
  const ioa = b.length >= hs + p.ioaSize ? readUint(b, hs, p.ioaSize) : 0;
  return { typeId: b[0]!, cause: b[2]! & 0x3f, commonAddress: ca, ioa };
}
