import assert from 'node:assert/strict';
import { test } from 'node:test';
import { descriptor } from '../../src/drivers/bacnet/index.ts';
import type { BacnetAddress, BacnetConnection } from '../../src/drivers/bacnet/address.ts';
import { BacnetSession } from '../../src/drivers/bacnet/session.ts';
import { Link } from '../../src/gateway/runtime/link.ts';
import type { LinkState } from '../../src/gateway/runtime/link.ts';
import { systemClock } from '../../src/gateway/runtime/clock.ts';
import type { Session } from '../../src/drivers/sdk/index.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import { memoryLogger } from '../helpers/log.ts';
import { byId, compiledDevice, context, dev, never, pt, valueOf } from './helpers.ts';
import type { Spec } from './helpers.ts';

const SPECS: Spec[] = [{ id: '1', type: 'float32', visitor: { bacnetType: 2, bacnetAddress: 1 } }];
const GEN = { p1: { kind: 'constant', value: 3.25 } } as const;

test('bacnet: a device that stops answering gives Timeout; connect to it fails with Timeout', async () => {
  const sim = await startBacnetSimulator({ devices: [compiledDevice('t', SPECS, { deviceId: 9, address: '127.0.0.1' })], port: 0, tickMs: 0, generators: { t: GEN } });
  const c = dev('t', { deviceId: 9, address: '127.0.0.1', port: sim.device('t').port, interface: '127.0.0.1', timeout: 300, retries: 1 });
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    assert.equal(valueOf(byId(await s.read(c, SPECS.map(pt), never())).get('1')), 3.25);
    sim.device('t').setFaults({ stopAnswering: true });
    const before = sim.device('t').stats.readPropertyMultiple;
    const t0 = Date.now();
    await assert.rejects(s.read(c, SPECS.map(pt), never()), (e: { code?: string }) => e.code === 'Timeout');
    const took = Date.now() - t0;
    assert.equal(sim.device('t').stats.readPropertyMultiple - before, 2, 'one retry');
    assert.ok(took >= 550 && took < 2000, `two 300 ms timeouts took ${took} ms`);
    await assert.rejects(BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context()), (e: { code?: string }) => e.code === 'Timeout');
  } finally {
    await s.close();
    await sim.stop();
  }
});

test('bacnet: the gateway Link goes to backoff when the device stops answering and back online when it returns', async () => {
  const sim = await startBacnetSimulator({ devices: [compiledDevice('l', SPECS, { deviceId: 11, address: '127.0.0.1' })], port: 0, tickMs: 0, generators: { l: GEN } });
  const sd = sim.device('l');
  const conn = descriptor.connectionSchema.parse({ deviceId: 11, address: '127.0.0.1', port: sd.port, interface: '127.0.0.1', timeout: 200, retries: 0 }) as BacnetConnection;
  const driver = descriptor.create({ ...context(), clock: systemClock });
  const states: LinkState[] = [];
  const spec = descriptor.link(conn);
  const link = new Link<BacnetConnection>({
    key: spec.key,
    window: spec.window,
    driver: driver as never,
    connection: conn,
    clock: systemClock,
    log: memoryLogger(),
    backoff: { initialMs: 100, maxMs: 300, factor: 2, jitter: 0 },
    maxTimeouts: 2,
    onState: (st) => states.push(st),
  });
  const device = { name: 'l', connection: conn };
  const read = () => link.run((s: Session<BacnetConnection, unknown>) => s.read(device, SPECS.map(pt) as never, never()), 'read', 'l');
  const waitState = async (want: LinkState, ms = 5000) => {
    const t0 = Date.now();
    while (link.state !== want && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
    assert.equal(link.state, want);
  };
  try {
    link.start();
    await waitState('online');
    assert.equal(valueOf((await read())[0]), 3.25);
    sd.setFaults({ stopAnswering: true });
    for (let i = 0; i < 2; i++) await assert.rejects(read(), (e: { code?: string }) => e.code === 'Timeout');
    await waitState('backoff', 1000);
    assert.equal(link.error?.code, 'Timeout');
    // Reconnects fail while the device is silent (connect reads the device object).
    await new Promise((r) => setTimeout(r, 800));
    assert.ok(link.stats.failures >= 2, `failures ${link.stats.failures}`);
    assert.notEqual(link.state, 'online');
    sd.setFaults({ stopAnswering: false });
    await waitState('online', 3000);
    assert.equal(valueOf((await read())[0]), 3.25);
    assert.ok(link.stats.reconnects >= 2);
    assert.deepEqual(states.filter((s, i) => s !== states[i - 1]).slice(0, 4), ['connecting', 'online', 'backoff', 'connecting']);
  } finally {
    await link.close();
    await sim.stop();
  }
});

test('bacnet: several simulated devices and two gateways on their own UDP ports of 127.0.0.1', async () => {
  const devices = [1, 2, 3].map((n) => compiledDevice(`m${n}`, SPECS, { deviceId: 100 + n, address: '127.0.0.1' }));
  const sim = await startBacnetSimulator({ devices, port: 0, tickMs: 0, generators: { m1: { p1: { kind: 'constant', value: 1 } }, m2: { p1: { kind: 'constant', value: 2 } }, m3: { p1: { kind: 'constant', value: 3 } } } });
  const sessions: BacnetSession[] = [];
  try {
    const ports = new Set(sim.devices().map((d) => d.port));
    assert.equal(ports.size, 3);
    for (const gw of [0, 1]) {
      for (const n of [1, 2, 3]) {
        const c = dev(`m${n}`, { deviceId: 100 + n, address: '127.0.0.1', port: sim.device(`m${n}`).port, interface: '127.0.0.1', timeout: 500 });
        const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
        sessions.push(s);
        assert.equal(valueOf(byId(await s.read(c, SPECS.map(pt) as never, never())).get('1')), n, `gateway ${gw} device ${n}`);
      }
    }
    assert.equal(new Set(sessions.map((s) => s.localAddress?.port)).size, 6, 'each link has its own local port');
    // A fixed local port: devices share one link key (one socket), and a second bind of it fails as Offline.
    const fixed = dev('m1', { deviceId: 101, address: '127.0.0.1', port: sim.device('m1').port, interface: '127.0.0.1', localPort: sessions[0]!.localAddress!.port });
    assert.equal(descriptor.link(fixed.connection).key, `udp:127.0.0.1:${sessions[0]!.localAddress!.port}`);
    await assert.rejects(BacnetSession.open(fixed.connection, { signal: never(), onLost: () => undefined }, context()), (e: { code?: string }) => e.code === 'Offline');
  } finally {
    for (const s of sessions) await s.close();
    await sim.stop();
  }
});

export type { BacnetAddress };
