/**
 * The camera simulator's RTSP stream, read by Debian's ffprobe: one encoder serving every
 * profile path, stopStream()/startStream() for stream health, and stop() leaving no process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';
import { rtspDescribe } from '../../simulators/ipc/rtsp.ts';

interface Probe {
  ok: boolean;
  streams: { codec_name: string; width: number; height: number; avg_frame_rate: string }[];
  stderr: string;
}

function ffprobe(url: string): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/ffprobe',
      ['-v', 'error', '-rw_timeout', '5000000', '-analyzeduration', '1000000', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate', '-of', 'json', url],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        let streams: Probe['streams'] = [];
        try {
          streams = (JSON.parse(stdout || '{}') as { streams?: Probe['streams'] }).streams ?? [];
        } catch {
          // no JSON on failure
        }
        resolve({ ok: err === null, streams, stderr });
      },
    );
  });
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('camera simulator RTSP stream', () => {
  let sim: CameraSimulator;
  before(async () => {
    sim = await startCameraSimulator({ rtsp: true });
  });
  after(async () => {
    await sim.stop();
  });

  test('ffprobe reads H.264 320x240 at 10 fps; every profile path is mounted', async () => {
    assert.deepEqual(Object.keys(sim.rtspUrls), ['main', 'sub']);
    const p = await ffprobe(sim.rtspUrls['sub']!);
    assert.ok(p.ok, p.stderr);
    assert.deepEqual(p.streams, [{ codec_name: 'h264', width: 320, height: 240, avg_frame_rate: '10/1' }]);
    // The same encoder feeds every path (tee): the other one answers DESCRIBE, a path nobody publishes is 404.
    const port = Number(new URL(sim.rtspUrls['main']!).port);
    assert.equal(sim.rtspUrls['main'], `rtsp://127.0.0.1:${port}/main`);
    assert.equal(await rtspDescribe('127.0.0.1', port, 'main'), 'RTSP/1.0 200 OK');
    assert.match((await rtspDescribe('127.0.0.1', port, 'nope')) ?? '', /^RTSP\/1\.0 404/);
  });

  test('ffprobe fails after stopStream() and reads again after startStream()', async () => {
    const pids = sim.childPids();
    assert.equal(pids.length, 4);
    await sim.stopStream();
    assert.deepEqual(pids.filter(alive), []);
    const down = await ffprobe(sim.rtspUrls['sub']!);
    assert.equal(down.ok, false);
    assert.match(down.stderr, /Connection refused|Server returned/i);
    await sim.startStream();
    const up = await ffprobe(sim.rtspUrls['sub']!);
    assert.ok(up.ok, up.stderr);
    assert.equal(up.streams[0]?.codec_name, 'h264');
  });

  test('stop() leaves no child process', async () => {
    const pids = sim.childPids();
    assert.equal(pids.length, 4);
    assert.deepEqual(pids.filter((p) => !alive(p)), []);
    await sim.stop();
    assert.deepEqual(pids.filter(alive), []);
    assert.deepEqual(sim.childPids(), []);
    await sim.stop();
  });
});
