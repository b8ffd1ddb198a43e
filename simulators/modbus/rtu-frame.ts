/**
 * RTU framing helpers (MODBUS over Serial Line V1.02 §2.5.1: address, PDU, CRC-16 low byte
 * first) and the MBAP header (Modbus Messaging on TCP/IP V1.0b §3.1.3: transaction id, protocol
 * id 0, length of unit id + PDU, unit id). Pure, no I/O.
 */

/** CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF), §2.5.1.2 / Appendix B. */
export function crc16(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= bytes[i]!;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Unit id + PDU -> RTU frame with its CRC appended (low byte first). */
export function toRtu(unitAndPdu: Uint8Array): Buffer {
  const out = Buffer.alloc(unitAndPdu.length + 2);
  out.set(unitAndPdu, 0);
  out.writeUInt16LE(crc16(unitAndPdu), unitAndPdu.length);
  return out;
}

/** True when the last two bytes of `frame` are the CRC of the rest. */
export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const n = frame.length - 2;
  return crc16(frame, n) === (frame[n]! | (frame[n + 1]! << 8));
}

/**
 * Length of the RTU *request* at the start of `buf`, from its function code (the request formats
 * of Modbus Application Protocol V1.1b3 §6); `undefined` while more bytes are needed. Unknown
 * function codes take everything received so far (the server answers "illegal function").
 */
export function rtuRequestLength(buf: Uint8Array): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1]!;
  let n: number;
  if (fc >= 1 && fc <= 6) n = 8; // unit, fc, address(2), count/value(2), crc(2)
  else if (fc === 15 || fc === 16) {
    if (buf.length < 7) return undefined;
    n = 9 + buf[6]!; // unit, fc, address(2), count(2), byte count, data, crc(2)
  } else if (fc === 17) n = 4;
  else if (fc === 43) n = 7; // unit, 43, MEI type 14, read code, object id, crc(2)
  else n = buf.length;
  return buf.length >= n ? n : undefined;
}

/** Unit id + PDU -> MBAP frame with transaction id `tid`. */
export function toMbap(tid: number, unitAndPdu: Uint8Array): Buffer {
  const out = Buffer.alloc(6 + unitAndPdu.length);
  out.writeUInt16BE(tid & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(unitAndPdu.length, 4);
  out.set(unitAndPdu, 6);
  return out;
}

/** Length of the MBAP frame at the start of `buf`; `undefined` while more bytes are needed. */
export function mbapFrameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 6) return undefined;
  const n = 6 + ((buf[4]! << 8) | buf[5]!);
  return buf.length >= n ? n : undefined;
}

/**
 * A reply with the second half of its data cut off, still well framed: `unitAndPdu` is unit id,
 * function code, data; the result keeps unit id, function code and the first half of the data.
 * Exception replies (function code with bit 7 set) are returned unchanged.
 */
export function truncatePdu(unitAndPdu: Uint8Array): Uint8Array {
  if (unitAndPdu.length < 3 || (unitAndPdu[1]! & 0x80) !== 0) return unitAndPdu;
  const data = unitAndPdu.length - 2;
  return unitAndPdu.subarray(0, 2 + Math.floor(data / 2));
}
