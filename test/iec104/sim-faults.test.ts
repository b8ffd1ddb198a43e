/**
 * The simulator's response delay fault: every frame the station sends waits the delay, frames
 * keep their order, ending the fault makes answers prompt again, and a delay longer than the
 * client's t1 makes the client close the link with Timeout.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cot, QOI_STATION, TypeId } from '../../src/drivers/iec104/codec/types.ts';
import type { PointError } from '../../src/drivers/sdk/index.ts';
import { iec104Driver } from '../../src/drivers/iec104/index.ts';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import type { Iec104Simulator } from '../../simulators/iec104/index.ts';
import { RawClient } from './raw-client.ts';
import { testContext, until } from './helpers.ts';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});
async function sim(opts: Parameters<typeof startIec104Simulator>[0]): Promise<Iec104Simulator> {
  const s = await startIec104Simulator(opts);
  cleanup.push(() => s.stop());
  return s;
}
async function client(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  cleanup.unshift(() => c.close());
  return c;
}

const GI = { typeId: TypeId.C_IC_NA_1, sequence: false, cause: Cot.ACTIVATION, negative: false, test: false, originator: 0, commonAddress: 1, objects: [{ ioa: 0, element: { kind: 'interrogation' as const, qoi: QOI_STATION } }] };

test('delay 150 ms: STARTDT_CON and the interrogation answers come 150 ms late, in order; delay(0) ends it', async () => {
  const points = Array.from({ length: 40 }, (_, i) => ({ ioa: 100 + i, type: 'M_ME_NC_1' as const, value: i }));
  const s = await sim({ points, delayMs: 150 });
  const c = await client(s.port);
  let t = performance.now();
  c.u('STARTDT_ACT');
  await until(() => c.frames.length === 1, 2000, 'STARTDT_CON');
  assert.deepEqual({ ...c.frames[0], at: 0 }, { at: 0, format: 'U', fn: 'STARTDT_CON' });
  assert.ok(c.frames[0]!.at - t >= 145, `STARTDT_CON after ${(c.frames[0]!.at - t).toFixed(0)} ms`);

  t = performance.now();
  c.i(GI);
  // ACTCON, the 40 floats (one ASDU: 40 × 8 bytes would not fit, so several), ACTTERM.
  await until(() => c.asdus().some((a) => a.cause === Cot.ACTIVATION_TERM), 3000, 'ACTTERM');
  const asdus = c.asdus();
  const firstAt = c.frames.find((f) => f.format === 'I')!.at;
  assert.ok(firstAt - t >= 145, `first answer after ${(firstAt - t).toFixed(0)} ms`);
  assert.equal(asdus[0]!.cause, Cot.ACTIVATION_CON, 'ACTCON first');
  assert.equal(asdus[asdus.length - 1]!.cause, Cot.ACTIVATION_TERM, 'ACTTERM last');
  const values = asdus.slice(1, -1).flatMap((a) => a.objects.map((o) => [o.ioa, o.element.kind === 'float' ? o.element.value : NaN]));
  assert.deepEqual(values, points.map((p) => [p.ioa, p.value]), 'every point, in IOA order');

  s.faults.delay(0);
  const n = c.frames.length;
  t = performance.now();
  c.u('TESTFR_ACT');
  await until(() => c.frames.length > n, 2000, 'TESTFR_CON');
  const con = c.frames[n]!;
  assert.equal(con.format === 'U' && con.fn, 'TESTFR_CON');
  assert.ok(con.at - t < 100, `prompt again: ${(con.at - t).toFixed(0)} ms`);
});

test('spontaneous data is delayed too, and a delay that shrinks keeps the order', async () => {
  const s = await sim({ points: [{ ioa: 7, type: 'M_ME_TF_1', value: 0 }] });
  const c = await client(s.port);
  c.u('STARTDT_ACT');
  await until(() => c.frames.length === 1, 2000, 'STARTDT_CON');
  s.faults.delay(200);
  const t = performance.now();
  s.setValue(7, 1);
  await new Promise((r) => setTimeout(r, 20));
  s.faults.delay(0);
  s.setValue(7, 2);
  await until(() => c.asdus().length === 2, 2000, 'two spontaneous ASDUs');
  const got = c.frames.filter((f) => f.format === 'I');
  assert.deepEqual(
    got.map((f) => (f.format === 'I' && f.asdu.objects[0]!.element.kind === 'float' ? f.asdu.objects[0]!.element.value : NaN)),
    [1, 2],
    'the undelayed second change does not overtake the first',
  );
  assert.ok(got[0]!.at - t >= 195, `first change after ${(got[0]!.at - t).toFixed(0)} ms`);
  assert.equal(got[0]!.format === 'I' && got[0]!.asdu.cause, Cot.SPONTANEOUS);
});

test('a delay longer than t1: the client closes the link with Timeout', async () => {
  const s = await sim({ points: [{ ioa: 1, type: 'M_SP_NA_1', value: true }] });
  const connection = iec104Driver.connectionSchema.parse({ endpoint: `127.0.0.1:${s.port}`, t1: 300, t2: 100, t3: 10_000 });
  const lost: PointError[] = [];
  const session = await iec104Driver.create(testContext()).connect(connection, { signal: new AbortController().signal, onLost: (e) => lost.push(e) });
  cleanup.unshift(() => session.close());
  s.faults.delay(1000);
  // The interrogation's ACTCON (and the S-frame acknowledging it) now come after t1.
  await (session as unknown as { client: { interrogate(): Promise<void> } }).client.interrogate().catch(() => {});
  await until(() => lost.length > 0, 3000, 'onLost');
  assert.equal(lost[0]?.code, 'Timeout');
});
