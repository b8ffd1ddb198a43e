/**
 * The SDK's conformance kit against the camera driver and the camera simulator: descriptor shape,
 * schemas, one result per point with per-point failures, a command that reads back, a refused
 * read-only write, events pushed through the sink, and no socket or timer left after close.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';
import { descriptor } from '../../src/drivers/ipc/index.ts';
import { assertConformant, runDriverConformance } from '../../src/drivers/sdk/testing/index.ts';

let sim: CameraSimulator;
before(async () => {
  sim = await startCameraSimulator({ username: 'admin', password: 'pw' });
});
after(async () => {
  await sim?.stop();
});

test('the ipc driver passes the conformance kit against the camera simulator', async () => {
  const report = await runDriverConformance(descriptor, {
    connection: { ip: '127.0.0.1', port: sim.port, username: 'admin', password: 'pw', timeout: '4s', events: true },
    points: [
      { id: '1', type: 'bool', address: 'online' },
      { id: '2', type: 'string', address: 'info.manufacturer' },
      { id: '3', type: 'int32', address: 'profile[main].width' },
      { id: '4', type: 'string', address: { address: 'profile[sub].streamUri' } },
      { id: '5', type: 'float64', address: 'ptz.pan' },
      { id: '6', type: 'string', address: 'ptz.move' },
      { id: '7', type: 'bool', address: 'event.motion' },
    ],
    missingPoints: [
      { id: '90', type: 'int32', address: 'profile[9].width' },
      { id: '91', type: 'string', address: 'forward.state' },
    ],
    writes: [{ id: '6', value: '{"pan":0.25,"mode":"relative"}' }],
    readOnlyWrites: [{ id: '2', value: 'x' }],
    subscribe: { ids: ['7'], trigger: () => sim.raise('motion', true) },
    stepTimeout: 8000,
  });
  assertConformant(report);
  assert.ok(report.checks.some((c) => c.name === 'subscribe delivers through the sink' && c.status === 'pass'));
});
