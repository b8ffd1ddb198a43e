/**
 * The camera driver against the camera simulator (ONVIF SOAP with WS-Security/Digest, JPEG
 * snapshots, an RTSP stream from rtsp-server-perl + ffmpeg), all on 127.0.0.1: device
 * information, profiles and URIs; ffprobe health of the stream; snapshots from the ONVIF URI and
 * from the stream; a bare RTSP camera. Commands, events and failures: commands.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { descriptor } from '../../src/drivers/ipc/index.ts';
import type { IpcConnection } from '../../src/drivers/ipc/connection.ts';
import { CameraFixture, pt, value } from './camera-fixture.ts';

const cam = new CameraFixture('drv', { rtsp: true });
before(() => cam.start());
after(() => cam.stop());
const conn = (extra?: Record<string, unknown>): IpcConnection => cam.conn(extra);
const open = (c: IpcConnection) => cam.open(c);

test('device information, profiles, stream and snapshot URIs, ffprobe health of the stream', async () => {
  const c = conn({ probe: { interval: '1s', timeout: '8s' } });
  const { driver, session } = await open(c);
  try {
    const points = [
      pt('1', 'online', 'bool'),
      pt('2', 'info.manufacturer', 'string'),
      pt('3', 'info.model', 'string'),
      pt('4', 'info.firmware', 'string'),
      pt('5', 'info.serial', 'string'),
      pt('6', 'profiles.count', 'int32'),
      pt('7', 'profile[0].width', 'int32'),
      pt('8', 'profile[main].height', 'int32'),
      pt('9', 'profile[sub].fps', 'float32'),
      pt('10', 'profile[1].bitrate', 'int32'),
      pt('11', 'profile[main].streamUri', 'string'),
      pt('12', 'profile[main].snapshotUri', 'string'),
      pt('13', 'profile[main].encoding', 'string'),
      pt('20', 'stream.codec', 'string'),
      pt('21', 'stream.width', 'int32'),
      pt('22', 'stream.fps', 'float32'),
      pt('23', 'stream.lastFrameTs', 'int64'),
      pt('24', 'stream[sub].uri', 'string'),
      pt('25', 'stream.ok', 'bool'),
      pt('30', 'profile[nope].width', 'int32'),
    ];
    const before = Date.now();
    const rs = await session.read({ name: 'cam-a', connection: c }, points, AbortSignal.timeout(15_000));
    assert.equal(rs.length, points.length);
    assert.equal(value(rs, '1'), true);
    assert.equal(value(rs, '2'), 'Fieldgate');
    assert.equal(value(rs, '3'), 'SIM-IPC-1');
    assert.equal(value(rs, '4'), '1.0.0');
    assert.equal(value(rs, '5'), 'FG-IPC-0001');
    assert.equal(value(rs, '6'), 2);
    assert.equal(value(rs, '7'), 1280);
    assert.equal(value(rs, '8'), 720);
    assert.equal(value(rs, '9'), 10);
    assert.equal(value(rs, '10'), 512);
    assert.equal(value(rs, '11'), cam.sim.rtspUrls.main);
    assert.match(String(value(rs, '12')), new RegExp(`^http://127\\.0\\.0\\.1:${cam.sim.port}/.+\\.jpg$`));
    assert.equal(value(rs, '13'), 'H264');
    // ffprobe of the simulated stream (an H.264 test pattern at most 640x480).
    assert.equal(value(rs, '20'), 'h264');
    assert.ok((value(rs, '21') as number) > 0);
    const fps = value(rs, '22') as number;
    assert.ok(fps > 5 && fps <= 15, `fps ${fps}`);
    const last = Number(value(rs, '23') as bigint);
    assert.ok(last >= before && last <= Date.now(), 'last frame time is when the probe saw frames');
    // Another profile's stream; the camera's user is put into the URI for ffmpeg, masked here.
    assert.equal(value(rs, '24'), cam.sim.rtspUrls.sub!.replace('rtsp://', 'rtsp://admin:***@'));
    assert.equal(value(rs, '25'), true);
    const bad = rs.find((r) => r.id === '30')!;
    assert.ok(bad.quality === 'bad' && bad.error.code === 'BadAddress' && /profiles: 0:main, 1:sub/.test(bad.error.message));
  } finally {
    await session.close();
    await driver.close?.();
  }
});

test('snapshots: from the ONVIF snapshot URI (with credentials) and grabbed from the stream; files are JPEG', async () => {
  const c = conn({ snapshot: { keep: 2 } });
  const { driver, session } = await open(c);
  const dev = { name: 'cam-snap', connection: c };
  try {
    const served = cam.sim.snapshotsServed();
    const take = pt('1', 'snapshot.take', 'bool');
    const w = await session.write!(dev, [{ point: take, value: true }], AbortSignal.timeout(10_000));
    assert.deepEqual(w, [{ id: '1', ok: true }]);
    assert.equal(cam.sim.snapshotsServed(), served + 1, 'fetched from the camera');
    const rs = await session.read(dev, [pt('2', 'snapshot.path', 'string'), pt('3', 'snapshot.size', 'int32'), pt('4', 'snapshot.ts', 'string')], AbortSignal.timeout(10_000));
    const file = value(rs, '2') as string;
    assert.equal(path.dirname(file), path.join(cam.dataDir, 'ipc', 'cam-snap'));
    assert.ok(existsSync(file));
    const bytes = readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.equal(value(rs, '3'), bytes.length);
    assert.match(value(rs, '4') as string, /^\d{4}-\d\d-\d\dT/);
  } finally {
    await session.close();
    await driver.close?.();
  }
  // From the stream (ffmpeg -frames:v 1) when asked so.
  const c2 = conn({ snapshot: { source: 'stream', timeout: '8s' } });
  const o2 = await open(c2);
  try {
    const served = cam.sim.snapshotsServed();
    const w = await o2.session.write!({ name: 'cam-grab', connection: c2 }, [{ point: pt('1', 'snapshot.take', 'bool'), value: true }], AbortSignal.timeout(10_000));
    assert.deepEqual(w, [{ id: '1', ok: true }]);
    assert.equal(cam.sim.snapshotsServed(), served, 'not fetched from the snapshot URI');
    const rs = await o2.session.read({ name: 'cam-grab', connection: c2 }, [pt('2', 'snapshot.path', 'string')], AbortSignal.timeout(10_000));
    const bytes = readFileSync(value(rs, '2') as string);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  } finally {
    await o2.session.close();
  }
});

test('a camera without ONVIF (streamAddress only): stream health and stream snapshots work, ONVIF addresses are Unsupported', async () => {
  const c = descriptor.connectionSchema.parse({ streamAddress: cam.sim.rtspUrls.sub, timeout: '2s', probe: { timeout: '8s' }, snapshot: { timeout: '8s' } });
  const { driver, session } = await open(c);
  const dev = { name: 'cam-rtsp', connection: c };
  try {
    const rs = await session.read(dev, [pt('1', 'online', 'bool'), pt('2', 'stream.codec', 'string'), pt('3', 'info.model', 'string'), pt('4', 'ptz.pan', 'float32'), pt('5', 'stream.uri', 'string')], AbortSignal.timeout(15_000));
    assert.equal(value(rs, '1'), true);
    assert.equal(value(rs, '2'), 'h264');
    assert.equal(value(rs, '5'), cam.sim.rtspUrls.sub);
    for (const id of ['3', '4']) {
      const r = rs.find((x) => x.id === id)!;
      assert.ok(r.quality === 'bad' && r.error.code === 'Unsupported' && /needs the ONVIF service/.test(r.error.message));
    }
    const w = await session.write!(dev, [{ point: pt('6', 'snapshot.take', 'bool'), value: true }], AbortSignal.timeout(10_000));
    assert.deepEqual(w, [{ id: '6', ok: true }]);
    const ptz = await session.write!(dev, [{ point: pt('7', 'ptz.stop', 'bool'), value: true }], AbortSignal.timeout(10_000));
    assert.ok(!ptz[0]!.ok && ptz[0]!.error.code === 'Unsupported');
  } finally {
    await session.close();
    await driver.close?.();
  }
});
