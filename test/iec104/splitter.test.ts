/**
 * The stream splitter against TCP segmentation (IEC 60870-5-104 §5: APDUs delimited only by the
 * start octet and the length): every split position, byte-by-byte delivery, coalesced frames.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Apdu } from '../../src/drivers/iec104/codec/apci.ts';
import { FrameSplitter } from '../../src/drivers/iec104/codec/splitter.ts';
import { hex } from './helpers.ts';

const STREAM = hex(
  [
    '68 04 07 00 00 00', // STARTDT act
    '68 0e 02 00 04 00 64 01 06 00 01 00 00 00 00 14', // I(1,2) C_IC_NA_1
    '68 04 01 00 04 00', // S(2)
    '68 12 04 00 06 00 0d 01 03 00 01 00 01 40 00 00 00 ac 41 00', // I(2,3) M_ME_NC_1 21.5
    '68 04 83 00 00 00', // TESTFR con
  ].join(' '),
);
const plain = (frames: Apdu[]) => frames.map((f) => (f.format === 'I' ? { ...f, asdu: [...f.asdu] } : f));

function splitAll(parts: Uint8Array[]): Apdu[] {
  const s = new FrameSplitter();
  const out: Apdu[] = [];
  for (const p of parts) {
    const r = s.push(p);
    assert.equal(r.error, undefined);
    out.push(...r.frames);
  }
  assert.equal(s.buffered, 0);
  return out;
}

const whole = plain(splitAll([STREAM]));

test('coalesced: five APDUs in one segment come out as five frames', () => {
  assert.deepEqual(whole.map((f) => f.format), ['U', 'I', 'S', 'I', 'U']);
  assert.deepEqual(whole[3], { format: 'I', sendSeq: 2, recvSeq: 3, asdu: [...hex('0d 01 03 00 01 00 01 40 00 00 00 ac 41 00')] });
});

test('split at every byte position gives the same frames', () => {
  for (let p = 1; p < STREAM.length; p++) {
    assert.deepEqual(plain(splitAll([STREAM.slice(0, p), STREAM.slice(p)])), whole, `split at ${p}`);
  }
});

test('split at every pair of positions gives the same frames', () => {
  for (let a = 1; a < STREAM.length - 1; a += 1) {
    for (let b = a + 1; b < STREAM.length; b += 3) {
      assert.deepEqual(plain(splitAll([STREAM.slice(0, a), STREAM.slice(a, b), STREAM.slice(b)])), whole, `split at ${a},${b}`);
    }
  }
});

test('byte-by-byte delivery gives the same frames', () => {
  assert.deepEqual(plain(splitAll([...STREAM].map((b) => Uint8Array.of(b)))), whole);
});

test('frames stay intact after the chunks they came from are reused', () => {
  const s = new FrameSplitter();
  const buf = Uint8Array.from(STREAM.slice(0, 10)); // STARTDT act + 4 bytes of the I-frame
  const first = s.push(buf);
  buf.fill(0xee); // caller reuses its buffer
  const second = s.push(STREAM.slice(10));
  const all = plain([...first.frames, ...second.frames]);
  assert.deepEqual(all, whole);
});

test('garbage after good frames: the good frames, then an error that sticks', () => {
  const s = new FrameSplitter();
  const r = s.push(hex('68 04 07 00 00 00 | 68 04 01 00 04 00 | 55 55'));
  assert.equal(r.frames.length, 2);
  assert.equal(r.error?.code, 'BadStart');
  const again = s.push(hex('68 04 07 00 00 00'));
  assert.deepEqual(again.frames, []);
  assert.equal(again.error?.code, 'BadStart');
});

test('a bad length octet split from its start octet is still found', () => {
  const s = new FrameSplitter();
  assert.deepEqual(s.push(hex('68')), { frames: [] });
  assert.equal(s.push(hex('02 00 00')).error?.code, 'BadLength');
});
