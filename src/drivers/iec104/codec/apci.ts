/**
 * The APCI of IEC 60870-5-104 §5: every APDU starts with 0x68, a length octet (octets after it:
 * 4 control octets + the ASDU, so 4..253) and four control octets whose low bits select the format:
 *
 * - I format (§5.1, CF1 bit 0 = 0): N(S) in CF1 bits 1–7 + CF2, N(R) in CF3 bits 1–7 + CF4
 *   (15-bit sequence numbers, little-endian, shifted left by one); carries an ASDU.
 * - S format (§5.2, CF1 = 0x01, CF2 = 0): N(R) in CF3/CF4 only; length 4.
 * - U format (§5.3, CF1 bits 0–1 = 11): exactly one of STARTDT/STOPDT/TESTFR act/con; length 4.
 */
import { codecError } from './types.ts';
import type { Decoded } from './types.ts';

/** First octet of every APDU. */
export const START = 0x68;
/** Largest value of the length octet (IEC 60870-5-104 §5: APDU at most 255 octets). */
export const MAX_LENGTH = 253;
/** Largest ASDU an I-format APDU carries. */
export const MAX_ASDU = MAX_LENGTH - 4;
/** Sequence numbers count modulo 2^15. */
export const SEQ_MODULO = 0x8000;

/** U-format functions and their CF1 octet (IEC 60870-5-104 §5.3). */
export const U_FUNCTIONS = {
  STARTDT_ACT: 0x07,
  STARTDT_CON: 0x0b,
  STOPDT_ACT: 0x13,
  STOPDT_CON: 0x23,
  TESTFR_ACT: 0x43,
  TESTFR_CON: 0x83,
} as const;
export type UFunction = keyof typeof U_FUNCTIONS;
const U_BY_OCTET = new Map<number, UFunction>(Object.entries(U_FUNCTIONS).map(([k, v]) => [v, k as UFunction]));

/** One decoded APDU. `asdu` is a view into the decoder's input, not a copy. */
export type Apdu =
  | { readonly format: 'I'; readonly sendSeq: number; readonly recvSeq: number; readonly asdu: Uint8Array }
  | { readonly format: 'S'; readonly recvSeq: number }
  | { readonly format: 'U'; readonly fn: UFunction };

/** Encodes an I-format APDU around an ASDU (at most {@link MAX_ASDU} octets). */
export function encodeI(sendSeq: number, recvSeq: number, asdu: Uint8Array): Uint8Array {
  if (asdu.length === 0 || asdu.length > MAX_ASDU) throw new RangeError(`ASDU of ${asdu.length} octets: 1..${MAX_ASDU} allowed`);
  const out = new Uint8Array(6 + asdu.length);
  out[0] = START;
  out[1] = 4 + asdu.length;
  out[2] = (sendSeq << 1) & 0xfe;
  out[3] = (sendSeq >> 7) & 0xff;
  out[4] = (recvSeq << 1) & 0xfe;
  out[5] = (recvSeq >> 7) & 0xff;
  out.set(asdu, 6);
  return out;
}

/** Encodes an S-format APDU acknowledging everything before `recvSeq`. */
export function encodeS(recvSeq: number): Uint8Array {
  return Uint8Array.of(START, 4, 0x01, 0x00, (recvSeq << 1) & 0xfe, (recvSeq >> 7) & 0xff);
}

/** Encodes a U-format APDU. */
export function encodeU(fn: UFunction): Uint8Array {
  return Uint8Array.of(START, 4, U_FUNCTIONS[fn], 0, 0, 0);
}

/** Encodes any APDU. */
export function encodeApdu(apdu: Apdu): Uint8Array {
  switch (apdu.format) {
    case 'I':
      return encodeI(apdu.sendSeq, apdu.recvSeq, apdu.asdu);
    case 'S':
      return encodeS(apdu.recvSeq);
    case 'U':
      return encodeU(apdu.fn);
  }
}

/**
 * Decodes one APDU at `offset`. `incomplete` when the bytes end before the APDU does; `error` for
 * a wrong start octet, a length outside 4..253 (or not 4 for S/U), or control octets that match
 * no format. Never throws.
 */
export function decodeApdu(buf: Uint8Array, offset = 0): Decoded<Apdu> {
  const left = buf.length - offset;
  if (left < 1) return { kind: 'incomplete' };
  if (buf[offset] !== START) return codecError('BadStart', `APDU must start with 0x68, got 0x${buf[offset]!.toString(16).padStart(2, '0')}`, offset);
  if (left < 2) return { kind: 'incomplete' };
  const length = buf[offset + 1]!;
  if (length < 4 || length > MAX_LENGTH) return codecError('BadLength', `APDU length ${length}: 4..${MAX_LENGTH} allowed`, offset + 1);
  if (left < 2 + length) return { kind: 'incomplete' };
  const c1 = buf[offset + 2]!;
  const c2 = buf[offset + 3]!;
  const c3 = buf[offset + 4]!;
  const c4 = buf[offset + 5]!;
  const consumed = 2 + length;
  if ((c1 & 0x01) === 0) {
    if ((c3 & 0x01) !== 0) return codecError('BadControl', 'I format: CF3 bit 0 must be 0', offset + 4);
    if (length === 4) return codecError('BadLength', 'I format APDU without an ASDU', offset + 1);
    return {
      kind: 'ok',
      consumed,
      value: { format: 'I', sendSeq: (c1 >> 1) | (c2 << 7), recvSeq: (c3 >> 1) | (c4 << 7), asdu: buf.subarray(offset + 6, offset + consumed) },
    };
  }
  if (length !== 4) return codecError('BadLength', `S/U format APDU has length 4, got ${length}`, offset + 1);
  if ((c1 & 0x03) === 0x01) {
    if (c1 !== 0x01 || c2 !== 0 || (c3 & 0x01) !== 0) return codecError('BadControl', 'S format: CF1 must be 0x01, CF2 0 and CF3 bit 0 0', offset + 2);
    return { kind: 'ok', consumed, value: { format: 'S', recvSeq: (c3 >> 1) | (c4 << 7) } };
  }
  const fn = U_BY_OCTET.get(c1);
  if (fn === undefined || c2 !== 0 || c3 !== 0 || c4 !== 0) {
    return codecError('BadControl', `U format: CF1 0x${c1.toString(16)} must set exactly one function bit and CF2..CF4 must be 0`, offset + 2);
  }
  return { kind: 'ok', consumed, value: { format: 'U', fn } };
}
