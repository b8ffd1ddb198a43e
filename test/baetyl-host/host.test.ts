/**
 * The Baetyl host and its fieldgate bridge against a real Baetyl-style driver written in Python
 * (fixtures/py-driver, Debian python3-grpcio): handshake, health, Setup → SetConfig → Start,
 * periodic deviceReport Posts through the subscription sink keyed by point id, a read answered by
 * a deviceDesire Post, a Set that changes the driver's value, State false, a killed process
 * restarted with backoff, and Stop on close with the process gone.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { baetylConnectionSchema, hostedDriver } from '../../src/gateway/baetyl-host/descriptor.ts';
import { BaetylHost } from '../../src/gateway/baetyl-host/host.ts';
import type { BaseConnection, DeviceRef, Driver, Point, PointError, ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import { systemClock } from '../../src/gateway/runtime/clock.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

const DIR = fileURLToPath(new URL('./fixtures/py-driver', import.meta.url));
const DEVICE = 'custom-py';
const POINTS: Point[] = [
  { id: '1', name: 'temperature', type: 'float64', address: '{"index":0}' },
  { id: '2', name: 'humidity', type: 'float64', address: '{"index":1}' },
  { id: '3', name: 'pressure', type: 'float64', address: '{"index":2}' },
];
const connection = baetylConnectionSchema.parse('{"device": "custom-dev-0", "interval": 300000000, "timeout": 3000000000}') as BaseConnection;
const ref: DeviceRef = { name: DEVICE, connection };

const lines: Line[] = [];
let host: BaetylHost;
let driver: Driver<BaseConnection, unknown>;
let session: Session<BaseConnection, unknown>;
const lost: PointError[] = [];
const pushed: { at: number; results: readonly ReadResult[] }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await sleep(25);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
const value = (results: readonly ReadResult[], id: string) => {
  const r = results.find((x) => x.id === id);
  return r && r.quality !== 'bad' ? r.value : undefined;
};
const info = async () => JSON.parse(await host.call('GetDriverInfo')) as { pid: number; calls: { method: string; brokerid: number; request: string }[] };

async function open(): Promise<Session<BaseConnection, unknown>> {
  const s = await driver.connect(connection, { signal: AbortSignal.timeout(20_000), onLost: (e) => lost.push(e) });
  await s.subscribe!(ref, POINTS, {
    values: (_d, results) => pushed.push({ at: Date.now(), results }),
    error: () => undefined,
  });
  return s;
}

before(async () => {
  host = new BaetylHost({
    dir: DIR,
    driverName: 'custom-python',
    log: memoryLogger(lines),
    backoff: { initialMs: 400, maxMs: 2000, factor: 2, jitter: 0 },
    stopGrace: 1500,
  });
  driver = hostedDriver(host, { clock: systemClock }, 20_000);
  session = await open();
});

after(async () => {
  await session?.close();
  await driver?.close?.();
});

test('the driver is started with Setup → SetConfig → Start, given our Report port and its folder', async () => {
  const { calls } = await info();
  assert.deepEqual(
    calls.slice(0, 3).map((c) => c.method),
    ['Setup', 'SetConfig', 'Start'],
  );
  assert.equal(calls[0]!.request, 'custom-python');
  assert.ok(calls[0]!.brokerid > 0 && calls[0]!.brokerid < 65536, 'Setup carries the Report server port as brokerid');
  assert.equal(calls[1]!.request, DIR);
  assert.equal(host.state, 'running');
});

test('periodic deviceReport Posts arrive through the sink, keyed by point id, with changing values', async () => {
  const from = pushed.length;
  await until(() => pushed.length >= from + 2, 5000, 'two reports');
  const [a, b] = pushed.slice(from, from + 2) as [(typeof pushed)[0], (typeof pushed)[0]];
  assert.deepEqual(a.results.map((r) => r.id).sort(), ['1', '2', '3']);
  assert.ok(a.results.every((r) => r.quality === 'good'));
  assert.equal(typeof value(a.results, '1'), 'number');
  assert.notEqual(value(a.results, '1'), value(b.results, '1'), 'temperature changes between reports');
  // The reports are ~300 ms apart (accessConfig.custom interval 300000000 ns).
  assert.ok(b.at - a.at > 150 && b.at - a.at < 2000, `reports ${b.at - a.at} ms apart`);
});

test('a read sends thing.property.get and returns the deviceDesire answer', async () => {
  const results = await session.read(ref, [POINTS[2]!, POINTS[0]!], AbortSignal.timeout(5000));
  assert.deepEqual(results.map((r) => r.id).sort(), ['1', '3']);
  assert.equal(value(results, '3'), 11);
  const get = (await info()).calls.filter((c) => c.method === 'Get').at(-1)!;
  assert.deepEqual(JSON.parse(get.request), { kind: 'thing.property.get', meta: { driverName: 'custom-python', deviceName: DEVICE }, content: ['pressure', 'temperature'] });
});

test('a write (Set) changes the driver value and the next report shows it; a read-only point is refused', async () => {
  const w = await session.write!(ref, [{ point: POINTS[2]!, value: 42.5 }], AbortSignal.timeout(5000));
  assert.deepEqual(w, [{ id: '3', ok: true }]);
  const set = (await info()).calls.filter((c) => c.method === 'Set').at(-1)!;
  assert.deepEqual(JSON.parse(set.request), { kind: 'deviceDelta', meta: { driverName: 'custom-python', deviceName: DEVICE }, content: [{ propName: 'pressure', propVal: 42.5 }] });
  const since = Date.now();
  await until(() => pushed.some((p) => p.at >= since && value(p.results, '3') === 42.5), 5000, 'a report with pressure 42.5');

  const ro = await session.write!(ref, [{ point: POINTS[0]!, value: 1 }], AbortSignal.timeout(5000));
  assert.equal(ro.length, 1);
  assert.equal(ro[0]!.ok, false);
  if (!ro[0]!.ok) assert.match(ro[0]!.error.message, /read-only/);
});

test('State false makes reads of the device fail until it is back', async () => {
  await host.set(DEVICE, [{ propName: 'simulate-offline', propVal: true }]);
  await assert.rejects(session.read(ref, POINTS, AbortSignal.timeout(5000)), (e: any) => e.code === 'Exception' && /offline \(State false\)/.test(e.message));
  await host.set(DEVICE, [{ propName: 'simulate-offline', propVal: false }]);
  const results = await session.read(ref, POINTS, AbortSignal.timeout(5000));
  assert.equal(results.filter((r) => r.quality === 'good').length, 3);
});

test('a killed driver process is restarted with backoff and reports resume', async () => {
  const oldPid = host.pid!;
  const restartsBefore = host.stats.restarts;
  const killedAt = Date.now();
  process.kill(oldPid, 'SIGKILL');
  await until(() => lost.length > 0, 5000, 'onLost');
  assert.equal(lost[0]!.code, 'Offline');
  assert.match(lost[0]!.message, /SIGKILL/);
  await session.close();
  // The link would now reconnect: connect waits until the host has the driver running again.
  session = await open();
  const upAt = Date.now();
  assert.ok(upAt - killedAt >= 400, `restarted after ${upAt - killedAt} ms; the first backoff delay is 400 ms`);
  assert.equal(host.stats.restarts, restartsBefore + 1);
  assert.notEqual(host.pid, oldPid);
  assert.throws(() => process.kill(oldPid, 0), /ESRCH/);
  const since = Date.now();
  await until(() => pushed.some((p) => p.at >= since), 5000, 'reports from the new process');
  // The new process was set up again in the same order.
  assert.deepEqual((await info()).calls.slice(0, 3).map((c) => c.method), ['Setup', 'SetConfig', 'Start']);
});

test('close sends Stop and the driver process is gone', async () => {
  const pid = host.pid!;
  await session.close();
  await driver.close!();
  assert.equal(host.state, 'stopped');
  assert.ok(lines.some((l) => (l.obj as { line?: string }).line?.includes('Stop received')), 'the driver logged that it got Stop');
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await assert.rejects(host.call('GetDriverInfo'), (e: any) => e.code === 'Offline');
  await driver.close!(); // idempotent
});
