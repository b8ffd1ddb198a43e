/**
 * The camera driver against the camera simulator (no stream needed here), all on 127.0.0.1:
 * PTZ commands and rejected values; motion and tampering events through the pull-point loop;
 * wrong credentials; camera gone and back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { descriptor } from '../../src/drivers/ipc/index.ts';
import type { IpcAddress } from '../../src/drivers/ipc/address.ts';
import type { IpcConnection } from '../../src/drivers/ipc/connection.ts';
import type { ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import { CameraFixture, pt, value } from './camera-fixture.ts';

const cam = new CameraFixture('cmd');
before(() => cam.start());
after(() => cam.stop());
const conn = (extra?: Record<string, unknown>): IpcConnection => cam.conn(extra);
const open = (c: IpcConnection) => cam.open(c);

test('PTZ: moves, stop and preset reach the camera; bad values are rejected and nothing is sent', async () => {
  const c = conn();
  const { driver, session } = await open(c);
  const dev = { name: 'cam-ptz', connection: c };
  const move = pt('1', 'ptz.move', 'string');
  const stop = pt('2', 'ptz.stop', 'bool');
  const preset = pt('3', 'ptz.preset', 'string');
  const sig = () => AbortSignal.timeout(10_000);
  try {
    assert.deepEqual(await session.write!(dev, [{ point: move, value: '{"pan":0.5,"tilt":-0.25,"zoom":0.2,"mode":"absolute"}' }], sig()), [{ id: '1', ok: true }]);
    let s = cam.sim.ptzState();
    assert.equal(s.lastCommand, 'AbsoluteMove');
    assert.ok(Math.abs(s.pan - 0.5) < 1e-9 && Math.abs(s.tilt + 0.25) < 1e-9 && Math.abs(s.zoom - 0.2) < 1e-9, JSON.stringify(s));
    const rs = await session.read(dev, [pt('4', 'ptz.pan', 'float64'), pt('5', 'ptz.tilt', 'float64'), pt('6', 'ptz.move', 'string')], sig());
    assert.ok(Math.abs((value(rs, '4') as number) - 0.5) < 1e-6);
    assert.ok(Math.abs((value(rs, '5') as number) + 0.25) < 1e-6);
    assert.match(value(rs, '6') as string, /"mode":"absolute"/);
    assert.deepEqual(await session.write!(dev, [{ point: move, value: '{"pan":0.1,"mode":"continuous"}' }], sig()), [{ id: '1', ok: true }]);
    assert.equal(cam.sim.ptzState().lastCommand, 'ContinuousMove');
    assert.deepEqual(await session.write!(dev, [{ point: stop, value: true }], sig()), [{ id: '2', ok: true }]);
    assert.equal(cam.sim.ptzState().lastCommand, 'Stop');
    assert.deepEqual(await session.write!(dev, [{ point: move, value: '{"tilt":0.1}' }], sig()), [{ id: '1', ok: true }]);
    assert.equal(cam.sim.ptzState().lastCommand, 'RelativeMove');
    const presetResult = await session.write!(dev, [{ point: preset, value: '1' }], sig());
    const gone = cam.sim.ptzState().lastCommand;
    // The simulator may or may not know preset "1"; the command reaches it either way.
    assert.equal(gone, 'GotoPreset', JSON.stringify(presetResult));
    // Bad values: BadValue with a message, and the camera sees nothing.
    s = cam.sim.ptzState();
    const before = JSON.stringify(s.commands);
    const bad = await session.write!(dev, [{ point: move, value: '{"pan":3}' }, { point: stop, value: true }], sig());
    assert.equal(bad[0]!.ok, false);
    assert.ok(!bad[0]!.ok && bad[0]!.error.code === 'BadValue' && /pan 3 is outside \[-1, 1\]/.test(bad[0]!.error.message), JSON.stringify(bad));
    assert.ok(!bad[1]!.ok && bad[1]!.error.code === 'BadValue' && /not sent/.test(bad[1]!.error.message));
    const inj = await session.write!(dev, [{ point: preset, value: '</PresetToken>' }], sig());
    assert.ok(!inj[0]!.ok && inj[0]!.error.code === 'BadValue');
    assert.equal(JSON.stringify(cam.sim.ptzState().commands), before, 'no PTZ request after rejected values');
    const ro = await session.write!(dev, [{ point: pt('9', 'info.model', 'string'), value: 'x' }], sig());
    assert.ok(!ro[0]!.ok && ro[0]!.error.code === 'Unsupported');
  } finally {
    await session.close();
    await driver.close?.();
  }
});

test('events: a motion alarm reaches sink.event (and event.motion points) through the pull-point loop', async () => {
  const c = conn({ events: true });
  const { driver, session } = await open(c);
  const events: { events: Record<string, unknown>; ts?: number }[] = [];
  const values: ReadResult[] = [];
  try {
    const sub = await session.subscribe!({ name: 'cam-ev', connection: c }, [pt('1', 'event.motion', 'bool')], {
      values: (_d, rs) => values.push(...rs),
      error: () => undefined,
      event: (_d, e, ts) => events.push({ events: { ...e }, ...(ts !== undefined ? { ts } : {}) }),
    });
    const wait = async (pred: () => boolean, what: string) => {
      const end = Date.now() + 8000;
      while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      assert.ok(pred(), what);
    };
    await wait(() => events.length > 0, 'the initial state arrives after subscribing');
    cam.sim.raise('motion', true);
    await wait(() => events.some((e) => (e.events.motion as { state?: boolean } | undefined)?.state === true), 'a motion event');
    const m = events.find((e) => (e.events.motion as { state?: boolean } | undefined)?.state === true)!;
    assert.deepEqual(Object.keys(m.events), ['motion']);
    assert.equal((m.events.motion as { topic: string }).topic, 'VideoSource/MotionAlarm');
    assert.ok(typeof m.ts === 'number' && Math.abs(m.ts - Date.now()) < 60_000);
    assert.ok(values.some((v) => v.id === '1' && v.quality === 'good' && v.value === true));
    const rs = await session.read({ name: 'cam-ev', connection: c }, [pt('1', 'event.motion', 'bool')], AbortSignal.timeout(5000));
    assert.equal(value(rs, '1'), true);
    cam.sim.raise('tamper', true);
    await wait(() => events.some((e) => (e.events.tamper as { state?: boolean } | undefined)?.state === true), 'a tamper event');
    await sub.close();
  } finally {
    await session.close();
    await driver.close?.();
  }
});

test('wrong credentials: connect fails with Config (reason Unauthorized), quickly and once', async () => {
  const c = conn({ password: 'wrong' });
  const driver = descriptor.create(cam.context());
  const t0 = Date.now();
  await assert.rejects(
    driver.connect(c, { signal: new AbortController().signal, onLost: () => undefined }),
    (e: { code?: string; detail?: { reason?: string }; message?: string }) => e.code === 'Config' && e.detail?.reason === 'Unauthorized' && /credentials/.test(e.message ?? ''),
  );
  assert.ok(Date.now() - t0 < 5000);
});

test('camera gone: reads fail Offline/Timeout; back: a new connect reads again', async () => {
  const c = conn({ timeout: '2s' });
  const { driver, session } = await open(c);
  const dev = { name: 'cam-gone', connection: c };
  try {
    assert.equal(value(await session.read(dev, [pt('1', 'online', 'bool')], AbortSignal.timeout(5000)), '1'), true);
    await cam.sim.pause();
    await assert.rejects(session.read(dev, [pt('1', 'online', 'bool')], AbortSignal.timeout(5000)), (e: { code?: string }) => e.code === 'Offline' || e.code === 'Timeout');
    await assert.rejects(driver.connect(c, { signal: new AbortController().signal, onLost: () => undefined }), (e: { code?: string }) => e.code === 'Offline' || e.code === 'Timeout');
    await cam.sim.resume();
    // The gateway retries with backoff; here a few tries cover a slow restart on a busy machine.
    let again: Session<IpcConnection, IpcAddress> | undefined;
    for (let i = 0; i < 5 && again === undefined; i++) {
      again = await driver.connect(c, { signal: new AbortController().signal, onLost: () => undefined }).catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        return undefined;
      });
    }
    assert.ok(again, 'connects again after resume');
    assert.equal(value(await again.read(dev, [pt('1', 'online', 'bool')], AbortSignal.timeout(5000)), '1'), true);
    await again.close();
  } finally {
    await session.close();
    await driver.close?.();
  }
});

