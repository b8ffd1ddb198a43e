/**
 * The camera driver's child processes and files, without a camera: the relay supervisor restarts a
 * short-lived child with growing delays and stops a stubborn one with SIGTERM then SIGKILL; the
 * prober runs one ffprobe at a time and at most one per interval; real ffprobe/ffmpeg read a
 * local test clip; the snapshot folder keeps the newest files only.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Gate } from '../../src/drivers/sdk/index.ts';
import { Prober, probeStream } from '../../src/drivers/ipc/ffprobe.ts';
import { Supervisor } from '../../src/drivers/ipc/forward.ts';
import type { ForwardState } from '../../src/drivers/ipc/forward.ts';
import { grabFrame, isJpeg, SnapshotStore } from '../../src/drivers/ipc/snapshot.ts';
import { runProcess } from '../../src/drivers/ipc/child.ts';

let dir: string;
let clip: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-ipc-'));
  clip = path.join(dir, 'clip.ts');
  // Two seconds of a 320x240 test pattern at 10 fps, H.264 in MPEG-TS.
  const r = await runProcess('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts', clip], { timeout: 20_000 });
  assert.equal(r.code, 0, r.stderr);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('supervisor: a child that exits is restarted with doubling delays; state and restart count follow', async () => {
  const states: ForwardState[] = [];
  const starts: number[] = [];
  const exits: string[] = [];
  const s = new Supervisor({
    command: '/bin/sleep',
    args: ['0.1'],
    backoff: { initial: 100, max: 400 },
    stableAfter: 10_000,
    runningOn: 'spawn',
    now: () => performance.now(),
    onState: (st, info) => {
      states.push(st);
      if (info.exit !== undefined) exits.push(info.exit);
      if (st === 'starting') starts.push(performance.now());
    },
  });
  s.start();
  const t0 = performance.now();
  while (s.restarts < 3 && performance.now() - t0 < 5000) await sleep(20);
  assert.ok(s.restarts >= 3, `restarts ${s.restarts}`);
  assert.deepEqual(states.slice(0, 4), ['starting', 'running', 'backoff', 'starting']);
  // Gaps between starts: 0.1 s run + 100, 200, 400 ms backoff (±scheduling).
  const gaps = starts.slice(1, 4).map((t, i) => t - starts[i]!);
  assert.ok(gaps[0]! >= 190 && gaps[1]! >= 290 && gaps[2]! >= 490, `gaps ${gaps.map(Math.round).join(', ')}`);
  assert.ok(gaps[2]! > gaps[0]!, 'the delay grows');
  await s.stop();
  assert.equal(s.state, 'stopped');
  const n = s.restarts;
  await sleep(600);
  assert.equal(s.restarts, n, 'no restart after stop');
  assert.equal(exits[0], 'code 0', 'the backoff state says how the child ended');
  assert.equal(s.lastExit, 'signal SIGTERM', 'stop ended the last one');
});

test('supervisor: stop sends SIGTERM, then SIGKILL after the grace time, and waits for the exit', async () => {
  // A child that ignores SIGTERM (as a stuck ffmpeg may).
  const s = new Supervisor({
    command: process.execPath,
    args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
    backoff: { initial: 100, max: 100 },
    stableAfter: 1000,
    killAfter: 300,
    now: () => performance.now(),
  });
  s.start();
  const t0 = performance.now();
  while (s.state !== 'running' && performance.now() - t0 < 5000) await sleep(20);
  assert.equal(s.state, 'running', 'running once the child printed');
  const pid = s.pid!;
  const t1 = performance.now();
  await s.stop();
  const took = performance.now() - t1;
  assert.ok(took >= 280 && took < 2000, `stop took ${Math.round(took)} ms`);
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the child is gone');
  assert.match(s.lastExit ?? '', /SIGKILL/);
});

test('supervisor: a killed relay is restarted and the count rises', async () => {
  const s = new Supervisor({
    command: process.execPath,
    args: ['-e', "console.log('up'); setInterval(() => {}, 1000)"],
    backoff: { initial: 50, max: 50 },
    stableAfter: 60_000,
    now: () => performance.now(),
  });
  s.start();
  const wait = async (pred: () => boolean) => {
    const t0 = performance.now();
    while (!pred() && performance.now() - t0 < 5000) await sleep(20);
    assert.ok(pred());
  };
  await wait(() => s.state === 'running');
  const first = s.pid!;
  process.kill(first, 'SIGKILL');
  await wait(() => s.restarts === 1 && s.state === 'running');
  assert.notEqual(s.pid, first);
  await s.stop();
});

test('prober: one ffprobe at a time per camera, at most one per interval, errors kept with the last good result', async () => {
  const fake = path.join(dir, 'fake-ffprobe.sh');
  const count = path.join(dir, 'count');
  writeFileSync(
    fake,
    `#!/bin/sh\necho x >> ${count}\nsleep 0.2\nif [ -f ${dir}/fail ]; then echo "Connection refused" >&2; exit 1; fi\ncat <<'EOF'\n{"packets":[{"pts_time":"0.0"},{"pts_time":"0.5"}],"streams":[{"codec_name":"h264","width":640,"height":480,"avg_frame_rate":"2/1"}]}\nEOF\n`,
  );
  chmodSync(fake, 0o755);
  let now = 0;
  const gate = new Gate(1);
  const a = new Prober('rtsp://127.0.0.1:1/a', { interval: 1000, timeout: 5000, transport: 'udp', now: () => now, command: fake, gate });
  const b = new Prober('rtsp://127.0.0.1:1/b', { interval: 1000, timeout: 5000, transport: 'udp', now: () => now, command: fake, gate });
  const t0 = performance.now();
  await Promise.all([a.refresh(), a.refresh(), b.refresh()]);
  const took = performance.now() - t0;
  assert.equal(readFileSync(count, 'utf8').trim().split('\n').length, 2, 'one run per stream despite two refreshes of a');
  assert.ok(took >= 380, `the two streams ran one after the other (${Math.round(took)} ms)`);
  assert.deepEqual(a.state.kind === 'ok' && a.state.health, { codec: 'h264', width: 640, height: 480, fps: 2, frames: 2 });
  now = 500;
  await a.refresh();
  assert.equal(a.runs, 1, 'rate-limited within the interval');
  now = 1500;
  writeFileSync(path.join(dir, 'fail'), '');
  await a.refresh();
  assert.equal(a.runs, 2);
  assert.ok(a.state.kind === 'error' && a.state.error.code === 'Offline' && /Connection refused/.test(a.state.error.message));
  assert.ok(a.state.kind === 'error' && a.state.lastOk?.at === 0);
  a.close();
  b.close();
});

test('ffprobe and ffmpeg on a real clip: codec, size, fps; one JPEG frame', async () => {
  const h = await probeStream(clip, { transport: 'udp', timeoutMs: 10_000 });
  assert.equal(h.codec, 'h264');
  assert.deepEqual([h.width, h.height], [320, 240]);
  assert.ok(Math.abs(h.fps - 10) < 0.5, `fps ${h.fps}`);
  const jpeg = await grabFrame(clip, { transport: 'udp', timeoutMs: 10_000 });
  assert.ok(isJpeg(jpeg) && jpeg.length > 1000);
  await assert.rejects(probeStream(path.join(dir, 'missing.ts'), { transport: 'udp', timeoutMs: 5000 }), (e: { code?: string }) => e.code === 'Offline');
});

test('runProcess: a hung tool is killed at its deadline with Timeout', async () => {
  const t0 = performance.now();
  await assert.rejects(runProcess('/bin/sleep', ['5'], { timeout: 200 }), (e: { code?: string }) => e.code === 'Timeout');
  assert.ok(performance.now() - t0 < 2000);
});

test('snapshot store: JPEG only, atomic files, keeps the newest N and none older than cacheTime', async () => {
  const store = new SnapshotStore(path.join(dir, 'snaps', 'cam-1'), 3, 60_000);
  const jpeg = Buffer.from('ffd8ffe0deadbeef', 'hex');
  await assert.rejects(store.save(Buffer.from('not a jpeg'), 1), (e: { code?: string }) => e.code === 'Protocol');
  const base = 1_700_000_000_000;
  for (let i = 0; i < 5; i++) await store.save(jpeg, base + i * 1000);
  assert.deepEqual(readdirSync(store.dir).sort(), [`${base + 2000}.jpg`, `${base + 3000}.jpg`, `${base + 4000}.jpg`]);
  assert.deepEqual(store.last, { path: path.join(store.dir, `${base + 4000}.jpg`), size: 8, ts: base + 4000 });
  assert.equal(store.count, 5);
  await store.save(jpeg, base + 62_500); // the older ones are now past 60 s
  assert.deepEqual(readdirSync(store.dir).sort(), [`${base + 3000}.jpg`, `${base + 4000}.jpg`, `${base + 62_500}.jpg`]);
  assert.ok(existsSync(store.last!.path));
});

test('supervisor: the relay dies with its gateway, even when the gateway is killed with SIGKILL', async () => {
  // A separate node process owns a Supervisor running a long sleep and prints the sleep's pid.
  const { spawn } = await import('node:child_process');
  const script = [
    "const { Supervisor } = await import(process.argv[1]);",
    "const s = new Supervisor({ command: '/bin/sleep', args: ['60'], backoff: { initial: 100, max: 100 }, stableAfter: 1000, runningOn: 'spawn', now: () => performance.now() });",
    's.start();',
    'const t0 = Date.now();',
    'while (s.pid === undefined && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));',
    'console.log(String(s.pid));',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path.resolve('src/drivers/ipc/forward.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    owner.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    owner.once('exit', (c) => reject(new Error(`owner exited ${c} before printing a pid`)));
  });
  assert.ok(Number.isInteger(pid) && pid > 0, `relay pid ${pid}`);
  assert.doesNotThrow(() => process.kill(pid, 0), 'the relay runs while its owner does');
  owner.kill('SIGKILL');
  const t0 = performance.now();
  let alive = true;
  while (alive && performance.now() - t0 < 8000) {
    await sleep(50);
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, `relay ${pid} still running ${Math.round(performance.now() - t0)} ms after its owner was killed`);
});
