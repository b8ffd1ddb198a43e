/**
 * RTSP forwarding end to end on loopback: the driver relays the simulated camera's stream with
 * `ffmpeg -c copy` into a second rtsp-server-perl (the "remote" server), where ffprobe finds it;
 * killing the relay's ffmpeg makes the supervisor restart it (restart count up, state back to
 * running); `forward.enabled` turns it off and on; closing the session leaves no ffmpeg behind.
 *
 * rtsp-server-perl never frees a path once something published to it (a second ANNOUNCE gets
 * 403 Forbidden, even after the first publisher's TEARDOWN), so the test restarts the remote
 * server (same ports) whenever the relay must publish again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';
import { freeTcpPort, freeUdpBlock } from '../../simulators/ipc/ports.ts';
import { startSupervised } from '../../simulators/ipc/proc.ts';
import type { Supervised } from '../../simulators/ipc/proc.ts';
import { rtspDescribe } from '../../simulators/ipc/rtsp.ts';
import { descriptor } from '../../src/drivers/ipc/index.ts';
import type { IpcAddress } from '../../src/drivers/ipc/address.ts';
import { probeStream } from '../../src/drivers/ipc/ffprobe.ts';
import type { DriverContext, Point, ReadResult } from '../../src/drivers/sdk/index.ts';
import type { PointType } from '../../src/devicemodel/types.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

let sim: CameraSimulator;
let remote: Supervised;
let clientPort: number;
let sourcePort: number;
let dataDir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-ipc-fwd-'));
  sim = await startCameraSimulator({ rtsp: true });
  // The relay target: a bare rtsp-server-perl that takes a published stream on sourcePort.
  [clientPort, sourcePort] = [await freeTcpPort('127.0.0.1'), await freeTcpPort('127.0.0.1')];
  const rtp = await freeUdpBlock('127.0.0.1', 8);
  rtpBase = rtp;
  await startRemote();
});

let rtpBase = 0;

/** (Re)starts the remote server on the same ports and waits until it listens. */
async function startRemote(): Promise<void> {
  await remote?.stop();
  remote = await startSupervised('rtsp-server-perl', '/usr/bin/rtsp-server-perl', [
    '-c', String(clientPort), '-s', String(sourcePort), '--client_listen_address', '127.0.0.1', '--source_listen_address', '127.0.0.1', '--rtp_start_port', String(rtpBase), '-l', '2',
  ]);
  const end = Date.now() + 5000;
  while (Date.now() < end && (await rtspDescribe('127.0.0.1', clientPort, 'relay', 300)) === undefined) await sleep(100);
}

after(async () => {
  await remote?.stop();
  await sim?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function pt(id: string, address: string, type: PointType): Point<IpcAddress> {
  return { id, name: `p${id}`, type, address: descriptor.addressSchema.parse(address) };
}

test('relay to a second RTSP server, restart after its ffmpeg is killed, switch off/on, nothing left after close', async () => {
  const logLines: Line[] = [];
  const ctx: DriverContext = {
    log: memoryLogger(logLines),
    clock: { now: () => Date.now(), monotonic: () => performance.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    metrics: { count: () => undefined },
    signal: new AbortController().signal,
    dataDir,
  };
  const c = descriptor.connectionSchema.parse({
    ip: '127.0.0.1',
    port: sim.port,
    timeout: '2s',
    forward: { target: `rtsp://127.0.0.1:${sourcePort}/relay`, profile: 'sub', backoff: { initial: '300ms', max: '1s' } },
  });
  const driver = descriptor.create(ctx);
  const session = await driver.connect(c, { signal: new AbortController().signal, onLost: () => undefined });
  const dev = { name: 'cam-fwd', connection: c };
  const points = [pt('1', 'forward.state', 'string'), pt('2', 'forward.restarts', 'int32'), pt('3', 'forward.pid', 'int32'), pt('4', 'forward.enabled', 'bool'), pt('5', 'forward.target', 'string')];
  const read = async () => {
    const rs: ReadResult[] = await session.read(dev, points, AbortSignal.timeout(5000));
    const v = (id: string) => {
      const r = rs.find((x) => x.id === id)!;
      assert.equal(r.quality, 'good', JSON.stringify(r));
      return (r as { value: unknown }).value;
    };
    return { state: v('1') as string, restarts: v('2') as number, pid: v('3') as number, enabled: v('4') as boolean, target: v('5') as string };
  };
  const until = async (pred: (s: Awaited<ReturnType<typeof read>>) => boolean, what: string, ms = 15_000) => {
    const end = Date.now() + ms;
    let s = await read();
    while (!pred(s) && Date.now() < end) {
      await sleep(100);
      s = await read();
    }
    assert.ok(pred(s), `${what}: ${JSON.stringify(s)}; relay log: ${JSON.stringify(logLines.filter((l) => /relay/.test(l.msg ?? '')).slice(-4))}`);
    return s;
  };
  let pids: number[] = [];
  try {
    const first = await until((s) => s.state === 'running', 'the relay runs');
    assert.equal(first.restarts, 0);
    assert.equal(first.enabled, true);
    assert.equal(first.target, `rtsp://127.0.0.1:${sourcePort}/relay`);
    pids.push(first.pid);
    // The relayed stream is served by the remote server.
    let status: string | undefined;
    const end = Date.now() + 10_000;
    while (Date.now() < end && !(status = await rtspDescribe('127.0.0.1', clientPort, 'relay'))?.startsWith('RTSP/1.0 200')) await sleep(200);
    assert.match(status ?? '', /^RTSP\/1\.0 200/);
    const h = await probeStream(`rtsp://127.0.0.1:${clientPort}/relay`, { transport: 'udp', timeoutMs: 8000 });
    assert.equal(h.codec, 'h264');

    // Kill the relay: the supervisor restarts it after its backoff (and keeps retrying while the
    // remote server refuses the path; a fresh remote server accepts it).
    process.kill(first.pid, 'SIGKILL');
    await startRemote();
    const again = await until((s) => s.restarts >= 1 && s.state === 'running' && s.pid !== first.pid, 'restarted and running');
    const describe = await rtspDescribe('127.0.0.1', clientPort, 'relay');
    assert.match(describe ?? '', /^RTSP\/1\.0 200/, 'the restarted relay publishes again');
    pids.push(again.pid);

    // Off and on by writes.
    const enabled = pt('4', 'forward.enabled', 'bool');
    assert.deepEqual(await session.write!(dev, [{ point: enabled, value: false }], AbortSignal.timeout(5000)), [{ id: '4', ok: true }]);
    const off = await read();
    assert.deepEqual([off.state, off.enabled, off.pid], ['stopped', false, 0]);
    assert.throws(() => process.kill(again.pid, 0), /ESRCH/, 'the relay ffmpeg is gone when switched off');
    const bad = await session.write!(dev, [{ point: enabled, value: 'yes' }], AbortSignal.timeout(5000));
    assert.ok(!bad[0]!.ok && bad[0]!.error.code === 'BadValue');
    await startRemote();
    const restarts = (await read()).restarts;
    await session.write!(dev, [{ point: enabled, value: true }], AbortSignal.timeout(5000));
    const on = await until((s) => s.state === 'running', 'running again');
    assert.equal(on.restarts, restarts, 'a switch-on is not a restart');
    pids.push(on.pid);
  } finally {
    await session.close();
    await driver.close?.();
  }
  pids = pids.filter((p) => p > 0);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `ffmpeg ${pid} is gone after close`);
});
