/** SDK codec helpers: DecodeResult constructors and FrameSplitter over split and coalesced chunks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameSplitter, fail, incomplete, ok } from '../../src/drivers/sdk/index.ts';
import type { DecodeResult } from '../../src/drivers/sdk/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * A toy length-prefixed frame for the tests: [len][payload × len], len ≤ 8; a len above 8 is
 * malformed and resynchronises one byte on; a len of 0xff cannot be resynchronised.
 */
function decodeLp(buf: Uint8Array): DecodeResult<string> {
  const len = buf[0];
  if (len === undefined) return incomplete();
  if (len === 0xff) return fail('0xff: stream broken');
  if (len > 8) return fail(`length ${len} > 8`, 1);
  if (buf.length < 1 + len) return incomplete();
  return ok(Buffer.from(buf.subarray(1, 1 + len)).toString('hex'), 1 + len);
}

test('ok / incomplete / fail build the three kinds', () => {
  assert.deepEqual(ok('x', 3), { kind: 'ok', value: 'x', consumed: 3 });
  assert.deepEqual(incomplete(), { kind: 'incomplete' });
  assert.deepEqual(fail('bad'), { kind: 'error', error: 'bad' });
  assert.deepEqual(fail('bad', 2), { kind: 'error', error: 'bad', consumed: 2 });
});

test('frames coalesced in one chunk all come out, in order', () => {
  const s = new FrameSplitter(decodeLp);
  // 02 aabb | 01 cc | 00 (empty frame) | 03 ddee.. (incomplete)
  const out = s.push(hex('02aabb 01cc 00 03ddee'));
  assert.deepEqual(out, [
    { kind: 'ok', value: 'aabb' },
    { kind: 'ok', value: 'cc' },
    { kind: 'ok', value: '' },
  ]);
  assert.equal(s.buffered, 3);
  assert.deepEqual(s.push(hex('ff')), [{ kind: 'ok', value: 'ddeeff' }]);
  assert.equal(s.buffered, 0);
});

test('a frame split over many chunks (one byte each) comes out once, whole', () => {
  const s = new FrameSplitter(decodeLp);
  const bytes = hex('04 01020304 02 0506');
  const out = [...bytes].flatMap((b) => s.push(Uint8Array.of(b)));
  assert.deepEqual(out, [
    { kind: 'ok', value: '01020304' },
    { kind: 'ok', value: '0506' },
  ]);
});

test('the splitter does not keep the caller\'s chunk (it may be a reused buffer)', () => {
  const s = new FrameSplitter(decodeLp);
  const chunk = hex('03 0102');
  assert.deepEqual(s.push(chunk), []);
  chunk.fill(0x99); // the caller reuses its buffer
  assert.deepEqual(s.push(hex('03')), [{ kind: 'ok', value: '010203' }]);
});

test('a resynchronisable error is reported and the stream goes on', () => {
  const s = new FrameSplitter(decodeLp);
  // 09 (bad length, skip 1 byte) then 01 aa
  assert.deepEqual(s.push(hex('09 01aa')), [
    { kind: 'error', error: 'length 9 > 8', fatal: false },
    { kind: 'ok', value: 'aa' },
  ]);
});

test('an error without consumed is fatal and drops the buffer', () => {
  const s = new FrameSplitter(decodeLp);
  assert.deepEqual(s.push(hex('01aa ff 01bb 02')), [
    { kind: 'ok', value: 'aa' },
    { kind: 'error', error: '0xff: stream broken', fatal: true },
  ]);
  assert.equal(s.buffered, 0);
});

test('past maxBuffer without a frame: a fatal error, the buffer is dropped', () => {
  // A "line" decoder: frames end with \n.
  const line = (b: Uint8Array): DecodeResult<string> => {
    const nl = b.indexOf(0x0a);
    return nl < 0 ? incomplete() : ok(Buffer.from(b.subarray(0, nl)).toString(), nl + 1);
  };
  const s = new FrameSplitter(line, { maxBuffer: 16 });
  assert.deepEqual(s.push(Buffer.from('0123456789')), []);
  const out = s.push(Buffer.from('0123456789'));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.kind, 'error');
  assert.equal(out[0]!.kind === 'error' && out[0]!.fatal, true);
  assert.match(out[0]!.kind === 'error' ? out[0]!.error : '', /20 bytes buffered .*limit 16/);
  assert.equal(s.buffered, 0);
  // The stream starts afresh after the drop.
  assert.deepEqual(s.push(Buffer.from('ok\n')), [{ kind: 'ok', value: 'ok' }]);
});

test('a decoder that breaks its contract (consumed 0) cannot loop forever', () => {
  const s = new FrameSplitter((): DecodeResult<number> => ok(1, 0));
  const out = s.push(hex('0102'));
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], { kind: 'error', error: 'decoder reported consumed=0 of 2 bytes', fatal: true });
  s.reset();
  assert.equal(s.buffered, 0);
});
