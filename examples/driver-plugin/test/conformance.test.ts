/** The KV/1 driver against its simulator, through fieldgate's conformance kit. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertConformant, runDriverConformance } from 'fieldgate/sdk/testing';
import descriptor from '../src/index.ts';
import { startKvSimulator } from '../simulator/kv-simulator.ts';
import type { KvSimulator } from '../simulator/kv-simulator.ts';

let sim: KvSimulator;

before(async () => {
  sim = await startKvSimulator({
    keys: {
      temp: { value: '21.5' },
      count: { value: '7' },
      big: { value: '9007199254740993' },
      'fan.on': { value: '0', writable: true },
      setpoint: { value: '20', writable: true },
      serial: { value: 'KV-0001' },
    },
  });
});

after(async () => {
  await sim.close();
});

test('the KV/1 driver passes the conformance kit', async () => {
  const report = await runDriverConformance(descriptor, {
    connection: { address: '127.0.0.1', port: sim.port, interval: '1s', timeout: '500ms' },
    points: [
      { id: '1', type: 'float32', address: { key: 'temp' } },
      { id: '2', type: 'uint16', address: { key: 'count' } },
      { id: '3', type: 'int64', address: { key: 'big' } },
      { id: '4', type: 'bool', address: { key: 'fan.on' } },
      { id: '5', type: 'float64', address: { key: 'setpoint' } },
      { id: '6', type: 'string', address: { key: 'serial' } },
    ],
    missingPoints: [{ id: '9', type: 'int32', address: { key: 'no-such-key' } }],
    writes: [
      { id: '4', value: true },
      { id: '5', value: 22.5 },
    ],
    readOnlyWrites: [{ id: '1', value: 30 }],
    subscribe: { ids: ['1'], trigger: () => sim.set('temp', 23) },
  });
  assertConformant(report);
  assert.equal(report.checks.filter((c) => c.status === 'skip').length, 0, JSON.stringify(report.checks));
  const byId = new Map(report.points.map((p) => [p.id, p.result]));
  assert.deepEqual(byId.get('3'), { id: '3', quality: 'good', value: 9007199254740993n, ts: (byId.get('3') as { ts: number }).ts });
  assert.equal(byId.get('9')?.quality, undefined); // missing points are judged in their own read, not here
  assert.equal(sim.get('setpoint'), '22.5');
  assert.equal(sim.connections, 0);
});
