import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSimpleAck, peekCovFrame } from '../../src/drivers/bacnet/codec/cov-frame.ts';
import { covNotifyDecoder } from '../../src/drivers/bacnet/client.ts';
import { CovIntake } from '../../src/drivers/bacnet/cov-intake.ts';
import type { CovTarget } from '../../src/drivers/bacnet/cov-intake.ts';
import type { CovPayload } from '../../src/drivers/bacnet/cov.ts';
import type { Clock } from '../../src/drivers/sdk/index.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * The service parameters of a COVNotification (§13.1.2, §21): [0] process id 1, [1] device 5,
 * [2] analog-input 1, [3] time remaining 60, [4] { present-value REAL 20.0, status-flags 0000 }.
 */
const COV_PARAMS =
  '09 01' + // [0] subscriberProcessIdentifier = 1 (context tag 0, length 1)
  ' 1c 02000005' + // [1] initiatingDeviceIdentifier = device (8), 5
  ' 2c 00000001' + // [2] monitoredObjectIdentifier = analog-input (0), 1
  ' 39 3c' + // [3] timeRemaining = 60 s
  ' 4e' + // [4] listOfValues opening tag
  ' 09 55 2e 44 41a00000 2f' + // present-value (85): REAL 20.0
  ' 09 6f 2e 82 04 00 2f' + // status-flags (111): BIT STRING, 4 unused bits, 0000
  ' 4f'; // [4] closing tag

/** BVLC Original-Unicast-NPDU (Annex J.2.11) with the length filled in; NPDU version 1. */
function bip(npduControl: string, apdu: string): Buffer {
  const body = hex(`01 ${npduControl} ${apdu}`);
  const b = Buffer.concat([hex('81 0a 00 00'), body]);
  b.writeUInt16BE(b.length, 2);
  return b;
}

test('bacnet cov frame: headers of COV notifications and of everything else (Annex J.2, §6.2, §20.1)', () => {
  const rows: { name: string; bytes: Buffer; want: unknown }[] = [
    // §20.1.3 Unconfirmed-Request: PDU type 1, service choice 2 = unconfirmedCOVNotification.
    { name: 'unconfirmed, 1-octet process id', bytes: bip('00', `10 02 ${COV_PARAMS}`), want: { confirmed: false, invokeId: 0, subscriberProcessId: 1, serviceOffset: 8, serviceLength: 32 } },
    // §20.1.2 Confirmed-Request: type 0, max-segs/max-resp 0x05, invoke id 7, service 1 = confirmedCOVNotification.
    { name: 'confirmed, expecting reply', bytes: bip('04', '00 05 07 01 0a 0100 1c 02000005'), want: { confirmed: true, invokeId: 7, subscriberProcessId: 256, serviceOffset: 10, serviceLength: 8 } },
    { name: '4-octet process id', bytes: bip('00', '10 02 0c deadbeef'), want: { confirmed: false, invokeId: 0, subscriberProcessId: 0xdeadbeef, serviceOffset: 8, serviceLength: 5 } },
    { name: 'I-Am (service 0)', bytes: bip('00', '10 00 c4 02000005'), want: 'other-service' },
    { name: 'ComplexACK (type 3)', bytes: bip('00', '30 07 0c 0c 00000001'), want: 'not-request' },
    { name: 'SNET present: routed (§6.2.2)', bytes: bip('08', '0001 01 05 10 02 09 01'), want: 'routed' },
    { name: 'network layer message', bytes: bip('80', '00'), want: 'not-request' },
    { name: 'segmented confirmed request', bytes: bip('04', '08 05 07 00 10 01 09 01'), want: 'segmented' },
    { name: 'Forwarded-NPDU (J.2.9) is left to the library', bytes: hex('81 04 00 10 7f000001 bac0 01 00 10 02 09 01'), want: 'not-bacnet-ip' },
    { name: 'not BACnet/IP', bytes: hex('82 0a 00 04'), want: 'not-bacnet-ip' },
    { name: 'BVLC length disagrees', bytes: hex('81 0a 00 20 01 00 10 02 09 01'), want: 'bvlc-length' },
  ];
  for (const r of rows) {
    const got = peekCovFrame(r.bytes);
    assert.equal(got.kind, 'ok', r.name);
    if (got.kind !== 'ok') continue;
    if (typeof r.want === 'string') assert.deepEqual([got.value, 'reason' in got ? got.reason : undefined], [undefined, r.want], r.name);
    else assert.deepEqual(got.value, r.want, r.name);
    assert.equal(got.consumed, r.bytes.length, r.name);
  }
  assert.deepEqual(peekCovFrame(hex('81 0a')), { kind: 'incomplete' });
  assert.deepEqual(peekCovFrame(bip('00', '10 02')), { kind: 'incomplete' }, 'ends before the process id');
  assert.deepEqual(peekCovFrame(bip('00', '10 02 0b 0102')), { kind: 'incomplete' }, 'process id of 3 octets, 2 present');
  const bad = peekCovFrame(bip('00', '10 02 19 01'));
  assert.equal(bad.kind, 'error', 'context tag 1 where the process id (tag 0) must be');
});

test('bacnet cov frame: SimpleACK bytes (§20.1.4) and the library decodes the parameters where the peek says', () => {
  assert.equal(encodeSimpleAck(7, 1).toString('hex'), '810a000901002007' + '01');
  const d = bip('00', `10 02 ${COV_PARAMS}`);
  const f = peekCovFrame(d);
  assert.ok(f.kind === 'ok' && f.value !== undefined);
  const p = covNotifyDecoder()(d, f.value.serviceOffset, f.value.serviceLength);
  assert.ok(p !== undefined);
  assert.deepEqual([p.subscriberProcessId, p.monitoredObjectId, p.timeRemaining], [1, { type: 0, instance: 1 }, 60]);
  assert.deepEqual(p.values.map((v) => [v.property.id, v.value[0]?.type, v.value[0]?.value]), [
    [85, 4, 20],
    [111, 8, { bitsUsed: 4, value: [0] }],
  ]);
});

/** A clock whose timers are run by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout: (fn, ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

test('bacnet cov intake: one waiting notification per subscription (the latest), drops counted, one batch end per target', async () => {
  const payload = (b: Buffer): CovPayload => ({ subscriberProcessId: b[0]!, initiatingDeviceId: 1, monitoredObjectId: { type: 0, instance: b[0]! }, timeRemaining: 0, values: [{ property: { id: 85 }, value: [{ type: 4, value: b[1]! }] }] });
  const decoded: number[] = [];
  const decode = (b: Buffer) => {
    decoded.push(b[1]!);
    return b[1] === 0xff ? undefined : payload(b);
  };
  const clock = manualClock();
  const counted: [string, number][] = [];
  const intake = new CovIntake(decode, clock, { count: (_n, labels, by) => void counted.push([labels?.outcome ?? '', by ?? 1]) }, (e) => assert.fail(String(e)));
  const got: [number, unknown][] = [];
  let ends = 0;
  const target: CovTarget = { covNotified: (pid, p) => void got.push([pid, p.values[0]?.value[0]?.value]), covBatchEnd: () => void ends++ };
  intake.register(1, target);
  const off2 = intake.register(2, target);
  for (const v of [10, 11, 12]) intake.offerRaw(1, Buffer.from([1, v]), 0, 2);
  intake.offerRaw(2, Buffer.from([2, 20]), 0, 2);
  intake.offerRaw(9, Buffer.from([9, 90]), 0, 2);
  assert.deepEqual({ ...intake.stats, maxPending: undefined }, { received: 5, delivered: 0, coalesced: 2, unknown: 1, malformed: 0, acked: 0, batches: 0, pending: 2, maxPending: undefined, subscriptions: 2, socketDrops: undefined, gapMs: 10 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [
    [1, 12],
    [2, 20],
  ]);
  assert.deepEqual(decoded, [12, 20], 'only the latest of each subscription is decoded');
  assert.equal(ends, 1);
  // Within MIN_DELIVERY_GAP_MS of the last delivery the next one waits for the clock.
  intake.offerRaw(1, Buffer.from([1, 13]), 0, 2);
  intake.offerRaw(1, Buffer.from([1, 14]), 0, 2);
  intake.offerRaw(2, Buffer.from([2, 0xff]), 0, 2);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 2, 'not yet');
  clock.advance(10);
  assert.deepEqual(got.slice(2), [[1, 14]]);
  assert.equal(ends, 2);
  off2();
  intake.offerRaw(2, Buffer.from([2, 21]), 0, 2);
  const s = intake.stats;
  assert.deepEqual([s.received, s.delivered, s.coalesced, s.unknown, s.malformed, s.pending, s.maxPending, s.subscriptions], [9, 3, 3, 2, 1, 0, 2, 1]);
  const sum = (k: string) => counted.filter(([o]) => o === k).reduce((n, [, by]) => n + by, 0);
  assert.deepEqual([sum('delivered'), sum('coalesced'), sum('malformed')], [3, 3, 1], 'metrics follow the counters');
  intake.close();
});

test('bacnet cov intake: the gap between deliveries widens when they run late (overload) and narrows when on time', async () => {
  const clock = manualClock();
  const intake = new CovIntake((b) => ({ subscriberProcessId: 1, initiatingDeviceId: 1, monitoredObjectId: { type: 0, instance: 1 }, timeRemaining: 0, values: [{ property: { id: 85 }, value: [{ type: 4, value: b[0]! }] }] }), clock, { count: () => undefined }, (e) => assert.fail(String(e)));
  const got: unknown[] = [];
  intake.register(1, { covNotified: (_pid, p) => void got.push(p.values[0]?.value[0]?.value), covBatchEnd: () => undefined });
  intake.offerRaw(1, Buffer.from([1]), 0, 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([got, intake.stats.gapMs], [[1], 10]);
  // Due 10 ms after the last delivery, run 40 ms after it: late by more than a gap.
  intake.offerRaw(1, Buffer.from([2]), 0, 1);
  clock.advance(40);
  assert.deepEqual([got, intake.stats.gapMs], [[1, 2], 20]);
  intake.offerRaw(1, Buffer.from([3]), 0, 1);
  intake.offerRaw(1, Buffer.from([4]), 0, 1);
  clock.advance(19);
  assert.deepEqual(got, [1, 2], 'the wider gap holds');
  clock.advance(1);
  assert.deepEqual([got, intake.stats.gapMs], [[1, 2, 4], 10], 'on time: narrower again; the latest value only');
  intake.close();
});
