/**
 * Pure parts of the camera driver: the configuration schema (Baetyl's keys and ours), address
 * parsing and type checks, ffprobe JSON parsing, ONVIF event mapping, PTZ value validation, HTTP
 * Digest (RFC 2617/7616 examples), the WS-Discovery codec and the fact table of reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIpcPoint, ipcAddressSchema, parseAddress, toPointValue } from '../../src/drivers/ipc/address.ts';
import type { IpcAddress } from '../../src/drivers/ipc/address.ts';
import { ipcConnectionSchema, ipcLinkKey } from '../../src/drivers/ipc/connection.ts';
import { folderName, withCredentials } from '../../src/drivers/ipc/device.ts';
import { mapNotification, toEventCalls, topicPath } from '../../src/drivers/ipc/events.ts';
import { factOf, resultOf } from '../../src/drivers/ipc/facts.ts';
import type { ReadView } from '../../src/drivers/ipc/facts.ts';
import { ffprobeArgs, parseFfprobe, parseRate, redact } from '../../src/drivers/ipc/ffprobe.ts';
import { forwardArgs, muxerFor, restartDelay } from '../../src/drivers/ipc/forward.ts';
import { digestAuthorization, parseDigestChallenge } from '../../src/drivers/ipc/http-auth.ts';
import { normalizeInfo, normalizeProfile, toOnvifError } from '../../src/drivers/ipc/onvif.ts';
import { parseMove, parsePtzWrite } from '../../src/drivers/ipc/ptz.ts';
import { isJpeg } from '../../src/drivers/ipc/snapshot.ts';
import type { PointType } from '../../src/devicemodel/types.ts';

test('connection: Baetyl keys with defaults (port 80, service.cacheTime 3, imageFormat jpg)', () => {
  const c = ipcConnectionSchema.parse({ ip: '127.0.0.1', username: 'admin', password: 'pw', service: { fps: 0.2, imageFormat: 'jpg', cachePath: 'img' } });
  assert.equal(c.port, 80);
  assert.equal(c.onvif, true);
  assert.equal(c.interval, 5000);
  assert.equal(c.service.cacheTime, 3);
  assert.equal(c.service.cachePath, 'img');
  // fps 0.2 → one snapshot every 5 s
  assert.equal(c.snapshotEvery, 5000);
  assert.equal(c.events, false);
  assert.equal(c.forward, undefined);
});

test('connection: a bare RTSP camera, agentEnable/remoteAddress become a forward section', () => {
  const c = ipcConnectionSchema.parse({ streamAddress: 'rtsp://10.0.0.5:554/live', agentEnable: true, remoteAddress: 'rtmp://127.0.0.1/live/cam', interval: '2s' });
  assert.equal(c.onvif, false);
  assert.equal(c.interval, 2000);
  assert.deepEqual(c.forward?.target, 'rtmp://127.0.0.1/live/cam');
  assert.equal(c.forward?.enabled, true);
  assert.equal(JSON.parse(ipcLinkKey(c))[1], 'rtsp://10.0.0.5:554/live');
  // Same camera, other password: another link (and the password is not in the key).
  const a = ipcConnectionSchema.parse({ ip: '127.0.0.1', username: 'u', password: 'right' });
  const b = ipcConnectionSchema.parse({ ip: '127.0.0.1', username: 'u', password: 'wrong' });
  assert.notEqual(ipcLinkKey(a), ipcLinkKey(b));
  assert.ok(!ipcLinkKey(a).includes('right'));
  const secretUrl = ipcConnectionSchema.parse({ streamAddress: 'rtsp://u:topsecret@10.0.0.5/live' });
  assert.ok(!ipcLinkKey(secretUrl).includes('topsecret'));
});

test('connection: our keys (snapshot, forward, probe, events) parse with durations', () => {
  const c = ipcConnectionSchema.parse({
    ip: 'cam.local',
    port: 8090,
    events: true,
    snapshot: { every: '1m', profile: 'main', keep: 3 },
    forward: { target: 'rtsp://127.0.0.1:9000/relay', profile: 1, enabled: false, backoff: { initial: '200ms', max: '5s' } },
    probe: { interval: '10s', timeout: '3s' },
    service: { fps: 25 },
  });
  assert.equal(c.snapshotEvery, 60_000); // snapshot.every wins over service.fps
  assert.deepEqual(c.forward?.backoff, { initial: 200, max: 5000 });
  assert.equal(c.forward?.enabled, false);
  assert.equal(c.probe.interval, 10_000);
  assert.equal(c.probe.timeout, 3000);
});

test('connection: service.fps is capped at one snapshot per second', () => {
  assert.equal(ipcConnectionSchema.parse({ ip: 'a', service: { fps: 25 } }).snapshotEvery, 1000);
});

test('connection: errors name the key and what is allowed', () => {
  const cases: [unknown, string, string][] = [
    [{}, 'streamAddress', 'give ip'],
    [{ onvif: true, streamAddress: 'rtsp://a/b' }, 'ip', 'needs the camera ip'],
    [{ ip: 'a', username: 'u' }, 'password', 'both username and password'],
    [{ ip: 'a', agentEnable: true }, 'remoteAddress', 'agentEnable'],
    [{ streamAddress: 'rtsp://a/b', events: true }, 'events', 'ONVIF event service'],
    [{ streamAddress: 'http://a/b' }, 'streamAddress', 'RTSP URL'],
    [{ ip: 'a', forward: { target: 'udp://x' } }, 'forward.target', 'relay target'],
    [{ ip: 'a', service: { cacheTime: 1 } }, 'service.cacheTime', ''],
    [{ ip: 'a', service: { imageFormat: 'png' } }, 'service.imageFormat', ''],
    [{ ip: 'a', bogus: 1 }, '', 'bogus'],
  ];
  for (const [input, path, text] of cases) {
    const r = ipcConnectionSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    const issues = r.error!.issues;
    assert.ok(
      issues.some((i) => i.path.join('.') === path && (i.message.includes(text) || JSON.stringify(i).includes(text))),
      `${JSON.stringify(input)}: ${JSON.stringify(issues)}`,
    );
  }
});

test('addresses: the grammar, selectors and errors', () => {
  const ok = (t: string) => {
    const r = parseAddress(t);
    assert.ok(r.ok, `${t}: ${JSON.stringify(r)}`);
    return r.target;
  };
  assert.deepEqual(ok('online'), { kind: 'online' });
  assert.deepEqual(ok('info.manufacturer'), { kind: 'info', field: 'manufacturer' });
  assert.deepEqual(ok('profile[0].width'), { kind: 'profile', profile: { index: 0 }, field: 'width' });
  assert.deepEqual(ok('profile[main].streamUri'), { kind: 'profile', profile: { key: 'main' }, field: 'streamUri' });
  assert.deepEqual(ok('stream.fps'), { kind: 'stream', field: 'fps' });
  assert.deepEqual(ok('stream[sub].lastFrameTs'), { kind: 'stream', profile: { key: 'sub' }, field: 'lastFrameTs' });
  assert.deepEqual(ok('snapshot.take'), { kind: 'snapshot', field: 'take' });
  assert.deepEqual(ok('ptz.move'), { kind: 'ptz', field: 'move' });
  assert.deepEqual(ok('forward.restarts'), { kind: 'forward', field: 'restarts' });
  assert.deepEqual(ok('event.motion'), { kind: 'event', field: 'motion' });
  for (const [bad, why] of [
    ['info.colour', 'info has the fields'],
    ['profile.width', 'name the profile'],
    ['snapshot[0].path', 'only profile[...]'],
    ['camera.x', 'not a camera address'],
    ['profile[0]', 'profile has the fields'],
  ] as const) {
    const r = parseAddress(bad);
    assert.ok(!r.ok && r.error.includes(why), `${bad}: ${JSON.stringify(r)}`);
  }
  // visitor.ipc: a string or {address, type}
  assert.equal(ipcAddressSchema.parse('ptz.pan').kind, 'ptz');
  assert.equal(ipcAddressSchema.parse({ address: 'stream.codec', type: 'string' }).type, 'string');
  assert.equal(ipcAddressSchema.safeParse({ address: 'nope' }).success, false);
});

test('addresses: the point type must fit what the address carries', () => {
  const check = (text: string, type: PointType) => checkIpcPoint({ id: '1', name: 'p', type, address: ipcAddressSchema.parse(text) });
  assert.deepEqual(check('profile[0].width', 'int32'), []);
  assert.deepEqual(check('stream.lastFrameTs', 'int64'), []);
  assert.deepEqual(check('stream.lastFrameTs', 'string'), []);
  assert.deepEqual(check('ptz.preset', 'int32'), []);
  assert.match(check('info.model', 'int32')[0]!.message, /carries string, not int32/);
  assert.match(check('online', 'string')[0]!.message, /carries bool/);
  assert.match(check('stream.fps', 'bool')[0]!.message, /numeric/);
});

test('values: facts become the point type (epoch ms → int64 bigint or ISO text)', () => {
  assert.equal(toPointValue(1_700_000_000_123, 'int64', 'time'), 1_700_000_000_123n);
  assert.equal(toPointValue(1_700_000_000_123, 'string', 'time'), '2023-11-14T22:13:20.123Z');
  assert.equal(toPointValue(29.97, 'int32', 'number'), 30);
  assert.equal(toPointValue(29.97, 'float32', 'number'), 29.97);
  assert.equal(toPointValue(1280, 'string', 'number'), '1280');
});

// ffprobe -v error -select_streams v:0 -read_intervals %+#8 -show_entries ... -of json, run on
// the simulator's RTSP stream (H.264 test pattern at 10 fps), trimmed: packets arrive out of
// order at the start (0.9 before 0.1), one is missing (0.4).
const FFPROBE_H264 = `{
 "packets": [ {"pts_time": "0.900000"}, {"pts_time": "0.100000"}, {"pts_time": "0.200000"},
              {"pts_time": "0.300000"}, {"pts_time": "0.500000"} ],
 "programs": [],
 "streams": [ {"codec_name": "h264", "width": 320, "height": 240, "r_frame_rate": "10/1", "avg_frame_rate": "10/1"} ]
}`;

test('ffprobe: JSON parsing measures fps from packet times (median gap), falls back to the declared rate', () => {
  assert.deepEqual(parseFfprobe(FFPROBE_H264), { ok: true, value: { codec: 'h264', width: 320, height: 240, fps: 10, frames: 5 } });
  const declared = parseFfprobe('{"streams":[{"codec_name":"hevc","width":1920,"height":1080,"avg_frame_rate":"0/0","r_frame_rate":"30000/1001"}]}');
  assert.deepEqual(declared, { ok: true, value: { codec: 'hevc', width: 1920, height: 1080, fps: 29.97, frames: 0 } });
  assert.deepEqual(parseFfprobe('{"streams":[]}'), { ok: false, error: 'the stream has no video track' });
  assert.deepEqual(parseFfprobe('garbage'), { ok: false, error: 'ffprobe printed no JSON' });
  assert.equal(parseRate('0/0'), undefined);
  assert.equal(parseRate('25'), 25);
});

test('ffprobe/ffmpeg argument lists: RTSP options only for rtsp URLs, copy relay, muxer by scheme', () => {
  const a = ffprobeArgs('rtsp://127.0.0.1:8554/main', { transport: 'udp', timeoutMs: 5000 });
  const t = a.indexOf('-rtsp_transport');
  assert.deepEqual(a.slice(t, t + 4), ['-rtsp_transport', 'udp', '-timeout', '5000000']);
  assert.ok(a.includes('stream=codec_name,width,height,avg_frame_rate,r_frame_rate:packet=pts_time'));
  assert.equal(a.at(-1), 'rtsp://127.0.0.1:8554/main');
  assert.ok(!ffprobeArgs('/tmp/x.ts', { transport: 'udp', timeoutMs: 1 }).includes('-rtsp_transport'));
  assert.equal(muxerFor('rtmp://h/live/x'), 'flv');
  assert.equal(muxerFor('rtsp://h/relay'), 'rtsp');
  const f = forwardArgs('rtsp://cam/main', 'rtmp://h/live/x', 'udp');
  const i = f.indexOf('-i');
  assert.deepEqual(f.slice(i - 2, i + 2), ['-rtsp_transport', 'udp', '-i', 'rtsp://cam/main']);
  assert.deepEqual(f.slice(-5), ['-c', 'copy', '-f', 'flv', 'rtmp://h/live/x']);
  assert.equal(redact('rtsp://admin:secret@cam:554/x'), 'rtsp://admin:***@cam:554/x');
  assert.equal(withCredentials('rtsp://cam:554/x', 'ad min', 'p@ss'), 'rtsp://ad%20min:p%40ss@cam:554/x');
  assert.equal(withCredentials('rtsp://u:p@cam/x', 'other', 'q'), 'rtsp://u:p@cam/x');
  assert.equal(folderName('../cam 1'), '.._cam_1');
});

test('forward backoff: doubling from the initial delay up to the maximum', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => restartDelay(n, 500, 5000)), [500, 1000, 2000, 4000, 5000]);
});

/** A NotificationMessage as the onvif package hands it over (after linerase). */
function notification(topic: string, data: Record<string, unknown>, utc = '2026-11-25T10:00:00Z', op = 'Changed') {
  return {
    subscriptionReference: { address: 'http://127.0.0.1/onvif/subscription/1' },
    topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
    message: {
      message: {
        $: { UtcTime: new Date(utc), PropertyOperation: op },
        source: { simpleItem: { $: { Name: 'Source', Value: 'VideoSource_1' } } },
        data: { simpleItem: Object.entries(data).map(([Name, Value]) => ({ $: { Name, Value } })) },
      },
    },
  };
}

test('events: motion, tampering and cell motion map to motion/tamper with state and source', () => {
  const m = mapNotification(notification('tns1:VideoSource/MotionAlarm', { State: true }));
  assert.deepEqual(m, {
    id: 'motion',
    payload: { state: true, source: 'VideoSource_1', topic: 'VideoSource/MotionAlarm', operation: 'Changed', data: { State: true } },
    ts: Date.parse('2026-11-25T10:00:00Z'),
  });
  assert.equal(mapNotification(notification('tns1:VideoSource/GlobalSceneChange/ImagingService', { State: 'false' }))?.id, 'tamper');
  assert.equal(mapNotification(notification('tns1:VideoSource/GlobalSceneChange/ImagingService', { State: 'false' }))?.payload.state, false);
  const cell = mapNotification(notification('tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: true }));
  assert.deepEqual([cell?.id, cell?.payload.state], ['motion', true]);
  const other = mapNotification(notification('tns1:Device/Trigger/DigitalInput', { LogicalState: true }));
  assert.equal(other?.id, 'event');
  assert.equal(other?.payload.topic, 'Device/Trigger/DigitalInput');
  assert.equal(topicPath('tns1:VideoSource/tnsx:Custom'), 'VideoSource/Custom');
  assert.equal(mapNotification({}), undefined);
  // One sink.event call per notification, in order.
  const calls = toEventCalls([notification('tns1:VideoSource/MotionAlarm', { State: true }), notification('tns1:VideoSource/MotionAlarm', { State: false })]);
  assert.deepEqual(calls.map((c) => (c.events.motion as { state: boolean }).state), [true, false]);
});

test('PTZ: valid moves, stop, preset; bad values rejected with clear messages', () => {
  assert.deepEqual(parseMove('{"pan":0.5,"tilt":-0.25,"mode":"relative"}'), { ok: true, command: { op: 'move', mode: 'relative', pan: 0.5, tilt: -0.25 } });
  assert.deepEqual(parseMove('{"zoom":0.3,"mode":"absolute"}'), { ok: true, command: { op: 'move', mode: 'absolute', zoom: 0.3 } });
  assert.deepEqual(parseMove('{"pan":1,"mode":"continuous","timeout":2000}'), { ok: true, command: { op: 'move', mode: 'continuous', pan: 1, timeout: 2000 } });
  const bad: [string, RegExp][] = [
    ['not json', /JSON object/],
    ['[1,2]', /takes an object/],
    ['{"pan":2}', /pan 2 is outside \[-1, 1\]/],
    ['{"zoom":-0.5,"mode":"absolute"}', /zoom -0.5 is outside \[0, 1\]/],
    ['{"pan":"left"}', /pan must be a number/],
    ['{"mode":"relative"}', /at least one of pan, tilt, zoom/],
    ['{"pan":0.1,"mode":"spin"}', /mode must be continuous, relative or absolute/],
    ['{"pan":0.1,"speed":1}', /unknown key\(s\) speed/],
    ['{"pan":0.1,"timeout":100}', /continuous moves only/],
  ];
  for (const [v, re] of bad) {
    const r = parseMove(v);
    assert.ok(!r.ok && re.test(r.error), `${v}: ${JSON.stringify(r)}`);
  }
  assert.deepEqual(parsePtzWrite('stop', true), { ok: true, command: { op: 'stop' } });
  assert.deepEqual(parsePtzWrite('stop', false), { ok: true, command: { op: 'none' } });
  assert.equal(parsePtzWrite('stop', 'yes').ok, false);
  assert.deepEqual(parsePtzWrite('preset', 3), { ok: true, command: { op: 'preset', token: '3' } });
  assert.deepEqual(parsePtzWrite('preset', 'Preset_1'), { ok: true, command: { op: 'preset', token: 'Preset_1' } });
  // A token is sent inside XML: markup never gets through.
  const inj = parsePtzWrite('preset', '1</PresetToken><x>');
  assert.ok(!inj.ok && /not a preset token/.test(inj.error));
  assert.equal(parsePtzWrite('preset', -1).ok, false);
});

test('HTTP Digest: RFC 2617 §3.5 (MD5) and RFC 7616 §3.9.1 (SHA-256) examples', () => {
  const c = parseDigestChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  assert.ok(c);
  const h = digestAuthorization(c, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b', nc: 1 });
  assert.match(h, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(h, /qop=auth, nc=00000001, cnonce="0a4f113b"/);
  const c2 = parseDigestChallenge('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"');
  const h2 = digestAuthorization(c2!, { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: 1 });
  assert.match(h2, /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
  assert.equal(parseDigestChallenge('Basic realm="x"'), undefined);
});

test('JPEG magic: FF D8 FF (ITU T.81 B.1.1.3)', () => {
  assert.equal(isJpeg(Buffer.from('ffd8ffe000104a464946', 'hex')), true);
  assert.equal(isJpeg(Buffer.from('89504e47', 'hex')), false);
  assert.equal(isJpeg(Buffer.alloc(0)), false);
});

test('ONVIF: profiles (Media1 shape), device info and error codes', () => {
  const p = normalizeProfile({
    $: { token: 'main', fixed: true },
    name: 'MainStream',
    videoEncoderConfiguration: { encoding: 'H264', resolution: { width: 1280, height: 720 }, rateControl: { frameRateLimit: 25, bitrateLimit: 4096 } },
    PTZConfiguration: { $: { token: 'ptz0' } },
  });
  assert.deepEqual(p, { token: 'main', name: 'MainStream', encoding: 'H264', width: 1280, height: 720, fps: 25, bitrate: 4096, ptz: true });
  assert.deepEqual(normalizeInfo({ manufacturer: 'Acme', model: 'X1', firmwareVersion: 2.1, serialNumber: 123, hardwareId: 'hw' }), {
    manufacturer: 'Acme', model: 'X1', firmware: '2.1', serial: '123', hardwareId: 'hw',
  });
  assert.equal(toOnvifError(new Error('ONVIF SOAP Fault: Sender not Authorized'), 'x').code, 'Config');
  assert.equal(toOnvifError(new Error('Digest authentication failed 401'), 'x').detail?.reason, 'Unauthorized');
  assert.equal(toOnvifError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'x').code, 'Offline');
  assert.equal(toOnvifError(new Error('Network timeout'), 'x').code, 'Timeout');
  assert.equal(toOnvifError(new Error('ONVIF SOAP Fault: ter:InvalidArgVal'), 'x').code, 'Exception');
});

function view(over: Partial<ReadView> = {}): ReadView {
  return {
    onvif: true,
    info: { manufacturer: 'Acme', model: 'X1', firmware: '1.0', serial: 'S1', hardwareId: 'H' },
    profiles: [
      { token: 'main', name: 'Main', encoding: 'H264', width: 1280, height: 720, fps: 25, bitrate: 4096, ptz: true, streamUri: 'rtsp://c/main', snapshotUri: 'http://c/snap' },
      { token: 'sub', name: 'Sub', encoding: 'H264', width: 320, height: 240, fps: 10, bitrate: 512, ptz: false, streamUri: 'rtsp://c/sub' },
    ],
    stream: () => ({ url: 'rtsp://c/main', state: { kind: 'ok', health: { codec: 'h264', width: 1280, height: 720, fps: 24.5, frames: 8 }, at: 1000 } }),
    snapshot: { last: { path: '/d/1000.jpg', size: 1234, ts: 1000 }, count: 1 },
    ptz: { ok: true, pan: 0.5, tilt: 0, zoom: 0.1, moving: false },
    ptzLast: { move: '', preset: '' },
    forward: { state: 'running', restarts: 2, enabled: true, target: 'rtsp://r/x', pid: 42 },
    events: { motion: true },
    now: 2000,
    ...over,
  };
}

const addr = (t: string): IpcAddress => ipcAddressSchema.parse(t);

test('reads: facts per address, with per-point errors for what is missing', () => {
  const v = view();
  const val = (t: string) => {
    const f = factOf(addr(t), v);
    assert.ok(f.ok, `${t}: ${JSON.stringify(f)}`);
    return f.value;
  };
  assert.equal(val('info.manufacturer'), 'Acme');
  assert.equal(val('profiles.count'), 2);
  assert.equal(val('profile[1].width'), 320);
  assert.equal(val('profile[main].streamUri'), 'rtsp://c/main');
  assert.equal(val('profile[Sub].fps'), 10);
  assert.equal(val('stream.fps'), 24.5);
  assert.equal(val('stream.lastFrameTs'), 1000);
  assert.equal(val('stream.ok'), true);
  assert.equal(val('snapshot.size'), 1234);
  assert.equal(val('ptz.pan'), 0.5);
  assert.equal(val('forward.restarts'), 2);
  assert.equal(val('event.motion'), true);
  const err = (t: string, w: ReadView = v) => {
    const f = factOf(addr(t), w);
    assert.ok(!f.ok, t);
    return f.error;
  };
  assert.equal(err('profile[9].width').code, 'BadAddress');
  assert.match(err('profile[9].width').message, /profiles: 0:main, 1:sub/);
  assert.equal(err('profile[sub].snapshotUri').code, 'Unsupported');
  assert.deepEqual(factOf(addr('event.tamper'), v), { ok: true, value: false, quality: 'uncertain' });
  // A bare RTSP camera: ONVIF-only addresses are Unsupported, stream ones work.
  const rtsp = view({ onvif: false, info: undefined, profiles: [], ptz: undefined, events: undefined });
  assert.equal(err('info.model', rtsp).code, 'Unsupported');
  assert.equal(err('ptz.pan', rtsp).code, 'Unsupported');
  assert.equal(factOf(addr('stream.codec'), rtsp).ok, true);
  // A failed probe: ok is false (good), the last frame time stays, codec is bad.
  const failed = view({
    stream: () => ({ url: 'rtsp://c/main', state: { kind: 'error', error: { code: 'Offline', message: 'ffprobe: Connection refused' } as never, at: 3000, lastOk: { health: { codec: 'h264', width: 1, height: 1, fps: 1, frames: 1 }, at: 1000 } } }),
  });
  assert.deepEqual(factOf(addr('stream.ok'), failed), { ok: true, value: false });
  assert.deepEqual(factOf(addr('stream.lastFrameTs'), failed), { ok: true, value: 1000 });
  assert.equal(err('stream.codec', failed).code, 'Offline');
  // The result names the point and its address.
  const r = resultOf({ id: '7', name: 'w', type: 'int32', address: addr('profile[5].width') }, v);
  assert.ok(r.quality === 'bad' && r.error.message.startsWith('w (profile[5].width): no profile 5'));
  const ts = resultOf({ id: '8', name: 't', type: 'int64', address: addr('snapshot.ts') }, v);
  assert.deepEqual(ts, { id: '8', quality: 'good', value: 1000n, ts: 2000 });
});
