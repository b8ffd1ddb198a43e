/**
 * The camera simulator against a real ONVIF client: the `onvif` package's `Cam`, the client the
 * ipc driver uses. Covers connect (WS-Security and HTTP Digest), device information, profiles,
 * stream and snapshot URIs, snapshots, PTZ, presets, pull-point events and wrong credentials.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import onvif from 'onvif';
import type { DeviceInformation } from 'onvif';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';

type Cam = InstanceType<typeof onvif.Cam>;

/** The fields of a connected Cam these tests read (as `onvif` parses them). */
interface CamView {
  uri: Record<string, { path: string }>;
  profiles: { $: { token: string }; videoEncoderConfiguration: { resolution: { width: number }; rateControl: { frameRateLimit: number } } }[];
  activeSource: { profileToken: string; encoding: string; width: number; height: number; fps: number; bitrate: number };
}
const view = (cam: Cam): CamView => cam as unknown as CamView;

/** Connects a Cam; resolves with it, rejects with the connect error. */
function connectCam(opts: { port: number; username?: string; password?: string; useWSSecurity?: boolean }): Promise<Cam> {
  return new Promise((resolve, reject) => {
    const cam: Cam = new onvif.Cam({ hostname: '127.0.0.1', timeout: 5000, autoconnect: false, ...opts });
    cam.connect((err: Error | null) => (err ? reject(err) : resolve(cam)));
  });
}

/** Calls a callback-style Cam method. */
function call<T>(fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data as T))));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** HTTP Digest GET (RFC 7616, MD5, qop=auth) as a client would do it. */
async function digestGet(url: string, user: string, pass: string): Promise<Response> {
  const first = await fetch(url);
  await first.arrayBuffer();
  assert.equal(first.status, 401);
  const ch = first.headers.get('www-authenticate') ?? '';
  const realm = /realm="([^"]*)"/.exec(ch)?.[1] ?? '';
  const nonce = /nonce="([^"]*)"/.exec(ch)?.[1] ?? '';
  const uri = new URL(url).pathname;
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const cnonce = randomBytes(4).toString('hex');
  const response = md5(`${md5(`${user}:${realm}:${pass}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`GET:${uri}`)}`);
  return fetch(url, { headers: { Authorization: `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}"` } });
}

describe('camera simulator with the onvif client', () => {
  let sim: CameraSimulator;
  let cam: Cam;

  before(async () => {
    sim = await startCameraSimulator({ username: 'admin', password: 'secret', info: { manufacturer: 'Acme', model: 'Cam-9', serialNumber: 'SN-42X', firmwareVersion: '9.1', hardwareId: 'HW-7' } });
    cam = await connectCam({ port: sim.port, username: 'admin', password: 'secret' });
  });
  after(async () => {
    await sim.stop();
  });

  test('connect finds services, profiles and the default profile', () => {
    const v = view(cam);
    assert.equal(v.uri['media']?.path, '/onvif/media_service');
    assert.equal(v.uri['ptz']?.path, '/onvif/ptz_service');
    assert.equal(v.uri['events']?.path, '/onvif/events_service');
    assert.deepEqual(v.profiles.map((p) => p.$.token), ['main', 'sub']);
    const a = v.activeSource;
    assert.deepEqual([a.profileToken, a.encoding, a.width, a.height, a.fps, a.bitrate], ['main', 'H264', 1280, 720, 25, 4096]);
    assert.equal(v.profiles[1]?.videoEncoderConfiguration.resolution.width, 320);
    assert.equal(v.profiles[1]?.videoEncoderConfiguration.rateControl.frameRateLimit, 10);
  });

  test('device information comes from the options', async () => {
    const info = await call<Record<string, unknown>>((cb) => cam.getDeviceInformation(cb));
    assert.deepEqual(info, { manufacturer: 'Acme', model: 'Cam-9', firmwareVersion: 9.1, serialNumber: 'SN-42X', hardwareId: 'HW-7' });
    const scopes = await call<{ scopeItem: string }[]>((cb) => cam.getScopes(cb));
    assert.ok(scopes.some((s) => s.scopeItem === 'onvif://www.onvif.org/hardware/Cam-9'));
  });

  test('stream and snapshot URIs per profile; snapshots are rotating JPEGs behind digest auth', async () => {
    const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb));
    assert.match(stream.uri, /^rtsp:\/\/127\.0\.0\.1:\d+\/sub$/);
    const snap = await call<{ uri: string }>((cb) => cam.getSnapshotUri({ profileToken: 'sub' }, cb));
    assert.equal(snap.uri, `http://127.0.0.1:${sim.port}/snapshot/sub.jpg`);
    const before = sim.snapshotsServed();
    const frames: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await digestGet(snap.uri, 'admin', 'secret');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      frames.push(Buffer.from(await res.arrayBuffer()));
    }
    for (const f of frames) {
      assert.deepEqual([...f.subarray(0, 2)], [0xff, 0xd8]);
      assert.deepEqual([...f.subarray(-2)], [0xff, 0xd9]);
    }
    assert.notDeepEqual(frames[0], frames[1]);
    assert.equal(sim.snapshotsServed(), before + 2);
    const basic = await fetch(snap.uri, { headers: { Authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` } });
    assert.equal(basic.status, 200);
    await basic.arrayBuffer();
    const wrong = await fetch(snap.uri, { headers: { Authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
    assert.equal(sim.snapshotsServed(), before + 3);
    await assert.rejects(call((cb) => cam.getStreamUri({ profileToken: 'nope' }, cb)), /no profile "nope"/);
  });

  test('PTZ continuous move changes the position over time until Stop', async () => {
    await call((cb) => cam.continuousMove({ x: 0.5, y: -0.25, zoom: 0 }, cb));
    assert.equal(sim.ptzState().moving, true);
    await sleep(300);
    const mid = await call<{ position: { x: number; y: number }; moveStatus: { panTilt: string } }>((cb) => cam.getStatus({}, cb));
    assert.ok(mid.position.x > 0.05 && mid.position.x < 1, `pan ${mid.position.x}`);
    assert.ok(mid.position.y < -0.02, `tilt ${mid.position.y}`);
    assert.equal(mid.moveStatus.panTilt, 'MOVING');
    await call((cb) => cam.stop({ panTilt: true, zoom: true }, cb));
    const s1 = sim.ptzState();
    assert.equal(s1.moving, false);
    await sleep(100);
    const s2 = sim.ptzState();
    assert.equal(s2.pan, s1.pan);
    assert.ok(s2.pan > mid.position.x);
    assert.equal(s2.lastCommand, 'Stop');
    assert.equal(s2.commands['ContinuousMove'], 1);
    const status = await call<{ position: { x: number }; moveStatus: { panTilt: string } }>((cb) => cam.getStatus({}, cb));
    assert.equal(status.moveStatus.panTilt, 'IDLE');
    assert.equal(status.position.x, s2.pan);
  });

  test('absolute, relative moves and presets', async () => {
    await call((cb) => cam.absoluteMove({ x: -0.5, y: 0.5, zoom: 0.25 }, cb));
    assert.deepEqual([sim.ptzState().pan, sim.ptzState().tilt, sim.ptzState().zoom], [-0.5, 0.5, 0.25]);
    await call((cb) => cam.relativeMove({ x: 0.25, y: 0, zoom: 0.25 }, cb));
    assert.deepEqual([sim.ptzState().pan, sim.ptzState().zoom], [-0.25, 0.5]);
    const presets = await call<Record<string, { $: { token: string } }>>((cb) => cam.getPresets({}, cb));
    assert.deepEqual(Object.keys(presets).sort(), ['Gate', 'Home']);
    await call((cb) => cam.gotoPreset({ preset: presets['Gate']!.$.token }, cb));
    assert.deepEqual([sim.ptzState().pan, sim.ptzState().tilt, sim.ptzState().zoom], [0.5, -0.25, 0.2]);
    await call((cb) => cam.absoluteMove({ x: 0.1, y: 0.2, zoom: 0.3 }, cb));
    const set = await call<unknown>((cb) => cam.setPreset({ presetName: 'Door' }, cb));
    assert.ok(set !== undefined);
    await call((cb) => cam.gotoPreset({ preset: presets['Home']!.$.token }, cb));
    assert.deepEqual([sim.ptzState().pan, sim.ptzState().tilt, sim.ptzState().zoom], [0, 0, 0]);
    const after = await call<Record<string, { $: { token: string } }>>((cb) => cam.getPresets({}, cb));
    await call((cb) => cam.gotoPreset({ preset: after['Door']!.$.token }, cb));
    assert.deepEqual([sim.ptzState().pan, sim.ptzState().tilt, sim.ptzState().zoom], [0.1, 0.2, 0.3]);
    await assert.rejects(call((cb) => cam.gotoPreset({ preset: 'no-such' }, cb)), /no preset/);
    const nodes = await call<Record<string, unknown>>((cb) => cam.getNodes(cb));
    assert.deepEqual(Object.keys(nodes), ['PTZNode_1']);
    const confs = await call<Record<string, { nodeToken: string }>>((cb) => cam.getConfigurations(cb));
    assert.equal(confs['PTZConfig']?.nodeToken, 'PTZNode_1');
  });

  test('pull-point events: initial states, then raised motion and tamper', async () => {
    const sub = await call<{ subscriptionReference: { address: { path: string } } }>((cb) => cam.createPullPointSubscription(cb));
    assert.match(sub.subscriptionReference.address.path, /^\/onvif\/subscription\/\d+$/);
    const first = await call<{ notificationMessage: unknown[] }>((cb) => cam.pullMessages({ messageLimit: 10 }, cb));
    const topics = (m: unknown): string => (m as { topic: { _: string } }).topic._;
    const state = (m: unknown): unknown => (m as { message: { message: { data: { simpleItem: { $: { Value: unknown } } } } } }).message.message.data.simpleItem.$.Value;
    const op = (m: unknown): unknown => (m as { message: { message: { $: { PropertyOperation: string } } } }).message.message.$.PropertyOperation;
    assert.deepEqual(first.notificationMessage.map((m) => [topics(m), op(m), state(m)]), [
      ['tns1:VideoSource/MotionAlarm', 'Initialized', false],
      ['tns1:VideoSource/GlobalSceneChange/ImagingService', 'Initialized', false],
    ]);
    // The client asks for a 1 min long poll; raising must end it early.
    const t0 = Date.now();
    setTimeout(() => {
      sim.raise('motion', true);
      sim.raise('tamper', true);
    }, 200);
    const second = await call<{ notificationMessage: unknown }>((cb) => cam.pullMessages({ messageLimit: 10 }, cb));
    assert.ok(Date.now() - t0 < 5000);
    const msgs = ([] as unknown[]).concat(second.notificationMessage);
    // The pull may have been answered on the first raise; collect the rest.
    if (msgs.length < 2) msgs.push(...([] as unknown[]).concat((await call<{ notificationMessage: unknown }>((cb) => cam.pullMessages({ messageLimit: 10 }, cb))).notificationMessage));
    assert.deepEqual(msgs.map((m) => [topics(m), op(m), state(m)]), [
      ['tns1:VideoSource/MotionAlarm', 'Changed', true],
      ['tns1:VideoSource/GlobalSceneChange/ImagingService', 'Changed', true],
    ]);
    const renewed = await call<{ terminationTime: Date }>((cb) => cam.renew({}, cb));
    assert.ok(renewed.terminationTime instanceof Date && renewed.terminationTime.getTime() > Date.now());
    await call((cb) => cam.unsubscribe(cb));
    const props = await call<{ topicSet: { videoSource: unknown } }>((cb) => cam.getEventProperties(cb));
    assert.ok(props.topicSet.videoSource !== undefined);
  });

  test('the event loop of Cam emits raised events', async () => {
    const c2 = await connectCam({ port: sim.port, username: 'admin', password: 'secret' });
    const seen: string[] = [];
    const got = new Promise<void>((resolve) => {
      c2.on('event', (m: { topic: { _: string }; message: { message: { $: { PropertyOperation: string }; data: { simpleItem: { $: { Value: boolean } } } } } }) => {
        seen.push(`${m.topic._}=${m.message.message.data.simpleItem.$.Value}/${m.message.message.$.PropertyOperation}`);
        if (m.message.message.$.PropertyOperation === 'Changed') resolve();
      });
    });
    // Raise only once the Cam's subscription exists (its Initialized messages have arrived).
    for (let i = 0; i < 200 && seen.length < 2; i++) await sleep(25);
    assert.equal(seen.length, 2, 'no Initialized messages from the Cam event loop');
    sim.raise('motion', false);
    await got;
    c2.removeAllListeners('event');
    assert.ok(seen.includes('tns1:VideoSource/MotionAlarm=false/Changed'), seen.join(' '));
    // Let the loop notice there is no listener and unsubscribe (ends its pending pull on the next round).
  });

  test('HTTP Digest mode (useWSSecurity false) works too', async () => {
    const c = await connectCam({ port: sim.port, username: 'admin', password: 'secret', useWSSecurity: false });
    const info = await call<DeviceInformation>((cb) => c.getDeviceInformation(cb));
    assert.equal(info.model, 'Cam-9');
  });

  test('wrong password: the client gets an auth error in both modes, the camera keeps serving', async () => {
    await assert.rejects(connectCam({ port: sim.port, username: 'admin', password: 'wrong' }), /not Authorized/i);
    await assert.rejects(connectCam({ port: sim.port, username: 'admin', password: 'wrong', useWSSecurity: false }), /Digest authentication failed 401/);
    await assert.rejects(connectCam({ port: sim.port, username: 'someone', password: 'secret' }), /not Authorized/i);
    const info = await call<DeviceInformation>((cb) => cam.getDeviceInformation(cb));
    assert.equal(info.model, 'Cam-9');
  });

  test('pause refuses connections; resume serves again on the same port', async () => {
    const port = sim.port;
    await sim.pause();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/onvif/device_service`, { method: 'POST', body: '' }));
    await sim.resume();
    assert.equal(sim.port, port);
    const info = await call<DeviceInformation>((cb) => cam.getDeviceInformation(cb));
    assert.equal(info.model, 'Cam-9');
  });
});
