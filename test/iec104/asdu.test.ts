/**
 * ASDU byte vectors (IEC 60870-5-101 §7.2 data unit identifier, §7.3 types; IEC 60870-5-104 §8
 * type selection with COT 2, CA 2, IOA 3 octets). Each row: annotated bytes, the decoded ASDU;
 * every row is decoded, encoded back and compared byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAsdu, encodeAsdu, maxObjects } from '../../src/drivers/iec104/codec/asdu.ts';
import type { Asdu, AsduParams, InfoObject } from '../../src/drivers/iec104/codec/asdu.ts';
import { GOOD } from '../../src/drivers/iec104/codec/elements.ts';
import type { QualityBits } from '../../src/drivers/iec104/codec/elements.ts';
import type { Cp56Time } from '../../src/drivers/iec104/codec/time.ts';
import { hex, toHex } from './helpers.ts';

/** 2024-05-17 (Friday) 13:45:30.250: ms 30250 = 0x762a, min 45, hour 13, day 17 | dow 5 << 5, month 5, year 24. */
const T = '2a 76 2d 0d b1 05 18';
const time: Cp56Time = { ms: 30250, minute: 45, hour: 13, day: 17, dayOfWeek: 5, month: 5, year: 24, invalid: false, summerTime: false, substituted: false };
const q = (bits: Partial<QualityBits> = {}): QualityBits => ({ ...GOOD, ...bits });
const asdu = (typeId: number, cause: number, objects: InfoObject[], more: Partial<Asdu> = {}): Asdu => ({ typeId, sequence: false, cause, negative: false, test: false, originator: 0, commonAddress: 1, objects, ...more });

/** Header: type | VSQ (SQ bit 7, count) | COT (bit 7 T, bit 6 P/N, cause) | originator | CA lo hi; objects: IOA lo mid hi | element [| CP56Time2a]. */
const VECTORS: { name: string; bytes: string; asdu: Asdu }[] = [
  // monitor direction, §7.3.1
  { name: 'M_SP_NA_1 (1) SQ=0 two objects; SIQ §7.2.6.1: SPI bit 0, IV bit 7', bytes: '01 02 03 00 01 00 | 01 00 00 | 01 | 02 00 00 | 80',
    asdu: asdu(1, 3, [{ ioa: 1, element: { kind: 'single', value: true, quality: q() } }, { ioa: 2, element: { kind: 'single', value: false, quality: q({ invalid: true }) } }]) },
  { name: 'M_SP_NA_1 (1) SQ=1 three objects from IOA 10, COT 20 inrogen; BL bit 4', bytes: '01 83 14 00 01 00 | 0a 00 00 | 01 | 00 | 11',
    asdu: asdu(1, 20, [{ ioa: 10, element: { kind: 'single', value: true, quality: q() } }, { ioa: 11, element: { kind: 'single', value: false, quality: q() } }, { ioa: 12, element: { kind: 'single', value: true, quality: q({ blocked: true }) } }], { sequence: true }) },
  { name: 'M_DP_NA_1 (3); DIQ §7.2.6.2: DPI 2 = on, NT bit 6', bytes: '03 01 03 00 01 00 | 05 00 00 | 42',
    asdu: asdu(3, 3, [{ ioa: 5, element: { kind: 'double', value: 2, quality: q({ notTopical: true }) } }]) },
  { name: 'M_ST_NA_1 (5); VTI §7.2.6.5 -3 (0x7d), QDS §7.2.6.3 OV bit 0', bytes: '05 01 03 00 01 00 | 06 00 00 | 7d | 01',
    asdu: asdu(5, 3, [{ ioa: 6, element: { kind: 'step', value: -3, transient: false, quality: q({ overflow: true }) } }]) },
  { name: 'M_ST_NA_1 (5); VTI transient bit 7, value 5', bytes: '05 01 03 00 01 00 | 06 00 00 | 85 | 00',
    asdu: asdu(5, 3, [{ ioa: 6, element: { kind: 'step', value: 5, transient: true, quality: q() } }]) },
  { name: 'M_BO_NA_1 (7); BSI §7.2.6.13 0x12345678 little-endian', bytes: '07 01 03 00 01 00 | 07 00 00 | 78 56 34 12 | 00',
    asdu: asdu(7, 3, [{ ioa: 7, element: { kind: 'bitstring', value: 0x12345678, quality: q() } }]) },
  { name: 'M_ME_NA_1 (9); NVA §7.2.6.6 0x4000 = 0.5', bytes: '09 01 03 00 01 00 | 08 00 00 | 00 40 | 00',
    asdu: asdu(9, 3, [{ ioa: 8, element: { kind: 'normalized', raw: 16384, quality: q() } }]) },
  { name: 'M_ME_NB_1 (11); SVA §7.2.6.7 -1000 = 0xfc18, SB bit 5', bytes: '0b 01 03 00 01 00 | 09 00 00 | 18 fc | 20',
    asdu: asdu(11, 3, [{ ioa: 9, element: { kind: 'scaled', value: -1000, quality: q({ substituted: true }) } }]) },
  { name: 'M_ME_NC_1 (13); IEEE 754 §7.2.6.8 21.5 = 0x41ac0000, IOA 0x4001', bytes: '0d 01 03 00 01 00 | 01 40 00 | 00 00 ac 41 | 00',
    asdu: asdu(13, 3, [{ ioa: 0x4001, element: { kind: 'float', value: 21.5, quality: q() } }]) },
  { name: 'M_IT_NA_1 (15), COT 37 reqcogen; BCR §7.2.6.9 12345, SQ 3, CY bit 5', bytes: '0f 01 25 00 01 00 | 01 64 00 | 39 30 00 00 | 23',
    asdu: asdu(15, 37, [{ ioa: 0x6401, element: { kind: 'counter', value: 12345, sequence: 3, carry: true, adjusted: false, invalid: false } }]) },
  { name: 'M_SP_TB_1 (30) + CP56Time2a §7.2.6.18', bytes: `1e 01 03 00 01 00 | 01 00 00 | 01 | ${T}`,
    asdu: asdu(30, 3, [{ ioa: 1, element: { kind: 'single', value: true, quality: q() }, time }]) },
  { name: 'M_DP_TB_1 (31) DPI 1 = off', bytes: `1f 01 03 00 01 00 | 02 00 00 | 01 | ${T}`,
    asdu: asdu(31, 3, [{ ioa: 2, element: { kind: 'double', value: 1, quality: q() }, time }]) },
  { name: 'M_ST_TB_1 (32) VTI 63', bytes: `20 01 03 00 01 00 | 03 00 00 | 3f 00 | ${T}`,
    asdu: asdu(32, 3, [{ ioa: 3, element: { kind: 'step', value: 63, transient: false, quality: q() }, time }]) },
  { name: 'M_BO_TB_1 (33) BSI all ones', bytes: `21 01 03 00 01 00 | 04 00 00 | ff ff ff ff 00 | ${T}`,
    asdu: asdu(33, 3, [{ ioa: 4, element: { kind: 'bitstring', value: 0xffffffff, quality: q() }, time }]) },
  { name: 'M_ME_TD_1 (34) NVA 0x8000 = -1', bytes: `22 01 03 00 01 00 | 05 00 00 | 00 80 00 | ${T}`,
    asdu: asdu(34, 3, [{ ioa: 5, element: { kind: 'normalized', raw: -32768, quality: q() }, time }]) },
  { name: 'M_ME_TE_1 (35) SVA 32767', bytes: `23 01 03 00 01 00 | 06 00 00 | ff 7f 00 | ${T}`,
    asdu: asdu(35, 3, [{ ioa: 6, element: { kind: 'scaled', value: 32767, quality: q() }, time }]) },
  { name: 'M_ME_TF_1 (36) -1.5 = 0xbfc00000', bytes: `24 01 03 00 01 00 | 07 00 00 | 00 00 c0 bf 00 | ${T}`,
    asdu: asdu(36, 3, [{ ioa: 7, element: { kind: 'float', value: -1.5, quality: q() }, time }]) },
  { name: 'M_IT_TB_1 (37) BCR -1, CA (adjusted) bit 6', bytes: `25 01 03 00 01 00 | 08 00 00 | ff ff ff ff 40 | ${T}`,
    asdu: asdu(37, 3, [{ ioa: 8, element: { kind: 'counter', value: -1, sequence: 0, carry: false, adjusted: true, invalid: false }, time }]) },
  { name: 'M_EI_NA_1 (70) COT 4 init, COI 0', bytes: '46 01 04 00 01 00 | 00 00 00 | 00',
    asdu: asdu(70, 4, [{ ioa: 0, element: { kind: 'endOfInit', coi: 0 } }]) },
  // control direction, §7.3.2; S/E bit 7 = select
  { name: 'C_SC_NA_1 (45) select on; SCO §7.2.6.15 S/E=1 SCS=1, IOA 0x6001', bytes: '2d 01 06 00 01 00 | 01 60 00 | 81',
    asdu: asdu(45, 6, [{ ioa: 0x6001, element: { kind: 'singleCommand', value: true, qualifier: 0, select: true } }]) },
  { name: 'C_SC_NA_1 (45) execute off, QU 1 (short pulse) bits 2-6', bytes: '2d 01 06 00 01 00 | 01 60 00 | 04',
    asdu: asdu(45, 6, [{ ioa: 0x6001, element: { kind: 'singleCommand', value: false, qualifier: 1, select: false } }]) },
  { name: 'C_DC_NA_1 (46) ACTCON negative: COT 0x47 = P/N | 7; DCO §7.2.6.16 DCS 2 on', bytes: '2e 01 47 00 01 00 | 02 60 00 | 02',
    asdu: asdu(46, 7, [{ ioa: 0x6002, element: { kind: 'doubleCommand', value: 2, qualifier: 0, select: false } }], { negative: true }) },
  { name: 'C_RC_NA_1 (47) select higher; RCO §7.2.6.17 RCS 2', bytes: '2f 01 06 00 01 00 | 03 60 00 | 82',
    asdu: asdu(47, 6, [{ ioa: 0x6003, element: { kind: 'regulatingCommand', value: 2, qualifier: 0, select: true } }]) },
  { name: 'C_SE_NA_1 (48) NVA 0xc000 = -0.5, QOS §7.2.6.39 S/E=1', bytes: '30 01 06 00 01 00 | 01 62 00 | 00 c0 | 80',
    asdu: asdu(48, 6, [{ ioa: 0x6201, element: { kind: 'setpointNormalized', raw: -16384, qualifier: 0, select: true } }]) },
  { name: 'C_SE_NB_1 (49) SVA 1000 execute', bytes: '31 01 06 00 01 00 | 02 62 00 | e8 03 | 00',
    asdu: asdu(49, 6, [{ ioa: 0x6202, element: { kind: 'setpointScaled', value: 1000, qualifier: 0, select: false } }]) },
  { name: 'C_SE_NC_1 (50) 50.0 = 0x42480000 select, IOA 0x6201', bytes: '32 01 06 00 01 00 | 01 62 00 | 00 00 48 42 | 80',
    asdu: asdu(50, 6, [{ ioa: 0x6201, element: { kind: 'setpointFloat', value: 50, qualifier: 0, select: true } }]) },
  { name: 'C_BO_NA_1 (51) BSI 0x80000001 (no qualifier)', bytes: '33 01 06 00 01 00 | 04 60 00 | 01 00 00 80',
    asdu: asdu(51, 6, [{ ioa: 0x6004, element: { kind: 'bitstringCommand', value: 0x80000001 } }]) },
  { name: 'C_SC_TA_1 (58) execute on + CP56Time2a (104 §8)', bytes: `3a 01 06 00 01 00 | 01 60 00 | 01 | ${T}`,
    asdu: asdu(58, 6, [{ ioa: 0x6001, element: { kind: 'singleCommand', value: true, qualifier: 0, select: false }, time }]) },
  { name: 'C_DC_TA_1 (59) select off', bytes: `3b 01 06 00 01 00 | 02 60 00 | 81 | ${T}`,
    asdu: asdu(59, 6, [{ ioa: 0x6002, element: { kind: 'doubleCommand', value: 1, qualifier: 0, select: true }, time }]) },
  { name: 'C_RC_TA_1 (60) execute lower', bytes: `3c 01 06 00 01 00 | 03 60 00 | 01 | ${T}`,
    asdu: asdu(60, 6, [{ ioa: 0x6003, element: { kind: 'regulatingCommand', value: 1, qualifier: 0, select: false }, time }]) },
  { name: 'C_SE_TA_1 (61) NVA 0x2000 = 0.25', bytes: `3d 01 06 00 01 00 | 01 62 00 | 00 20 00 | ${T}`,
    asdu: asdu(61, 6, [{ ioa: 0x6201, element: { kind: 'setpointNormalized', raw: 8192, qualifier: 0, select: false }, time }]) },
  { name: 'C_SE_TB_1 (62) SVA -2', bytes: `3e 01 06 00 01 00 | 02 62 00 | fe ff 80 | ${T}`,
    asdu: asdu(62, 6, [{ ioa: 0x6202, element: { kind: 'setpointScaled', value: -2, qualifier: 0, select: true }, time }]) },
  { name: 'C_SE_TC_1 (63) 0.5 = 0x3f000000', bytes: `3f 01 06 00 01 00 | 03 62 00 | 00 00 00 3f 00 | ${T}`,
    asdu: asdu(63, 6, [{ ioa: 0x6203, element: { kind: 'setpointFloat', value: 0.5, qualifier: 0, select: false }, time }]) },
  { name: 'C_BO_TA_1 (64) BSI 1', bytes: `40 01 06 00 01 00 | 04 60 00 | 01 00 00 00 | ${T}`,
    asdu: asdu(64, 6, [{ ioa: 0x6004, element: { kind: 'bitstringCommand', value: 1 }, time }]) },
  // system information in control direction, §7.3.4
  { name: 'C_IC_NA_1 (100) act; QOI §7.2.6.22 20 = station', bytes: '64 01 06 00 01 00 | 00 00 00 | 14',
    asdu: asdu(100, 6, [{ ioa: 0, element: { kind: 'interrogation', qoi: 20 } }]) },
  { name: 'C_IC_NA_1 (100) ACTTERM (COT 10) from originator 5, CA 0x0102', bytes: '64 01 0a 05 02 01 | 00 00 00 | 14',
    asdu: asdu(100, 10, [{ ioa: 0, element: { kind: 'interrogation', qoi: 20 } }], { originator: 5, commonAddress: 0x0102 }) },
  { name: 'C_IC_NA_1 (100) with T (test) bit 7 of the COT', bytes: '64 01 86 00 01 00 | 00 00 00 | 14',
    asdu: asdu(100, 6, [{ ioa: 0, element: { kind: 'interrogation', qoi: 20 } }], { test: true }) },
  { name: 'C_CI_NA_1 (101); QCC §7.2.6.23 RQT 5 general, FRZ 0 read', bytes: '65 01 06 00 01 00 | 00 00 00 | 05',
    asdu: asdu(101, 6, [{ ioa: 0, element: { kind: 'counterInterrogation', rqt: 5, frz: 0 } }]) },
  { name: 'C_CI_NA_1 (101) RQT 5, FRZ 2 freeze with reset (bits 6-7)', bytes: '65 01 06 00 01 00 | 00 00 00 | 85',
    asdu: asdu(101, 6, [{ ioa: 0, element: { kind: 'counterInterrogation', rqt: 5, frz: 2 } }]) },
  { name: 'C_CS_NA_1 (103) clock sync: the element is CP56Time2a (§7.3.4.4)', bytes: `67 01 06 00 01 00 | 00 00 00 | ${T}`,
    asdu: asdu(103, 6, [{ ioa: 0, element: { kind: 'clockSync' }, time }]) },
  { name: 'C_TS_TA_1 (107) TSC 0x1234 + CP56Time2a (104 §8)', bytes: `6b 01 06 00 01 00 | 00 00 00 | 34 12 | ${T}`,
    asdu: asdu(107, 6, [{ ioa: 0, element: { kind: 'test', counter: 0x1234 }, time }]) },
];

test('every supported type decodes to its ASDU and encodes back to the same bytes', () => {
  const seen = new Set<number>();
  for (const v of VECTORS) {
    const bytes = hex(v.bytes);
    const r = decodeAsdu(bytes);
    assert.equal(r.kind, 'ok', `${v.name}: ${r.kind === 'error' ? r.error.message : ''}`);
    if (r.kind !== 'ok') continue;
    assert.equal(r.consumed, bytes.length, v.name);
    assert.deepEqual(r.value, v.asdu, v.name);
    assert.equal(toHex(encodeAsdu(v.asdu)), toHex(bytes), `${v.name}: encode`);
    seen.add(v.asdu.typeId);
  }
  // The list: 1 3 5 7 9 11 13 15, 30..37, 45..51, 58..64, 100 101 103 107 (and 70).
  const required = [1, 3, 5, 7, 9, 11, 13, 15, 30, 31, 32, 33, 34, 35, 36, 37, 45, 46, 47, 48, 49, 50, 51, 58, 59, 60, 61, 62, 63, 64, 100, 101, 103, 107];
  assert.deepEqual(required.filter((t) => !seen.has(t)), []);
});

const SMALL: { name: string; params: AsduParams; bytes: string; asdu: Asdu }[] = [
  { name: 'IEC 101 sizes COT 1, CA 1, IOA 2: M_ME_NB_1, CA 7, IOA 0x1234', params: { cotSize: 1, caSize: 1, ioaSize: 2 }, bytes: '0b 01 03 | 07 | 34 12 | e8 03 00',
    asdu: asdu(11, 3, [{ ioa: 0x1234, element: { kind: 'scaled', value: 1000, quality: q() } }], { commonAddress: 7 }) },
  { name: 'COT 1, CA 1, IOA 1: M_SP_NA_1 SQ=1 from IOA 5', params: { cotSize: 1, caSize: 1, ioaSize: 1 }, bytes: '01 82 14 | 07 | 05 | 01 | 00',
    asdu: asdu(1, 20, [{ ioa: 5, element: { kind: 'single', value: true, quality: q() } }, { ioa: 6, element: { kind: 'single', value: false, quality: q() } }], { commonAddress: 7, sequence: true }) },
  { name: 'COT 2, CA 1, IOA 3', params: { cotSize: 2, caSize: 1, ioaSize: 3 }, bytes: '64 01 06 00 | 03 | 00 00 00 | 14',
    asdu: asdu(100, 6, [{ ioa: 0, element: { kind: 'interrogation', qoi: 20 } }], { commonAddress: 3 }) },
];

test('field sizes other than IEC 104 (COT 1/2, CA 1/2, IOA 1/2/3) decode and encode', () => {
  for (const v of SMALL) {
    const bytes = hex(v.bytes);
    const r = decodeAsdu(bytes, v.params);
    assert.equal(r.kind, 'ok', v.name);
    if (r.kind === 'ok') assert.deepEqual(r.value, v.asdu, v.name);
    assert.equal(toHex(encodeAsdu(v.asdu, v.params)), toHex(bytes), v.name);
  }
});

const MALFORMED: { name: string; bytes: string; code: string; params?: AsduParams }[] = [
  { name: 'header cut short', bytes: '0d 01 03', code: 'Truncated' },
  { name: 'M_ME_NC_1 missing float and QDS', bytes: '0d 01 03 00 01 00 | 01 40 00 | 00 00', code: 'Truncated' },
  { name: 'M_SP_NA_1 with a trailing octet', bytes: '01 01 03 00 01 00 | 01 00 00 | 01 | ff', code: 'TrailingBytes' },
  { name: 'SQ=1 says 3 objects, carries 2', bytes: '01 83 14 00 01 00 | 0a 00 00 | 01 | 00', code: 'Truncated' },
  { name: 'time tag cut short', bytes: '1e 01 03 00 01 00 | 01 00 00 | 01 | 2a 76 2d', code: 'Truncated' },
  { name: 'type 2 (M_SP_TA_1, not allowed in 104)', bytes: '02 01 03 00 01 00 | 01 00 00 | 01 | 00 00 00', code: 'UnknownType' },
  { name: 'type 255', bytes: 'ff 01 03 00 01 00 | 01 00 00 | 01', code: 'UnknownType' },
  { name: 'zero objects', bytes: '01 00 03 00 01 00', code: 'BadLength' },
  { name: 'SQ=1 run past IOA 0xff (IOA 1 octet)', bytes: '01 82 14 | 07 | ff | 01 | 00', code: 'BadValue', params: { cotSize: 1, caSize: 1, ioaSize: 1 } },
];

test('malformed ASDUs give coded errors, never throw', () => {
  for (const v of MALFORMED) {
    const r = decodeAsdu(hex(v.bytes), v.params);
    assert.equal(r.kind, 'error', v.name);
    if (r.kind === 'error') assert.equal(r.error.code, v.code, `${v.name}: ${r.error.message}`);
  }
});

test('encodeAsdu refuses what cannot be sent', () => {
  const el = { kind: 'single', value: true, quality: q() } as const;
  assert.throws(() => encodeAsdu(asdu(1, 3, [])), /1\.\.127/);
  assert.throws(() => encodeAsdu(asdu(13, 3, [{ ioa: 1, element: el }])), /float elements/);
  assert.throws(() => encodeAsdu(asdu(30, 3, [{ ioa: 1, element: el }])), /time tag/);
  assert.throws(() => encodeAsdu(asdu(1, 3, [{ ioa: 1, element: el }, { ioa: 3, element: el }], { sequence: true })), /consecutive/);
  assert.throws(() => encodeAsdu(asdu(1, 3, [{ ioa: 0x1000000, element: el }])), /IOA/);
  assert.throws(() => encodeAsdu(asdu(2, 3, [{ ioa: 1, element: el }])), /cannot encode/);
  const many = Array.from({ length: 61 }, (_, i) => ({ ioa: i, element: { kind: 'float', value: 1, quality: q() } as const }));
  assert.throws(() => encodeAsdu(asdu(13, 3, many)), /exceeds 249/);
});

test('maxObjects fills an ASDU to at most 249 octets and 127 objects', () => {
  const p = { cotSize: 2, caSize: 2, ioaSize: 3 } as const;
  // M_ME_NC_1 SQ=0: (249 - 6) / (3 + 5) = 30; SQ=1: (249 - 6 - 3) / 5 = 48; M_SP_NA_1 SQ=1: 127 (7-bit count)
  assert.equal(maxObjects(13, p), 30);
  assert.equal(maxObjects(13, p, true), 48);
  assert.equal(maxObjects(1, p, true), 127);
  const objs = Array.from({ length: 30 }, (_, i) => ({ ioa: i, element: { kind: 'float', value: i, quality: q() } as const }));
  assert.equal(encodeAsdu(asdu(13, 3, objs)).length, 6 + 30 * 8);
});
