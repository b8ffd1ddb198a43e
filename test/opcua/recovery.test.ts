/**
 * Recovery after the OPC UA server restarts mid-subscription: the session reports the loss once,
 * and after the gateway-side reconnect (connect + subscribe again) values flow again; first as the
 * gateway's Link does it by hand, then with the real Link class. One simulator for the file.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startOpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { OpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import { descriptor } from '../../src/drivers/opcua/index.ts';
import type { OpcuaAddress, OpcuaConnection } from '../../src/drivers/opcua/address.ts';
import type { PointError, Session } from '../../src/drivers/sdk/index.ts';
import { Link } from '../../src/gateway/runtime/link.ts';
import type { LinkState } from '../../src/gateway/runtime/link.ts';
import { context, dev, never, recordingSink, simDevice, valueOf } from './helpers.ts';
import { NS2, OFFSETS, TYPED } from './fixtures.ts';

type S = Session<OpcuaConnection, OpcuaAddress>;

let sim: OpcuaSimulator;
const ctx = context();
const driver = descriptor.create(ctx);
const POINTS = [TYPED[0]!, TYPED[3]!];

before(async () => {
  sim = await startOpcuaSimulator({ devices: [simDevice('plc', TYPED, { endpoint: 'opc.tcp://127.0.0.1:1', ...OFFSETS })], tickMs: 0, namespaceUris: [NS2] });
});

after(async () => {
  await sim.stop();
  ctx.cleanup();
});

const device = () =>
  dev('plc', {
    endpoint: sim.endpoint,
    ...OFFSETS,
    subscribe: true,
    samplingInterval: '50ms',
    timeout: '2s',
    security: { policy: 'Basic256Sha256', mode: 'SignAndEncrypt' },
  });

/** Connects until it works (the restarted server needs a moment), at most `tries` times. */
async function connectRetrying(d: ReturnType<typeof device>, onLost: (e: PointError) => void, tries = 20): Promise<S> {
  for (let i = 0; ; i++) {
    try {
      return await driver.connect(d.connection, { signal: never(), onLost });
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

it('resubscribes after a server restart and values flow again (reconnect done as the Link does)', async () => {
  const d = device();
  let lost: (e: PointError) => void = () => undefined;
  const lostOnce = new Promise<PointError>((r) => (lost = r));
  let lostCalls = 0;
  const s1 = await connectRetrying(d, (e) => {
    lostCalls++;
    lost(e);
  });
  const sink1 = recordingSink();
  await s1.subscribe!(d, POINTS, sink1);
  sim.device('plc').set('double', 10.5);
  await sink1.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 10.5);

  const port = sim.port;
  await sim.stop();
  const e = await lostOnce;
  assert.equal(e.code, 'Offline');
  await assert.rejects(s1.read(d, [TYPED[5]!], never()), (err: unknown) => (err as { code: string }).code === 'Offline');
  await s1.close();
  await s1.close(); // idempotent
  assert.equal(lostCalls, 1);

  // The server is down: connecting fails with Offline, as the Link's backoff expects.
  await assert.rejects(driver.connect(d.connection, { signal: never(), onLost: () => undefined }), (err: unknown) => (err as { code: string }).code === 'Offline');

  sim.device('plc').set('double', 20.25); // changed while the gateway was away
  await sim.start();
  assert.equal(sim.port, port);
  const t0 = performance.now();
  const s2 = await connectRetrying(d, () => undefined);
  const sink2 = recordingSink();
  await s2.subscribe!(d, POINTS, sink2);
  await sink2.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 20.25);
  const recoveredMs = performance.now() - t0;
  assert.ok(recoveredMs < 5000, `recovered in ${Math.round(recoveredMs)} ms`);
  sim.device('plc').set('int32', -7);
  await sink2.waitFor((r) => r.id === '4' && r.quality === 'good' && r.value === -7);
  await s2.close();
});

it('recovers by itself under the gateway Link: backoff, reconnect, resubscribe, values again', async () => {
  const d = device();
  const sink = recordingSink();
  const states: LinkState[] = [];
  const link = new Link<OpcuaConnection>({
    key: 'opcua-test',
    window: 4,
    driver: driver as never,
    connection: d.connection,
    clock: ctx.clock,
    log: ctx.log,
    backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 },
    onState: (st) => states.push(st),
    // What the gateway does after every (re)connect: subscribe the link's devices again.
    onSession: (session) => void (session as S).subscribe!(d, POINTS, sink).catch(() => undefined),
  });
  try {
    link.start();
    sim.device('plc').set('double', 1.5);
    await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 1.5, 10_000);

    await sim.restart();
    const t0 = performance.now();
    sim.device('plc').set('double', 2.5);
    await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 2.5, 15_000);
    const recoveredMs = performance.now() - t0;
    assert.ok(recoveredMs < 10_000, `recovered in ${Math.round(recoveredMs)} ms`);
    assert.ok(link.stats.reconnects >= 1, `reconnects: ${link.stats.reconnects}`);
    assert.ok(states.includes('backoff'), states.join(' '));
    assert.equal(link.state, 'online');
    // Polls through the link work on the new session too.
    const rr = await link.run((s) => s.read(d, [TYPED[6]!], never()));
    assert.equal(typeof valueOf(rr, '7'), 'number');
  } finally {
    await link.close();
  }
  assert.equal(link.state, 'closed');
});
