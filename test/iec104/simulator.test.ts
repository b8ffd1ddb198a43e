/**
 * The simulator's own behaviour and the window rules end to end: the client acknowledges a burst
 * of spontaneous data (so the station's k window never stalls), a station that stops
 * acknowledging makes the client close on t1, unknown types are refused with COT 44, and the
 * point table can come from Baetyl's template and access config.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { decodeApdu, encodeI, encodeU } from '../../src/drivers/iec104/codec/apci.ts';
import { decodeAsdu } from '../../src/drivers/iec104/codec/asdu.ts';
import { FrameSplitter } from '../../src/drivers/iec104/codec/splitter.ts';
import type { PointError, ReadResult } from '../../src/drivers/sdk/index.ts';
import { iec104Driver } from '../../src/drivers/iec104/index.ts';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import type { Iec104Simulator } from '../../simulators/iec104/index.ts';
import { pointsFromTemplate } from '../../simulators/iec104/template.ts';
import { hex, testContext, until } from './helpers.ts';

const signal = new AbortController().signal;
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});
async function sim(opts: Parameters<typeof startIec104Simulator>[0]): Promise<Iec104Simulator> {
  const s = await startIec104Simulator(opts);
  cleanup.push(() => s.stop());
  return s;
}

test('a burst of 300 spontaneous changes through k = 12: the client acknowledges with S-frames and gets them all', async () => {
  const points = Array.from({ length: 300 }, (_, i) => ({ ioa: 1000 + i, type: 'M_ME_TF_1' as const, value: 0 }));
  const s = await sim({ points, link: { k: 12, w: 8 } });
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${s.port}`, w: 8 });
  const session = await iec104Driver.create(testContext()).connect(connection, { signal, onLost: () => {} });
  cleanup.unshift(() => session.close());
  const pts = points.map((p, i) => ({ id: String(i), name: `p${i}`, type: 'float32' as const, address: iec104Driver.addressSchema.parse({ ioa: p.ioa, typeId: 36 }) }));
  const dev = { name: 'd', connection };
  await session.read(dev, pts, signal);
  const seen = new Map<string, ReadResult>();
  await session.subscribe!(dev, pts, { values: (_d, rs) => rs.forEach((r) => seen.set(r.id, r)), error: () => {} });
  // One ASDU per change: flush each on its own tick.
  for (let i = 0; i < 300; i++) {
    s.setValue(1000 + i, i + 0.5);
    await new Promise((r) => setImmediate(r));
  }
  await until(() => [...seen.values()].filter((r) => r.quality === 'good' && r.value === Number(r.id) + 0.5).length === 300, 5000, 'all 300 changes');
  const st = s.stats();
  assert.ok(st.sReceived > 0, `station received S-frames (${st.sReceived})`);
  assert.ok(st.iSent > 300 / 30, 'many I-frames went through a window of 12');
});

test('a station that stops acknowledging: the client closes on t1 (Timeout)', async () => {
  const s = await sim({ points: [{ ioa: 1, type: 'M_SP_NA_1', value: true }] });
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${s.port}`, t1: 300, t2: 100, t3: 10_000, clockSync: false });
  const lost: PointError[] = [];
  const session = await iec104Driver.create(testContext()).connect(connection, { signal, onLost: (e) => lost.push(e) });
  cleanup.unshift(() => session.close());
  await session.read({ name: 'd', connection }, [], signal);
  s.faults.suppressAcks(true);
  // The client's interrogation is an I-frame the station never acknowledges.
  await (session as unknown as { client: { interrogate(): Promise<void> } }).client.interrogate().catch(() => {});
  await until(() => lost.length > 0, 2000, 'onLost');
  assert.equal(lost[0]?.code, 'Timeout');
});

test('raw client: unknown type refused with COT 44 + P/N; test command confirmed', async () => {
  const s = await sim({ points: [{ ioa: 1, type: 'M_SP_NA_1', value: true }] });
  const sock = connect(s.port, '127.0.0.1');
  cleanup.unshift(async () => void sock.destroy());
  const split = new FrameSplitter();
  const frames: ReturnType<FrameSplitter['push']>['frames'] = [];
  sock.on('data', (c: Buffer) => frames.push(...split.push(c).frames));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeU('STARTDT_ACT'));
  await until(() => frames.length === 1);
  assert.deepEqual(frames[0], { format: 'U', fn: 'STARTDT_CON' });
  sock.write(encodeI(0, 0, hex('2c 01 06 00 01 00 01 00 00 01'))); // type 44: not defined
  sock.write(encodeI(1, 0, hex('6b 01 06 00 01 00 00 00 00 34 12 2a 76 2d 0d b1 05 18'))); // C_TS_TA_1
  await until(() => frames.length === 3);
  const a1 = frames[1]!.format === 'I' ? frames[1]!.asdu : new Uint8Array();
  assert.equal(a1[0], 0x2c);
  assert.equal(a1[2], 0x40 | 44, 'COT 44 unknown type with P/N');
  const a2 = frames[2]!.format === 'I' ? decodeAsdu(frames[2]!.asdu) : undefined;
  assert.equal(a2?.kind === 'ok' && a2.value.cause, 7);
  assert.equal(decodeApdu(encodeU('TESTFR_ACT')).kind, 'ok');
});

test('points from a Baetyl access template and accessConfig', async () => {
  const props = [
    { name: 'temperature', id: '1', type: 'float32', visitor: { iec104: { pointNum: 1, pointType: 'AI', type: 'float32' } } },
    { name: 'switch', id: '2', type: 'bool', visitor: { iec104: { pointNum: 0, pointType: 'DO', type: 'bool' } } },
    { name: 'energy', id: '3', type: 'int32', visitor: { iec104: { pointNum: 2, pointType: 'PI' } } },
    { name: 'other', id: '4', type: 'int32', visitor: { modbus: {} } },
  ];
  const specs = pointsFromTemplate(props, { endpoint: '127.0.0.1:2404', aiOffset: 10 }, { temperature: 25.5 });
  assert.deepEqual(specs, [
    { ioa: 0x4001 + 10 + 1, type: 13, command: false, value: 25.5 },
    { ioa: 0x6001, type: 1, command: 45 },
    { ioa: 0x6401 + 2, type: 15, command: false },
  ]);
});
