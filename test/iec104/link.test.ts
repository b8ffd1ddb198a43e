/**
 * The APCI link procedure with fake time (IEC 60870-5-104 §5.1-5.3 and the k, w, t1, t2, t3
 * parameters): acknowledgement after w I-frames or t2, the k window, t1 expiry, t3 test frames,
 * sequence errors, STARTDT/TESTFR answers of the controlled station.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeApdu, encodeI, encodeS, encodeU } from '../../src/drivers/iec104/codec/apci.ts';
import type { Apdu } from '../../src/drivers/iec104/codec/apci.ts';
import { ApciLink } from '../../src/drivers/iec104/link.ts';
import type { LinkCloseReason, LinkParams } from '../../src/drivers/iec104/link.ts';
import { FakeClock, hex } from './helpers.ts';

const PARAMS: LinkParams = { k: 3, w: 2, t1: 15_000, t2: 10_000, t3: 20_000 };
const ASDU = hex('64 01 06 00 01 00 00 00 00 14');

function setup(role: 'controlling' | 'controlled' = 'controlling', params: LinkParams = PARAMS) {
  const clock = new FakeClock();
  const out: Apdu[] = [];
  const asdus: Uint8Array[] = [];
  const closed: LinkCloseReason[] = [];
  let started = 0;
  const link = new ApciLink(role, params, clock, (b) => {
    const r = decodeApdu(b);
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') out.push(r.value);
  }, { asdu: (a) => asdus.push(a), started: () => started++, closed: (r) => closed.push(r) });
  return { clock, out, asdus, closed, link, started: () => started };
}

/** A controlling link with data transfer started. */
function startedLink(params: LinkParams = PARAMS) {
  const s = setup('controlling', params);
  s.link.start();
  s.link.receive(encodeU('STARTDT_CON'));
  s.out.length = 0;
  return s;
}

test('STARTDT act goes out; STARTDT con starts data transfer', () => {
  const s = setup();
  s.link.start();
  assert.deepEqual(s.out, [{ format: 'U', fn: 'STARTDT_ACT' }]);
  assert.equal(s.link.state, 'starting');
  s.link.receive(encodeU('STARTDT_CON'));
  assert.equal(s.link.state, 'started');
  assert.equal(s.started(), 1);
});

test('no STARTDT con within t1 closes the link with Timeout', () => {
  const s = setup();
  s.link.start();
  s.clock.advance(14_999);
  assert.equal(s.closed.length, 0);
  s.clock.advance(1);
  assert.equal(s.closed[0]?.code, 'Timeout');
  assert.match(s.closed[0]!.message, /STARTDT_ACT/);
});

test('ASDUs wait for STARTDT, then go out as I-frames numbered from 0', () => {
  const s = setup();
  s.link.send(ASDU);
  assert.deepEqual(s.out, []);
  s.link.start();
  s.link.receive(encodeU('STARTDT_CON'));
  assert.deepEqual(s.out.slice(1), [{ format: 'I', sendSeq: 0, recvSeq: 0, asdu: ASDU }]);
});

test('an S-frame acknowledges after w received I-frames, not before', () => {
  const s = startedLink();
  s.link.receive(encodeI(0, 0, ASDU));
  assert.deepEqual(s.out, [], 'one I-frame: no ack yet (w = 2)');
  s.link.receive(encodeI(1, 0, ASDU));
  assert.deepEqual(s.out, [{ format: 'S', recvSeq: 2 }]);
  assert.equal(s.asdus.length, 2);
});

test('t2 after an unacknowledged I-frame sends an S-frame', () => {
  const s = startedLink();
  s.link.receive(encodeI(0, 0, ASDU));
  s.clock.advance(9_999);
  assert.deepEqual(s.out, []);
  s.clock.advance(1);
  assert.deepEqual(s.out, [{ format: 'S', recvSeq: 1 }]);
});

test('an outgoing I-frame carries N(R) and counts as the acknowledgement', () => {
  const s = startedLink();
  s.link.receive(encodeI(0, 0, ASDU));
  s.link.send(ASDU);
  assert.deepEqual(s.out, [{ format: 'I', sendSeq: 0, recvSeq: 1, asdu: ASDU }]);
  s.clock.advance(10_000);
  assert.deepEqual(s.out.filter((f) => f.format === 'S'), [], 'nothing left to acknowledge at t2');
});

test('at most k I-frames are unacknowledged; an S-frame opens the window', () => {
  const s = startedLink();
  for (let i = 0; i < 5; i++) s.link.send(ASDU);
  assert.equal(s.out.length, 3);
  assert.equal(s.link.queued, 2);
  s.link.receive(encodeS(2));
  assert.equal(s.out.length, 5);
  assert.deepEqual(s.out.map((f) => (f.format === 'I' ? f.sendSeq : -1)), [0, 1, 2, 3, 4]);
  assert.equal(s.link.outstanding, 3);
});

test('an I-frame unacknowledged for t1 closes the link with Timeout', () => {
  const s = startedLink();
  s.link.send(ASDU);
  s.clock.advance(10_000);
  s.link.receive(encodeU('TESTFR_CON')); // traffic that is not an acknowledgement
  s.clock.advance(5_000);
  assert.equal(s.closed[0]?.code, 'Timeout');
  assert.match(s.closed[0]!.message, /N\(S\)=0/);
});

test('an acknowledgement in time re-arms t1 for the next unacknowledged frame', () => {
  const s = startedLink();
  s.link.send(ASDU);
  s.clock.advance(10_000);
  s.link.send(ASDU);
  s.link.receive(encodeS(1));
  s.clock.advance(10_000);
  assert.equal(s.closed.length, 0, 'frame 1 was sent at 10 s, due at 25 s');
  s.clock.advance(5_000);
  assert.equal(s.closed[0]?.code, 'Timeout');
});

test('t3 idle sends TESTFR act; its con keeps the link; no con closes after t1', () => {
  const s = startedLink();
  s.clock.advance(20_000);
  assert.deepEqual(s.out, [{ format: 'U', fn: 'TESTFR_ACT' }]);
  s.link.receive(encodeU('TESTFR_CON'));
  s.clock.advance(20_000);
  assert.deepEqual(s.out.length, 2, 'a second test after another idle t3');
  s.clock.advance(15_000);
  assert.equal(s.closed[0]?.code, 'Timeout');
  assert.match(s.closed[0]!.message, /TESTFR_ACT/);
});

test('TESTFR act is answered with TESTFR con', () => {
  const s = startedLink();
  s.link.receive(encodeU('TESTFR_ACT'));
  assert.deepEqual(s.out, [{ format: 'U', fn: 'TESTFR_CON' }]);
});

test('a wrong N(S) closes the link with Protocol', () => {
  const s = startedLink();
  s.link.receive(encodeI(0, 0, ASDU));
  s.link.receive(encodeI(2, 0, ASDU));
  assert.equal(s.closed[0]?.code, 'Protocol');
  assert.match(s.closed[0]!.message, /expected N\(S\)=1, received 2/);
  assert.equal(s.asdus.length, 1);
});

test('an N(R) for frames never sent closes the link with Protocol', () => {
  const s = startedLink();
  s.link.send(ASDU);
  s.link.receive(encodeS(2));
  assert.equal(s.closed[0]?.code, 'Protocol');
});

test('an I-frame before STARTDT closes the link with Protocol', () => {
  const s = setup();
  s.link.receive(encodeI(0, 0, ASDU));
  assert.equal(s.closed[0]?.code, 'Protocol');
});

test('a framing error closes the link with Protocol; close reports once', () => {
  const s = startedLink();
  s.link.receive(hex('68 02 00 00'));
  s.link.close();
  assert.equal(s.closed.length, 1);
  assert.equal(s.closed[0]?.code, 'Protocol');
  assert.equal(s.clock.pending, 0, 'no timer left behind');
});

test('sequence numbers wrap from 32767 to 0', () => {
  const s = startedLink({ ...PARAMS, w: 32767 });
  for (let i = 0; i < 32770; i++) s.link.receive(encodeI(i % 32768, 0, ASDU));
  assert.equal(s.closed.length, 0);
  assert.equal(s.asdus.length, 32770);
});

test('controlled station: STARTDT act → STARTDT con, started; STOPDT act → ack, STOPDT con', () => {
  const s = setup('controlled');
  s.link.receive(encodeU('STARTDT_ACT'));
  assert.deepEqual(s.out, [{ format: 'U', fn: 'STARTDT_CON' }]);
  assert.equal(s.link.state, 'started');
  s.link.receive(encodeI(0, 0, ASDU));
  s.link.receive(encodeU('STOPDT_ACT'));
  assert.deepEqual(s.out.slice(1), [{ format: 'S', recvSeq: 1 }, { format: 'U', fn: 'STOPDT_CON' }]);
  assert.equal(s.link.state, 'stopped');
});

test('the controlling station refuses STARTDT act from its peer', () => {
  const s = setup('controlling');
  s.link.receive(encodeU('STARTDT_ACT'));
  assert.equal(s.closed[0]?.code, 'Protocol');
});
