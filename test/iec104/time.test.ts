/** CP56Time2a vectors (IEC 60870-5-101 §7.2.6.18, IEC 60870-5-4 §6.8). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cp56FromEpoch, cp56ToEpoch, decodeCp56, encodeCp56 } from '../../src/drivers/iec104/codec/time.ts';
import { hex, toHex } from './helpers.ts';

/** ms lo hi | IV RES1 minutes | SU RES2 hours | day-of-week<<5 | day | RES3 month | RES4 year */
const VECTORS: { name: string; bytes: string; epoch: number | undefined; iv?: boolean; su?: boolean; dow: number }[] = [
  { name: '2024-05-17 Fri 13:45:30.250', bytes: '2a 76 | 2d | 0d | b1 | 05 | 18', epoch: Date.UTC(2024, 4, 17, 13, 45, 30, 250), dow: 5 },
  { name: '2024-02-29 Thu 00:00:00.000 (leap day)', bytes: '00 00 | 00 | 00 | 9d | 02 | 18', epoch: Date.UTC(2024, 1, 29), dow: 4 },
  { name: '2099-12-31 Thu 23:59:59.999', bytes: '5f ea | 3b | 17 | 9f | 0c | 63', epoch: Date.UTC(2099, 11, 31, 23, 59, 59, 999), dow: 4 },
  { name: '2000-01-02 Sun (day of week 7)', bytes: '00 00 | 00 | 00 | e2 | 01 | 00', epoch: Date.UTC(2000, 0, 2), dow: 7 },
  { name: 'IV (minute octet bit 7) and SU (hour octet bit 7)', bytes: '2a 76 | ad | 8d | b1 | 05 | 18', epoch: Date.UTC(2024, 4, 17, 13, 45, 30, 250), iv: true, su: true, dow: 5 },
  { name: 'ms 60000 out of range', bytes: '60 ea | 00 | 00 | 01 | 01 | 18', epoch: undefined, dow: 0 },
  { name: 'February 30 does not exist', bytes: '00 00 | 00 | 00 | 1e | 02 | 18', epoch: undefined, dow: 0 },
  { name: 'month 0', bytes: '00 00 | 00 | 00 | 01 | 00 | 18', epoch: undefined, dow: 0 },
  { name: 'hour 24', bytes: '00 00 | 00 | 18 | 01 | 01 | 18', epoch: undefined, dow: 0 },
];

test('CP56Time2a vectors decode to fields and instants', () => {
  for (const v of VECTORS) {
    const r = decodeCp56(hex(v.bytes));
    assert.equal(r.kind, 'ok', v.name);
    if (r.kind !== 'ok') continue;
    assert.equal(r.consumed, 7);
    assert.equal(cp56ToEpoch(r.value), v.epoch, v.name);
    assert.equal(r.value.invalid, v.iv ?? false, v.name);
    assert.equal(r.value.summerTime, v.su ?? false, v.name);
    assert.equal(r.value.dayOfWeek, v.dow, v.name);
    assert.equal(toHex(encodeCp56(r.value)), toHex(hex(v.bytes)), `${v.name}: encode`);
    if (v.epoch !== undefined && !v.iv) assert.equal(toHex(encodeCp56(cp56FromEpoch(v.epoch))), toHex(hex(v.bytes)), `${v.name}: from epoch`);
  }
});

test('reserved bits are ignored on decode', () => {
  // RES1 is reported as `substituted`; RES2, RES3 and RES4 set everywhere change nothing else.
  const r = decodeCp56(hex('2a 76 | 6d | 6d | b1 | f5 | 98'));
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok') {
    assert.equal(cp56ToEpoch(r.value), Date.UTC(2024, 4, 17, 13, 45, 30, 250));
    assert.equal(r.value.substituted, true);
  }
});

test('a wall clock east of UTC shifts the instant', () => {
  const at = Date.UTC(2024, 4, 17, 5, 45, 30, 250);
  const t = cp56FromEpoch(at, 480); // UTC+8: 13:45 local
  assert.equal(t.hour, 13);
  assert.equal(cp56ToEpoch(t, 480), at);
  assert.equal(cp56ToEpoch(t, 0), at + 8 * 3_600_000);
});

test('CP56Time2a cut short is incomplete at the end, truncated otherwise', () => {
  assert.deepEqual(decodeCp56(new Uint8Array(0)), { kind: 'incomplete' });
  const r = decodeCp56(hex('2a 76 2d'));
  assert.equal(r.kind, 'error');
});

test('every millisecond of a sample of instants round-trips', () => {
  for (let i = 0; i < 2000; i++) {
    const at = Date.UTC(2000, 0, 1) + Math.floor(((i * 7919) % 2000) / 2000 * 3_155_760_000_000);
    assert.equal(cp56ToEpoch(cp56FromEpoch(at)), at);
  }
});
