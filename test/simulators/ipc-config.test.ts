/**
 * Cameras served from a configuration (`fieldgate simulate`): one camera per `ipc` device on its
 * accessConfig ip/port with its credentials, one log line each, loopback only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import { startCamerasFromConfig } from '../../simulators/ipc/index.ts';
import { freeTcpPort } from '../../simulators/ipc/ports.ts';
import type { SimulatorContext } from '../../simulators/index.ts';

function device(name: string, connection: Record<string, unknown>): CompiledDevice {
  const topic = { topic: `t/${name}`, qos: 0 as const };
  return {
    name, instance: 'ipc-1', driver: 'ipc', product: 'camera', accessTemplate: 'cam-tpl',
    model: new Map(), points: [], mappings: [],
    topics: { report: topic, delta: topic, event: topic, get: topic, getResponse: topic, eventReport: topic, propertyGet: topic, lifecycleReport: topic },
    connection: { interval: 5000, timeout: 3000, ...connection },
  };
}

function context(faults: Record<string, unknown>, lines: string[]): SimulatorContext {
  return { seed: 1, generators: {}, faults, baseDir: '.', log: (l) => lines.push(l) };
}

const soap = (op: string): string =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><${op} xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`;

test('one camera per device on its ip/port with its credentials; stream port from streamAddress', async () => {
  const [p1, p2, rtsp] = [await freeTcpPort('127.0.0.1'), await freeTcpPort('127.0.0.1'), await freeTcpPort('127.0.0.1')];
  const lines: string[] = [];
  const served = await startCamerasFromConfig(
    [
      device('gate-cam', { ip: '127.0.0.1', port: p1, username: 'admin', password: 'pw', streamAddress: `rtsp://127.0.0.1:${rtsp}/live` }),
      device('yard-cam', { ip: '127.0.0.1', port: p2 }),
    ],
    context({ 'yard-cam': { stream: false, blink: true } }, lines),
  );
  try {
    assert.deepEqual(served.cameras.map((c) => c.port), [p1, p2]);
    assert.deepEqual(served.cameras[0]!.rtspUrls, { main: `rtsp://127.0.0.1:${rtsp}/main`, sub: `rtsp://127.0.0.1:${rtsp}/sub` });
    assert.deepEqual(served.cameras[1]!.rtspUrls, {});
    assert.deepEqual(lines, [
      `ipc gate-cam: http://127.0.0.1:${p1}/onvif/device_service rtsp main=rtsp://127.0.0.1:${rtsp}/main sub=rtsp://127.0.0.1:${rtsp}/sub`,
      'warning: yard-cam: unknown camera fault "blink" (stream: true/false)',
      `ipc yard-cam: http://127.0.0.1:${p2}/onvif/device_service (no stream)`,
    ]);
    // gate-cam wants credentials, yard-cam is open.
    const locked = await fetch(`http://127.0.0.1:${p1}/onvif/device_service`, { method: 'POST', body: soap('GetDeviceInformation') });
    assert.equal(locked.status, 401);
    await locked.arrayBuffer();
    const open = await fetch(`http://127.0.0.1:${p2}/onvif/device_service`, { method: 'POST', body: soap('GetDeviceInformation') });
    assert.equal(open.status, 200);
    assert.match(await open.text(), /<tds:Model>SIM-IPC-yard-cam<\/tds:Model>/);
  } finally {
    await served.stop();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${p2}/onvif/device_service`, { method: 'POST', body: soap('GetDeviceInformation') }));
});

test('a non-loopback ip is refused and nothing stays up', async () => {
  const p1 = await freeTcpPort('127.0.0.1');
  await assert.rejects(
    startCamerasFromConfig([device('ok-cam', { ip: '127.0.0.1', port: p1 }), device('lan-cam', { ip: '192.168.1.20', port: 80 })], context({ 'ok-cam': { stream: false } }, [])),
    /lan-cam: accessConfig\.ipc\.ip "192\.168\.1\.20" is not loopback/,
  );
  await assert.rejects(fetch(`http://127.0.0.1:${p1}/onvif/device_service`, { method: 'POST', body: soap('GetSystemDateAndTime') }));
});
