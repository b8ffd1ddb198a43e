/**
 * Fuzzing the decoders for a bounded time: random bytes and mutations of valid frames must give
 * `ok`, `incomplete` or `error` (never a throw or a hang), and whatever decodes must re-encode to
 * something that decodes to the same value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeApdu } from '../../src/drivers/iec104/codec/apci.ts';
import { decodeAsdu, encodeAsdu } from '../../src/drivers/iec104/codec/asdu.ts';
import type { AsduParams } from '../../src/drivers/iec104/codec/asdu.ts';
import { FrameSplitter } from '../../src/drivers/iec104/codec/splitter.ts';
import { hex } from './helpers.ts';

/** mulberry32: a seeded generator so that a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '0d 01 03 00 01 00 01 40 00 00 00 ac 41 00',
  '01 83 14 00 01 00 0a 00 00 01 00 11',
  '24 01 03 00 01 00 07 00 00 00 00 c0 bf 00 2a 76 2d 0d b1 05 18',
  '2d 01 06 00 01 00 01 60 00 81',
  '6b 01 06 00 01 00 00 00 00 34 12 2a 76 2d 0d b1 05 18',
  '0f 02 25 00 01 00 01 64 00 39 30 00 00 23 02 64 00 01 00 00 00 00',
].map(hex);
const PARAMS: AsduParams[] = [
  { cotSize: 2, caSize: 2, ioaSize: 3 },
  { cotSize: 1, caSize: 1, ioaSize: 1 },
  { cotSize: 1, caSize: 2, ioaSize: 2 },
];

function mutate(r: () => number, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = Math.floor(r() * 4);
    const at = Math.floor(r() * (out.length + 1));
    if (op === 0 && out.length > 0) out[at % out.length] = Math.floor(r() * 256);
    else if (op === 1) out.splice(at, 0, Math.floor(r() * 256));
    else if (op === 2 && out.length > 0) out.splice(at % out.length, 1);
    else out.length = Math.min(out.length, at);
  }
  return Uint8Array.from(out);
}

test('random and mutated ASDUs never throw; decodable ones round-trip', () => {
  const seed = 0x104;
  const r = rng(seed);
  const end = Date.now() + 2000;
  let n = 0;
  let oks = 0;
  while (Date.now() < end && n < 200_000) {
    n++;
    const p = PARAMS[n % PARAMS.length]!;
    const input = r() < 0.3 ? Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256)) : mutate(r, SEEDS[n % SEEDS.length]!);
    let res;
    try {
      res = decodeAsdu(input, p);
    } catch (e) {
      assert.fail(`seed ${seed} iteration ${n}: decodeAsdu threw ${String(e)} on ${Buffer.from(input).toString('hex')}`);
    }
    assert.ok(res.kind === 'ok' || res.kind === 'error', 'a whole ASDU is never incomplete');
    if (res.kind === 'ok') {
      oks++;
      assert.equal(res.consumed, input.length);
      const again = decodeAsdu(encodeAsdu(res.value, p), p);
      assert.equal(again.kind, 'ok');
      if (again.kind === 'ok') assert.deepEqual(JSON.stringify(again.value), JSON.stringify(res.value), `iteration ${n}`);
    }
  }
  assert.ok(n > 1000, `ran ${n} iterations`);
  assert.ok(oks > 0, 'some mutations still decode');
});

test('random byte streams through the splitter never throw and never loop', () => {
  const seed = 0x68;
  const r = rng(seed);
  const end = Date.now() + 1500;
  let n = 0;
  while (Date.now() < end && n < 50_000) {
    n++;
    const s = new FrameSplitter();
    // Mostly well-formed starts with random lengths and bodies, cut at random points.
    const bytes = Uint8Array.from({ length: 1 + Math.floor(r() * 300) }, (_, i) => (i === 0 || r() < 0.05 ? 0x68 : Math.floor(r() * 256)));
    let pos = 0;
    for (let guard = 0; pos < bytes.length && guard < 400; guard++) {
      const cut = Math.min(bytes.length, pos + 1 + Math.floor(r() * 64));
      const res = s.push(bytes.subarray(pos, cut));
      for (const f of res.frames) assert.ok(f.format === 'I' || f.format === 'S' || f.format === 'U');
      pos = cut;
      if (res.error !== undefined) break;
    }
    assert.equal(pos <= bytes.length, true);
    const single = decodeApdu(bytes);
    assert.ok(['ok', 'incomplete', 'error'].includes(single.kind));
  }
  assert.ok(n > 100);
});
