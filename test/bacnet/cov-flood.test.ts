/**
 * A flood of COV notifications from a raw UDP socket (in a child process) into a session subscribed to 40 objects of
 * the simulator: the session still answers a ReadProperty during the flood, holds at most one
 * waiting notification per subscription, delivers the latest value of each object last, and
 * counts what it dropped. No figure here depends on how fast the machine is: bounds come from the
 * session's own counters, and the final values are checked after the flood has drained.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { BacnetSession } from '../../src/drivers/bacnet/session.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import { compiledDevice, context, dev, never, pt, recorder } from './helpers.ts';
import type { Spec } from './helpers.ts';
import { covDatagram, FLOOD_DEVICE, MALFORMED, UNKNOWN_PID } from './cov-flood-sender.ts';

const OBJECTS = 40;
const FLOOD = 20_000;
/** Datagrams per chunk, and consecutive notifications per object within a chunk. */
const CHUNK = 250;
const RUN = 5;
const SPECS: Spec[] = Array.from({ length: OBJECTS }, (_, i) => ({ id: String(i + 1), type: 'float32', visitor: { bacnetType: 0, bacnetAddress: i + 1 } }));

let sim: BacnetSimulator;
before(async () => {
  sim = await startBacnetSimulator({
    devices: [compiledDevice('f', SPECS, { deviceId: FLOOD_DEVICE, address: '127.0.0.1' })],
    port: 0,
    tickMs: 0,
    generators: { f: Object.fromEntries(SPECS.map((s) => [`p${s.id}`, { kind: 'constant', value: 7.5 }])) },
  });
});
after(() => sim.stop());

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('bacnet cov flood: reads answered, queue bounded by the subscriptions, latest value last, drops counted', async () => {
  const c = dev('f', { deviceId: FLOOD_DEVICE, address: '127.0.0.1', port: sim.device('f').port, interface: '127.0.0.1', timeout: 1000, retries: 3, subscribe: true, cov: { lifetime: '60s', pollInterval: 0 } });
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  const sink = recorder();
  // The last controlled round comes from this socket, which also receives the SimpleACKs.
  const flood = dgram.createSocket('udp4');
  const acks: Buffer[] = [];
  flood.on('message', (m) => acks.push(m));
  await new Promise<void>((r) => flood.bind(0, '127.0.0.1', () => r()));
  let child: ChildProcess | undefined;
  try {
    const sub = await s.subscribe(c, SPECS.map(pt), sink);
    for (const spec of SPECS) await sink.waitFor((r) => r.id === spec.id && r.quality === 'good' && r.value === 7.5);
    // The simulator's subscriptions tell each object's process id.
    const pidOf = new Map([...sim.device('f').subscriptions.values()].map((x) => [Number(x.objectKey.split(':')[1]), x.processId]));
    assert.equal(pidOf.size, OBJECTS);
    assert.equal(s.cov.subscriptions, OBJECTS);
    const { port } = s.localAddress!;
    const send = (b: Buffer) => flood.send(b, port, '127.0.0.1');
    // The flood, from the child: chunks of CHUNK datagrams, each object getting RUN consecutive
    // notifications. A ReadProperty goes out once it is under way and must be answered by the device.
    let maxPendingSeen = 0;
    let read: Promise<unknown> | undefined;
    const p = fork(new URL('./cov-flood-sender.ts', import.meta.url), ['--flood'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = p;
    const done = await new Promise<{ sent: number; last: [number, number][] }>((resolve, reject) => {
      p.on('error', reject);
      p.on('exit', (code) => reject(new Error(`the flood sender exited (${code})`)));
      p.send({ port, pids: [...pidOf], total: FLOOD, chunk: CHUNK, run: RUN });
      p.on('message', (msg) => {
        const m = msg as { sent: number; done?: boolean; last?: [number, number][] };
        maxPendingSeen = Math.max(maxPendingSeen, s.cov.pending);
        if (m.sent >= FLOOD / 10) read ??= s.read(c, [pt(SPECS[0]!)], AbortSignal.timeout(15_000));
        if (m.done) resolve({ sent: m.sent, last: m.last! });
      });
    });
    assert.equal(done.sent, FLOOD);
    const counter = new Map(done.last); // per object instance: the last value sent
    const next = (instance: number) => {
      const v = (counter.get(instance) ?? 100) + 1;
      counter.set(instance, v);
      return v;
    };
    const r = (await read) as { id: string; quality: string; value?: unknown }[];
    assert.deepEqual(r.map((x) => [x.id, x.quality, x.value]), [['1', 'good', 7.5]], 'ReadProperty answered by the device during the flood');

    // Drain: wait until nothing more arrives (bounded), then one last controlled round.
    let last = -1;
    for (let i = 0; i < 200 && (s.cov.received !== last || s.cov.pending > 0); i++) {
      last = s.cov.received;
      await tick(25);
    }
    const before = s.cov;
    const finalRound: Buffer[] = [];
    for (let instance = 1; instance <= OBJECTS; instance++) for (let k = 0; k < 3; k++) finalRound.push(covDatagram(pidOf.get(instance)!, instance, next(instance), instance <= 3 && k === 2 ? 200 + instance : undefined));
    finalRound.push(covDatagram(UNKNOWN_PID, 1, 0), MALFORMED);
    for (const b of finalRound) send(b);
    for (let i = 0; i < 400 && (s.cov.received < before.received + finalRound.length || s.cov.pending > 0); i++) await tick(10);
    const st = s.cov;
    assert.equal(st.received, before.received + finalRound.length, 'the last round arrived whole');

    // Bounded: never more waiting than subscriptions, whatever was sent.
    assert.ok(st.maxPending <= OBJECTS, `maxPending ${st.maxPending}`);
    assert.ok(maxPendingSeen <= OBJECTS, `pending seen ${maxPendingSeen}`);
    assert.equal(st.pending, 0);
    // Every notification received is accounted for: delivered, coalesced, or dropped and counted.
    assert.equal(st.received, st.delivered + st.coalesced + st.unknown + st.malformed);
    assert.ok(st.coalesced > 0, 'notifications of the same object were coalesced');
    assert.ok(st.unknown >= before.unknown + 1 && st.malformed >= before.malformed + 1);
    assert.ok(st.delivered < st.received, 'fewer delivered than received');
    // What the session did not read in time, the kernel dropped and counted (Linux: /proc/net/udp).
    if (process.platform === 'linux') {
      assert.equal(typeof st.socketDrops, 'number');
      assert.ok(st.received + st.socketDrops! >= FLOOD + finalRound.length, `received ${st.received} + dropped ${st.socketDrops}`);
    }
    // The three confirmed notifications of the last round were acknowledged (SimpleACK, §20.1.4).
    for (let i = 0; i < 100 && acks.length < 3; i++) await tick(10);
    assert.deepEqual(acks.map((a) => a.toString('hex')).sort(), [201, 202, 203].map((id) => `810a0009010020${id.toString(16)}01`));
    assert.equal(st.acked, 3);

    // Coalescing is correct: each batch holds an object at most once, and the value delivered
    // last for every object is the last one sent.
    for (const b of sink.batches) assert.equal(new Set(b.map((x) => x.id)).size, b.length, 'one result per point per batch');
    const lastValue = new Map<string, unknown>();
    for (const b of sink.batches) for (const x of b) if (x.quality !== 'bad') lastValue.set(x.id, x.value);
    for (let instance = 1; instance <= OBJECTS; instance++) assert.equal(lastValue.get(String(instance)), counter.get(instance), `object ${instance}`);
    await sub.close();
  } finally {
    if (child !== undefined && child.exitCode === null) child.kill();
    flood.close();
    await s.close();
  }
});
