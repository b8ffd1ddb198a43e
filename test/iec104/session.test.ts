/**
 * The driver against the simulated controlled station on 127.0.0.1: STARTDT, interrogation,
 * spontaneous data, commands (SbO and direct), negative confirmation, clock sync, counter
 * interrogation, redundancy, and the faults that must end the link (t1 expiry, framing error,
 * sequence error, dropped connection) — reported through onLost, never by a crash.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { PointError, ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import { iec104Driver } from '../../src/drivers/iec104/index.ts';
import type { Iec104Address, Iec104Connection } from '../../src/drivers/iec104/address.ts';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import type { Iec104Simulator, SimPointSpec } from '../../simulators/iec104/index.ts';
import { testContext, until } from './helpers.ts';

const POINTS: SimPointSpec[] = [
  { ioa: 0x0001, type: 'M_SP_NA_1', value: true }, // DI 0
  { ioa: 0x0002, type: 'M_DP_NA_1', value: 1 }, // DI 1: double point, off
  { ioa: 0x4001, type: 'M_ME_NC_1', value: 21.5 }, // AI 0
  { ioa: 0x4002, type: 'M_ME_TF_1', value: 7.25 }, // AI 1, time-tagged spontaneously
  { ioa: 0x4003, type: 'M_ME_NB_1', value: -1000 }, // AI 2 scaled
  { ioa: 0x6401, type: 'M_IT_NA_1', value: 12345 }, // PI 0
  { ioa: 0x6001, type: 'M_SP_NA_1', value: false, command: true, selectRequired: true }, // DO 0
  { ioa: 0x6002, type: 'M_SP_NA_1', value: false, command: true }, // DO 1
  { ioa: 0x6201, type: 'M_ME_NC_1', value: 0, command: true }, // AO 0
];

type Pt = { id: string; name: string; type: 'bool' | 'float32' | 'int16' | 'int32'; address: Iec104Address };
const pt = (id: string, type: Pt['type'], visitor: Record<string, unknown>): Pt => ({ id, name: `p${id}`, type, address: iec104Driver.addressSchema.parse(visitor) });
const P = {
  di0: pt('1', 'bool', { pointNum: 0, pointType: 'DI', type: 'bool' }),
  di1: pt('2', 'bool', { pointNum: 1, pointType: 'DI', type: 'bool' }),
  ai0: pt('3', 'float32', { pointNum: 0, pointType: 'AI', type: 'float32' }),
  ai1: pt('4', 'float32', { pointNum: 1, pointType: 'AI', type: 'float32' }),
  ai2: pt('5', 'int16', { pointNum: 2, pointType: 'AI' }),
  pi0: pt('6', 'int32', { pointNum: 0, pointType: 'PI' }),
  do0: pt('7', 'bool', { pointNum: 0, pointType: 'DO', type: 'bool' }),
  do1: pt('8', 'bool', { pointNum: 1, pointType: 'DO', type: 'bool', sbo: false }),
  ao0: pt('9', 'float32', { pointNum: 0, pointType: 'AO', type: 'float32' }),
  missing: pt('10', 'float32', { pointNum: 40, pointType: 'AI' }),
};
const signal = new AbortController().signal;
const open: { sim?: Iec104Simulator; session?: Session<Iec104Connection, Iec104Address> }[] = [];
after(async () => {
  for (const o of open) {
    await o.session?.close();
    await o.sim?.stop();
  }
});

async function setup(opts: { conn?: Record<string, unknown>; sim?: Partial<Parameters<typeof startIec104Simulator>[0]> } = {}) {
  const sim = await startIec104Simulator({ points: POINTS, ...opts.sim });
  const ctx = testContext();
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${sim.port}`, interval: '1s', timeout: '2s', ...opts.conn });
  const lost: PointError[] = [];
  const session = await iec104Driver.create(ctx).connect(connection, { signal, onLost: (e) => lost.push(e) });
  const o = { sim, session };
  open.push(o);
  return { sim, session, ctx, lost, dev: { name: 'rtu', connection } };
}
/** Reads one point until its value is `want` (values arrive asynchronously). */
async function readUntil(session: Session<Iec104Connection, Iec104Address>, dev: { name: string; connection: Iec104Connection }, p: Pt, want: unknown): Promise<void> {
  const end = Date.now() + 2000;
  for (;;) {
    const [r] = await session.read(dev, [p], signal);
    if (val(r) === want) return;
    if (Date.now() > end) assert.fail(`point ${p.id} never became ${String(want)}: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}
const byId = (rs: ReadResult[]) => Object.fromEntries(rs.map((r) => [r.id, r]));
const val = (r: ReadResult | undefined) => (r !== undefined && r.quality !== 'bad' ? r.value : r);

test('STARTDT, then interrogation fills the values read', async () => {
  const { sim, session, dev } = await setup();
  assert.deepEqual(sim.connections(), { open: 1, started: 1 });
  const rs = byId(await session.read(dev, Object.values(P), signal));
  assert.equal(val(rs['1']), true);
  assert.equal(val(rs['2']), false, 'double point off');
  assert.equal(val(rs['3']), 21.5);
  assert.equal(val(rs['4']), 7.25);
  assert.equal(val(rs['5']), -1000);
  const pi = rs['6'];
  assert.equal(pi?.quality === 'bad' && pi.error.code, 'BadAddress', 'counters come from counter interrogation, not GI');
  assert.equal(rs['10']?.quality === 'bad' && rs['10'].error.code, 'BadAddress');
  assert.equal(Object.keys(rs).length, 10);
});

test('interrogation answered with SQ=1 ASDUs fills the same values', async () => {
  const { session, dev } = await setup({ sim: { sequenceGi: true } });
  const rs = byId(await session.read(dev, [P.di0, P.di1, P.ai0, P.ai1, P.ai2], signal));
  assert.deepEqual([rs['1'], rs['2'], rs['3'], rs['4'], rs['5']].map(val), [true, false, 21.5, 7.25, -1000]);
});

test('spontaneous changes reach the subscription sink with the time tag as ts', async () => {
  const { sim, session, dev } = await setup();
  await session.read(dev, [P.ai0], signal); // after GI
  const got: ReadResult[] = [];
  const sub = await session.subscribe!(dev, [P.ai0, P.ai1, P.di0], { values: (_d, r) => got.push(...r), error: () => {} });
  assert.equal(got.length, 3, 'held values pushed at once');
  got.length = 0;
  const before = Date.now();
  sim.setValue(0x4002, 99.5);
  sim.setValue(0x0001, false);
  await until(() => got.length >= 2, 2000, 'spontaneous values');
  const r4 = got.find((r) => r.id === '4');
  assert.equal(val(r4), 99.5);
  assert.ok(r4?.ts !== undefined && r4.ts >= before - 1 && r4.ts <= Date.now(), 'ts from the CP56Time2a tag');
  assert.equal(val(got.find((r) => r.id === '1')), false);
  await sub.close();
  sim.setValue(0x4001, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.filter((r) => r.id === '3').length, 0, 'nothing after close');
});

test('select-before-operate command changes the station point; ACTCON and ACTTERM awaited', async () => {
  const { sim, session, dev } = await setup();
  const res = await session.write!(dev, [{ point: P.do0, value: true }], signal);
  assert.deepEqual(res, [{ id: '7', ok: true }]);
  assert.equal(sim.getValue(0x6001), true);
  assert.deepEqual(sim.commands.map((c) => [c.typeId, c.ioa, c.select, c.accepted]), [[45, 0x6001, true, true], [45, 0x6001, false, true]]);
  const rs = byId(await session.read(dev, [P.do0], signal));
  assert.equal(val(rs['7']), true, 'return information arrived before ACTTERM');
});

test('direct execute sends one command; setpoint float reaches the station', async () => {
  const { sim, session, dev } = await setup();
  const res = await session.write!(dev, [{ point: P.do1, value: true }, { point: P.ao0, value: 42.5 }], signal);
  assert.deepEqual(res, [{ id: '8', ok: true }, { id: '9', ok: true }]);
  assert.deepEqual(sim.commands.map((c) => [c.typeId, c.select]), [[45, false], [50, true], [50, false]]);
  assert.equal(sim.getValue(0x6002), true);
  assert.equal(sim.getValue(0x6201), 42.5);
});

test('a negative confirmation is a write error with its cause; a write without select fails where SbO is required', async () => {
  const { sim, session, dev } = await setup({ conn: { sbo: false } });
  sim.faults.rejectCommands(0x6201);
  const [r1] = await session.write!(dev, [{ point: P.ao0, value: 1 }], signal);
  assert.equal(r1?.ok, false);
  if (r1 !== undefined && !r1.ok) {
    assert.equal(r1.error.code, 'Exception');
    assert.deepEqual(r1.error.detail, { cause: 7, negative: true });
  }
  const [r2] = await session.write!(dev, [{ point: P.do0, value: true }], signal);
  assert.equal(r2?.ok === false && r2.error.code, 'Exception', 'the station requires a select first');
  assert.equal(sim.getValue(0x6001), false);
  const [r3] = await session.write!(dev, [{ point: P.ai0, value: 1 }], signal);
  assert.equal(r3?.ok === false && r3.error.code, 'Unsupported', 'an AI point has no command');
});

test('clock sync and counter interrogation on connect', async () => {
  const before = Date.now();
  const { sim, session, dev } = await setup({ conn: { clockSync: true, counterInterval: '10s' } });
  await until(() => sim.clockSyncs.length === 1, 2000, 'clock sync');
  assert.ok(Math.abs(sim.clockSyncs[0]! - before) < 2000);
  await readUntil(session, dev, P.pi0, 12345);
});

test('t1 expiry closes the link when the station stops answering; onLost reports Timeout', async () => {
  const { sim, session, dev, lost } = await setup({ conn: { t1: 300, t2: 100, t3: 200 } });
  sim.faults.stopAnswering();
  const t = Date.now();
  await until(() => lost.length > 0, 3000, 'onLost');
  assert.equal(lost[0]?.code, 'Timeout');
  assert.match(lost[0]!.message, /t1/);
  assert.ok(Date.now() - t < 1500);
  await assert.rejects(session.read(dev, [P.ai0], signal), (e: { code: string }) => e.code === 'Offline');
  assert.equal(lost.length, 1, 'reported once');
});

test('a framing error from the station: Protocol through onLost, no crash', async () => {
  const { sim, lost } = await setup();
  sim.faults.sendMalformed('framing');
  await until(() => lost.length > 0, 2000, 'onLost');
  assert.equal(lost[0]?.code, 'Protocol');
});

test('a broken sequence number: Protocol through onLost', async () => {
  const { sim, lost } = await setup();
  sim.faults.breakSequence();
  sim.setValue(0x4001, 5);
  await until(() => lost.length > 0, 2000, 'onLost');
  assert.equal(lost[0]?.code, 'Protocol');
  assert.match(lost[0]!.message, /sequence/);
});

test('a malformed ASDU in sequence is dropped and counted; the link stays', async () => {
  const { sim, session, dev, ctx, lost } = await setup();
  await session.read(dev, [P.ai0], signal);
  sim.faults.sendMalformed('asdu');
  sim.setValue(0x4001, 77);
  await readUntil(session, dev, P.ai0, 77);
  assert.equal(ctx.counts.get('iec104_bad_asdu'), 1);
  assert.deepEqual(lost, []);
});

test('a dropped connection is reported as Offline; connecting again works (reconnect is the gateway’s)', async () => {
  const { sim, lost, dev } = await setup();
  sim.faults.dropConnections();
  await until(() => lost.length > 0, 2000, 'onLost');
  assert.equal(lost[0]?.code, 'Offline');
  const again = await iec104Driver.create(testContext()).connect(dev.connection, { signal, onLost: () => {} });
  open.push({ session: again });
  assert.equal(val((await again.read(dev, [P.ai0], signal))[0]), 21.5);
});

test('redundancy: a dead first endpoint, the second one serves', async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const sim = await startIec104Simulator({ points: POINTS });
  open.push({ sim });
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${deadPort}`, endpoints: [`127.0.0.1:${sim.port}`], timeout: '2s' });
  const session = await iec104Driver.create(testContext()).connect(connection, { signal, onLost: () => {} });
  open.push({ session });
  assert.equal(val((await session.read({ name: 'r', connection }, [P.ai0], signal))[0]), 21.5);
  assert.equal(iec104Driver.link(connection).key, `iec104://127.0.0.1:${deadPort}/1`);
});

test('no station at all: connect rejects with Offline', async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${port}` });
  await assert.rejects(iec104Driver.create(testContext()).connect(connection, { signal, onLost: () => {} }), (e: { code: string }) => e.code === 'Offline');
});
