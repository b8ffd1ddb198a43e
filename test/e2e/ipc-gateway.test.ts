/**
 * Camera simulator → gateway (driver `ipc`) → broker → subscriber, all on 127.0.0.1: device
 * information, profiles, stream URI and ffprobe health reach property/post; scheduled snapshots
 * are saved as JPEG and reported; a PTZ delta moves the simulated head and a bad one is rejected
 * with nothing sent; a motion alarm becomes thing.event.post; a camera with the wrong password
 * logs a clear auth error and retries only at the backoff's pace; a camera that goes away goes
 * offline and comes back online.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import type { Line } from '../helpers/log.ts';
import { delta, eventually, freePort, Recorder, startTestGateway, writeConf } from './harness.ts';

const MODELS = `
camera:
  - {name: manufacturer, type: string, mode: ro}
  - {name: model, type: string, mode: ro}
  - {name: serial, type: string, mode: ro}
  - {name: profile-count, type: int32, mode: ro}
  - {name: main-width, type: int32, mode: ro}
  - {name: main-stream-uri, type: string, mode: ro}
  - {name: stream-codec, type: string, mode: ro}
  - {name: stream-fps, type: float32, mode: ro}
  - {name: stream-last-frame, type: int64, mode: ro}
  - {name: snapshot-path, type: string, mode: ro}
  - {name: snapshot-size, type: int32, mode: ro}
  - {name: snapshot-take, type: bool, mode: rw}
  - {name: ptz-move, type: string, mode: rw}
  - {name: ptz-stop, type: bool, mode: rw}
  - {name: ptz-pan, type: float64, mode: ro}
  - {name: motion, type: bool, mode: ro}
`;

const TEMPLATE = `
camera-tpl:
  properties:
    - {name: manufacturer, id: "1", type: string, visitor: {ipc: info.manufacturer}}
    - {name: model, id: "2", type: string, visitor: {ipc: info.model}}
    - {name: serial, id: "3", type: string, visitor: {ipc: info.serial}}
    - {name: profile-count, id: "4", type: int32, visitor: {ipc: profiles.count}}
    - {name: main-width, id: "5", type: int32, visitor: {ipc: "profile[main].width"}}
    - {name: main-stream-uri, id: "6", type: string, visitor: {ipc: "profile[main].streamUri"}}
    - {name: stream-codec, id: "7", type: string, visitor: {ipc: {address: stream.codec}}}
    - {name: stream-fps, id: "8", type: float32, visitor: {ipc: stream.fps}}
    - {name: stream-last-frame, id: "9", type: int64, visitor: {ipc: stream.lastFrameTs}}
    - {name: snapshot-path, id: "10", type: string, visitor: {ipc: snapshot.path}}
    - {name: snapshot-size, id: "11", type: int32, visitor: {ipc: snapshot.size}}
    - {name: snapshot-take, id: "12", type: bool, visitor: {ipc: snapshot.take}}
    - {name: ptz-move, id: "13", type: string, visitor: {ipc: ptz.move}}
    - {name: ptz-stop, id: "14", type: bool, visitor: {ipc: ptz.stop}}
    - {name: ptz-pan, id: "15", type: float64, visitor: {ipc: ptz.pan}}
    - {name: motion, id: "16", type: bool, visitor: {ipc: event.motion}}
  mappings:
    - {attribute: manufacturer, type: value, expression: x1}
    - {attribute: model, type: value, expression: x2}
    - {attribute: serial, type: value, expression: x3}
    - {attribute: profile-count, type: value, expression: x4}
    - {attribute: main-width, type: value, expression: x5}
    - {attribute: main-stream-uri, type: value, expression: x6}
    - {attribute: stream-codec, type: value, expression: x7}
    - {attribute: stream-fps, type: value, expression: x8, precision: 1}
    - {attribute: stream-last-frame, type: value, expression: x9}
    - {attribute: snapshot-path, type: value, expression: x10}
    - {attribute: snapshot-size, type: value, expression: x11}
    - {attribute: snapshot-take, type: value, expression: x12}
    - {attribute: ptz-move, type: value, expression: x13}
    - {attribute: ptz-stop, type: value, expression: x14}
    - {attribute: ptz-pan, type: value, expression: x15, precision: 3}
    - {attribute: motion, type: value, expression: x16}
`;

function devices(port: number): string {
  return `
devices:
  - name: cam-1
    version: "1"
    deviceModel: camera
    accessTemplate: camera-tpl
    accessConfig:
      ipc:
        ip: 127.0.0.1
        port: ${port}
        username: admin
        password: s3cret
        interval: 1s
        timeout: 5s
        events: true
        probe: {interval: 5s, timeout: 8s}
        snapshot: {every: 1s, keep: 3, profile: sub, publishTopic: cams/cam-1/snapshot}
        service: {imageFormat: jpg, cacheTime: 3}
  - name: cam-bad
    version: "1"
    deviceModel: camera
    accessTemplate: camera-tpl
    accessConfig:
      ipc: {ip: 127.0.0.1, port: ${port}, username: admin, password: wrong, interval: 1s, timeout: 2s}
driver: ""
`;
}

let conf: { dir: string; cleanup: () => void };
let sim: CameraSimulator;
let gateway: Gateway;
let lines: Line[];
let rec: Recorder;
let startedAt = 0;

before(async () => {
  sim = await startCameraSimulator({ username: 'admin', password: 's3cret', rtsp: true });
  const mqttPort = await freePort();
  conf = writeConf(
    {
      gateway: `node: e2e-ipc\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: cams, driver: ipc}\n`,
      models: MODELS,
      template: TEMPLATE,
      devices: devices(sim.port),
    },
    'cams',
  );
  startedAt = Date.now();
  ({ gateway, lines } = await startTestGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await sim?.stop();
  conf?.cleanup();
});

type Props = Record<string, unknown>;
const post = (pred: (p: Props) => boolean) => (m: { topic: string; json: any }) =>
  m.topic === 'thing/camera/cam-1/property/post' && pred(m.json.content.blink.properties as Props);
const lifecycle = (device: string, online: boolean) => (m: { topic: string; json: any }) =>
  m.topic === `thing/camera/${device}/lifecycle/post` && m.json.content.blink.params.online_state === online;

test('device information, profiles, stream URI and ffprobe health arrive on property/post', async () => {
  const m = await rec.waitFor(post((p) => 'manufacturer' in p && 'main-stream-uri' in p), 15_000, 'a cam-1 report with device information');
  const p = m.json.content.blink.properties as Props;
  assert.equal(m.json.kind, 'deviceReport');
  assert.deepEqual(m.json.meta, { device: 'cam-1', deviceProduct: 'camera', accessTemplate: 'camera-tpl', node: 'e2e-ipc', nodeProduct: 'BIE-Product' });
  assert.equal(p.manufacturer, 'Fieldgate');
  assert.equal(p.model, 'SIM-IPC-1');
  assert.equal(p.serial, 'FG-IPC-0001');
  assert.equal(p['profile-count'], 2);
  assert.equal(p['main-width'], 1280);
  assert.equal(p['main-stream-uri'], sim.rtspUrls.main);
  const h = await rec.waitFor(post((q) => q['stream-codec'] === 'h264'), 20_000, 'stream health from ffprobe');
  const q = h.json.content.blink.properties as Props;
  assert.ok((q['stream-fps'] as number) > 5 && (q['stream-fps'] as number) <= 15, `fps ${q['stream-fps']}`);
  assert.ok(Math.abs((q['stream-last-frame'] as number) - Date.now()) < 60_000);
  await rec.waitFor(lifecycle('cam-1', true), 5000, 'cam-1 online');
});

test('scheduled snapshots are saved as JPEG under the data directory and reported', async () => {
  const m = await rec.waitFor(post((p) => typeof p['snapshot-path'] === 'string'), 15_000, 'a snapshot path');
  const p = m.json.content.blink.properties as Props;
  const file = p['snapshot-path'] as string;
  assert.ok(file.startsWith(path.join(conf.dir, 'data', 'drivers', 'cams', 'ipc', 'cam-1') + path.sep), file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    // Kept are the newest 3 of one per second: read the latest one instead.
    const latest = [...rec.messages].reverse().find((x) => post((q) => typeof q['snapshot-path'] === 'string')(x))!;
    bytes = readFileSync(latest.json.content.blink.properties['snapshot-path']);
  }
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  assert.ok(typeof p['snapshot-size'] === 'number' && p['snapshot-size'] > 1000);
  assert.ok(sim.snapshotsServed() >= 1);
});

test('each snapshot is also published as JPEG bytes on snapshot.publishTopic', async () => {
  const sub = await mqtt.connectAsync(gateway.brokerUrl, { reconnectPeriod: 0 });
  try {
    const got = new Promise<Buffer>((resolve) => sub.on('message', (_t, payload) => resolve(payload)));
    await sub.subscribeAsync('cams/cam-1/snapshot');
    const bytes = await Promise.race([got, new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('no snapshot bytes within 10 s')), 10_000))]);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG SOI');
    assert.deepEqual([...bytes.subarray(-2)], [0xff, 0xd9], 'JPEG EOI: the whole image');
  } finally {
    await sub.endAsync();
  }
});

test('a PTZ delta moves the head; a bad value is rejected and nothing reaches the camera', async () => {
  await rec.waitFor(lifecycle('cam-1', true), 10_000, 'cam-1 online');
  await rec.publish('thing/camera/cam-1/property/invoke', delta('cam-1', { 'ptz-move': '{"pan":0.4,"tilt":0.1,"mode":"absolute"}' }, 'req-move'));
  await eventually(() => (sim.ptzState().commands.AbsoluteMove ?? 0) >= 1 && Math.abs(sim.ptzState().pan - 0.4) < 1e-9, 15_000, 'the absolute move at the camera').catch((e: Error) => {
    throw new Error(`${e.message}; gateway said: ${JSON.stringify(lines.filter((l) => l.level === 'warn' || l.level === 'error').slice(-5))}`);
  });
  await rec.waitFor(post((p) => typeof p['ptz-pan'] === 'number' && Math.abs((p['ptz-pan'] as number) - 0.4) < 1e-6), 10_000, 'the new pan reported');
  const stops = sim.ptzState().commands.Stop ?? 0;
  await rec.publish('thing/camera/cam-1/property/invoke', delta('cam-1', { 'ptz-stop': true }, 'req-stop'));
  await eventually(() => (sim.ptzState().commands.Stop ?? 0) === stops + 1, 10_000, 'Stop at the camera');
  // Polls read the position (GetStatus); commands are everything else.
  const moves = () => JSON.stringify(Object.entries(sim.ptzState().commands).filter(([k]) => k !== 'GetStatus'));
  const before = moves();
  const since = Date.now();
  await rec.publish('thing/camera/cam-1/property/invoke', delta('cam-1', { 'ptz-move': '{"pan":3}' }, 'req-bad'));
  const err = await rec.waitFor((m) => JSON.stringify(m.json).includes('pan 3 is outside [-1, 1]'), 10_000, 'the rejection answer', since);
  assert.match(JSON.stringify(err.json), /BadValue|WriteFailed/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(moves(), before, 'no PTZ request for the bad value');
});

test('a motion alarm becomes thing.event.post on the eventReport topic', async () => {
  const since = Date.now();
  sim.raise('motion', true);
  const m = await rec.waitFor(
    (x) => x.topic === 'thing/camera/cam-1/event/post' && x.json.content?.blink?.events?.motion?.state === true,
    10_000,
    'a motion event',
    since,
  );
  assert.equal(m.json.kind, 'thing.event.post');
  assert.equal(m.json.content.blink.method, 'thing.event.post');
  assert.equal(m.json.content.blink.events.motion.topic, 'VideoSource/MotionAlarm');
  await rec.waitFor(post((p) => p.motion === true), 10_000, 'the motion property');
});

test('wrong credentials: a clear auth error, offline, and connection attempts bounded by the backoff', async () => {
  const link = gateway.linkOfDevice('cam-bad')!;
  await eventually(() => link.error?.code === 'Config', 10_000, 'the auth error on the link');
  assert.match(link.error!.message, /refused the credentials/);
  assert.equal(gateway.devices.get('cam-bad')!.isOnline, false, 'cam-bad is offline');
  const logged = lines.find((l) => l.msg === 'link state' && (l.obj as { code?: string }).code === 'Config');
  assert.ok(logged, 'the link state change is logged with its code');
  assert.match((logged.obj as { error: string }).error, /check username\/password/);
  // Backoff from 0.5 s doubling with 50 % jitter: attempt k waits at least 0.25 s × 2^k, so in
  // T seconds there are at most log2(4T + 1) + 1 attempts. A spinning driver would make hundreds.
  const t = (Date.now() - startedAt) / 1000;
  const bound = Math.floor(Math.log2(4 * t + 1)) + 1;
  assert.ok(link.stats.failures >= 2, `retries at all (${link.stats.failures})`);
  assert.ok(link.stats.failures <= bound, `${link.stats.failures} failed connects in ${t.toFixed(1)} s (bound ${bound})`);
  assert.equal(link.stats.connects, 0);
  assert.ok(!rec.messages.some((m) => m.topic === 'thing/camera/cam-bad/property/post'), 'no values from cam-bad');
});

test('camera gone → offline; back → online, without a gateway restart', async () => {
  await rec.waitFor(lifecycle('cam-1', true), 10_000, 'cam-1 online first');
  const t0 = Date.now();
  await sim.pause();
  await rec.waitFor(lifecycle('cam-1', false), 10_000, 'cam-1 offline', t0);
  const t1 = Date.now();
  await sim.resume();
  await rec.waitFor(lifecycle('cam-1', true), 20_000, 'cam-1 online again', t1);
  await rec.waitFor(post((p) => p.manufacturer === 'Fieldgate'), 10_000, 'values again', t1);
});
