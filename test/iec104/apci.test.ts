/**
 * APCI byte vectors, IEC 60870-5-104 §5: start 0x68, length, four control octets.
 * I format §5.1 (N(S), N(R) shifted left one bit, little-endian), S format §5.2, U format §5.3.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeApdu, encodeApdu } from '../../src/drivers/iec104/codec/apci.ts';
import type { Apdu } from '../../src/drivers/iec104/codec/apci.ts';
import { hex, toHex } from './helpers.ts';

const GI = hex('64 01 06 00 01 00 00 00 00 14'); // C_IC_NA_1 act, CA 1, IOA 0, QOI 20

const GOOD: { name: string; bytes: string; apdu: Apdu }[] = [
  // U format §5.3: CF1 = function bit | 0b11, CF2..CF4 = 0
  { name: 'STARTDT act', bytes: '68 04 | 07 00 00 00', apdu: { format: 'U', fn: 'STARTDT_ACT' } },
  { name: 'STARTDT con', bytes: '68 04 | 0b 00 00 00', apdu: { format: 'U', fn: 'STARTDT_CON' } },
  { name: 'STOPDT act', bytes: '68 04 | 13 00 00 00', apdu: { format: 'U', fn: 'STOPDT_ACT' } },
  { name: 'STOPDT con', bytes: '68 04 | 23 00 00 00', apdu: { format: 'U', fn: 'STOPDT_CON' } },
  { name: 'TESTFR act', bytes: '68 04 | 43 00 00 00', apdu: { format: 'U', fn: 'TESTFR_ACT' } },
  { name: 'TESTFR con', bytes: '68 04 | 83 00 00 00', apdu: { format: 'U', fn: 'TESTFR_CON' } },
  // S format §5.2: CF1 = 01, CF2 = 00, CF3/CF4 = N(R) << 1
  { name: 'S N(R)=2', bytes: '68 04 | 01 00 | 04 00', apdu: { format: 'S', recvSeq: 2 } },
  { name: 'S N(R)=300 (0x258 across CF3/CF4)', bytes: '68 04 | 01 00 | 58 02', apdu: { format: 'S', recvSeq: 300 } },
  // I format §5.1: CF1/CF2 = N(S) << 1, CF3/CF4 = N(R) << 1
  { name: 'I N(S)=1 N(R)=2 carrying C_IC_NA_1', bytes: '68 0e | 02 00 | 04 00 | 64 01 06 00 01 00 00 00 00 14', apdu: { format: 'I', sendSeq: 1, recvSeq: 2, asdu: GI } },
  { name: 'I N(S)=32767 N(R)=16384 (15-bit maxima)', bytes: '68 0e | fe ff | 00 80 | 64 01 06 00 01 00 00 00 00 14', apdu: { format: 'I', sendSeq: 32767, recvSeq: 16384, asdu: GI } },
];

test('APCI vectors decode, encode and round-trip (IEC 60870-5-104 §5.1-5.3)', () => {
  for (const v of GOOD) {
    const bytes = hex(v.bytes);
    const r = decodeApdu(bytes);
    assert.equal(r.kind, 'ok', v.name);
    if (r.kind !== 'ok') continue;
    assert.equal(r.consumed, bytes.length, v.name);
    const got = r.value.format === 'I' ? { ...r.value, asdu: Uint8Array.from(r.value.asdu) } : r.value;
    assert.deepEqual(got, v.apdu, v.name);
    assert.equal(toHex(encodeApdu(v.apdu)), toHex(bytes), `${v.name}: encode`);
  }
});

test('APCI decode reports the first APDU of a longer buffer with its length', () => {
  const r = decodeApdu(hex('68 04 43 00 00 00 | 68 04 01 00 02 00'), 6);
  assert.deepEqual(r, { kind: 'ok', consumed: 6, value: { format: 'S', recvSeq: 1 } });
});

const BAD: { name: string; bytes: string; code: string }[] = [
  { name: 'wrong start octet', bytes: '69 04 07 00 00 00', code: 'BadStart' },
  { name: 'length 3 < 4', bytes: '68 03 07 00 00', code: 'BadLength' },
  { name: 'length 254 > 253', bytes: '68 fe', code: 'BadLength' },
  { name: 'S format with length 5', bytes: '68 05 01 00 00 00 00', code: 'BadLength' },
  { name: 'U format with length 5', bytes: '68 05 07 00 00 00 00', code: 'BadLength' },
  { name: 'I format without ASDU', bytes: '68 04 00 00 00 00', code: 'BadLength' },
  { name: 'I format with CF3 bit 0 set', bytes: '68 05 00 00 01 00 01', code: 'BadControl' },
  { name: 'U with two function bits (STARTDT act+con)', bytes: '68 04 0f 00 00 00', code: 'BadControl' },
  { name: 'U with CF4 not 0', bytes: '68 04 07 00 00 01', code: 'BadControl' },
  { name: 'S with CF2 not 0', bytes: '68 04 01 01 00 00', code: 'BadControl' },
  { name: 'S with CF3 bit 0 set', bytes: '68 04 01 00 01 00', code: 'BadControl' },
];

test('malformed APCI gives coded errors, never throws', () => {
  for (const v of BAD) {
    const r = decodeApdu(hex(v.bytes));
    assert.equal(r.kind, 'error', v.name);
    if (r.kind === 'error') assert.equal(r.error.code, v.code, v.name);
  }
});

test('APCI cut short is incomplete, not an error', () => {
  for (const b of ['', '68', '68 04', '68 04 07 00 00', '68 0e 02 00 04 00 64 01 06 00 01 00 00 00 00']) {
    assert.deepEqual(decodeApdu(hex(b)), { kind: 'incomplete' }, b);
  }
});

test('encodeI refuses an empty or oversized ASDU', () => {
  assert.throws(() => encodeApdu({ format: 'I', sendSeq: 0, recvSeq: 0, asdu: new Uint8Array(0) }), RangeError);
  assert.throws(() => encodeApdu({ format: 'I', sendSeq: 0, recvSeq: 0, asdu: new Uint8Array(250) }), RangeError);
  assert.equal(encodeApdu({ format: 'I', sendSeq: 0, recvSeq: 0, asdu: new Uint8Array(249) }).length, 255);
});
