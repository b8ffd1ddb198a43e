/**
 * The OPC UA driver against the OPC UA simulator (one server for the whole file): every type read
 * and written, batching to MaxNodesPerRead, per-point Bad statuses, DataType checks, nsu= ids,
 * subscriptions, security with users, and the trust policies.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startOpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { OpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import { descriptor } from '../../src/drivers/opcua/index.ts';
import type { OpcuaAddress, OpcuaConnection } from '../../src/drivers/opcua/address.ts';
import { pkiPaths } from '../../src/drivers/opcua/pki.ts';
import { discoverOpcua } from '../../src/drivers/opcua/discover.ts';
import { opcuaAddressSchema } from '../../src/drivers/opcua/address.ts';
import type { DeviceRef, Point, Session } from '../../src/drivers/sdk/index.ts';
import { context, dev, never, recordingSink, simDevice, valueOf } from './helpers.ts';
import { BROKEN, MANY, NS2, NSU, OFFSETS, SPEED, TYPED, UNKNOWN, UNKNOWN_NS, WRONG_TYPE } from './fixtures.ts';

type S = Session<OpcuaConnection, OpcuaAddress>;

let sim: OpcuaSimulator;
const ctx = context();
const driver = descriptor.create(ctx);
const open: S[] = [];

async function connect(d: DeviceRef<OpcuaConnection>): Promise<S> {
  const s = await driver.connect(d.connection, { signal: never(), onLost: () => undefined });
  open.push(s);
  return s;
}

before(async () => {
  sim = await startOpcuaSimulator({
    devices: [simDevice('plc', [...TYPED, SPEED, BROKEN, ...MANY], { endpoint: 'opc.tcp://127.0.0.1:1', ...OFFSETS })],
    tickMs: 0,
    maxNodesPerRead: 4,
    users: { op: 'secret' },
    allowAnonymous: true,
    namespaceUris: [NS2],
  });
});

after(async () => {
  for (const s of open) await s.close();
  await sim.stop();
  ctx.cleanup();
});

const plain = () => dev('plc', { endpoint: sim.endpoint, ...OFFSETS, timeout: '3s' });

describe('OPC UA driver, security None', () => {
  let s: S;
  let d: DeviceRef<OpcuaConnection>;
  before(async () => {
    d = plain();
    s = await connect(d);
  });

  it('writes and reads back every type with the node DataType', async () => {
    const values: Record<string, number | bigint | boolean | string> = {
      double: 12.5,
      float: 1.5,
      int16: -1234,
      int32: -100000,
      int64: -9007199254740993n, // beyond 2^53: only exact as bigint
      uint16: 65000,
      uint32: 4000000000,
      uint64: 18446744073709551615n,
      bool: true,
      string: 'héllo wörld',
    };
    const writes = TYPED.map((p) => ({ point: p, value: values[p.name]! }));
    const wr = await s.write!(d, writes, never());
    assert.deepEqual(
      wr.map((r) => [r.id, r.ok]),
      TYPED.map((p) => [p.id, true]),
    );
    // The simulator holds exactly what was written, as the node's type.
    assert.equal(sim.device('plc').variable('int64').value, -9007199254740993n);
    assert.equal(sim.device('plc').variable('uint32').value, 4000000000);
    const rr = await s.read(d, TYPED, never());
    for (const p of TYPED) assert.deepEqual(valueOf(rr, p.id), values[p.name], p.name);
  });

  it('rejects values out of the point type range without sending them', async () => {
    const int16 = TYPED.find((p) => p.name === 'int16')!;
    const before = sim.requests('WriteRequest');
    const [r] = await s.write!(d, [{ point: int16, value: 40000 }], never());
    assert.ok(r && !r.ok);
    assert.equal(r.error.code, 'BadValue');
    assert.match(r.error.message, /int16/);
    assert.equal(sim.requests('WriteRequest'), before);
  });

  it('batches poll reads up to the server MaxNodesPerRead (4)', async () => {
    await s.read(d, MANY, never()); // resolves the nodes (DataType reads) once
    const blocks = s.planReads!(d, MANY);
    assert.deepEqual(
      blocks.map((b) => b.length),
      [4, 4, 2],
    );
    sim.resetCounts();
    const results = (await Promise.all(blocks.map((b) => s.read(d, b, never())))).flat();
    assert.equal(results.length, 10);
    assert.ok(results.every((r) => r.quality === 'good'));
    assert.equal(sim.requests('ReadRequest'), 3);
    // One read call with all ten points makes the same three requests.
    sim.resetCounts();
    await s.read(d, MANY, never());
    assert.equal(sim.requests('ReadRequest'), 3);
  });

  it('reports a Bad status per point, with the status and point names', async () => {
    sim.device('plc').setStatus('broken', 'BadSensorFailure');
    try {
      const rr = await s.read(d, [TYPED[0]!, BROKEN, UNKNOWN], never());
      assert.equal(typeof valueOf(rr, '1'), 'number');
      const broken = rr.find((r) => r.id === BROKEN.id)!;
      assert.equal(broken.quality, 'bad');
      assert.ok(broken.quality === 'bad');
      assert.equal(broken.error.code, 'Exception');
      assert.equal(broken.error.detail?.status, 'BadSensorFailure');
      assert.match(broken.error.message, /"broken".*BadSensorFailure/);
      const ghost = rr.find((r) => r.id === UNKNOWN.id)!;
      assert.ok(ghost.quality === 'bad');
      assert.equal(ghost.error.code, 'BadAddress');
      assert.equal(ghost.error.detail?.status, 'BadNodeIdUnknown');
      assert.match(ghost.error.message, /"ghost".*ns=2;s=Nope/);
    } finally {
      sim.device('plc').setStatus('broken', undefined);
    }
  });

  it('checks the node DataType against the point type and says what to declare', async () => {
    const rr = await s.read(d, [WRONG_TYPE, TYPED[0]!], never());
    const bad = rr.find((r) => r.id === WRONG_TYPE.id)!;
    assert.ok(bad.quality === 'bad');
    assert.equal(bad.error.code, 'Config');
    assert.equal(
      bad.error.message,
      'point "wrongType" is declared int16 (Int16) but node ns=2;s=Double has DataType Double; declare the point as type float64',
    );
    assert.equal(rr.find((r) => r.id === '1')?.quality, 'good');
    const [w] = await s.write!(d, [{ point: WRONG_TYPE, value: 1 }], never());
    assert.ok(w && !w.ok && w.error.code === 'Config');
    assert.ok(ctx.lines.some((l) => l.level === 'error' && /wrongType/.test(l.msg ?? '')));
  });

  it('resolves nsu= node ids through the server NamespaceArray', async () => {
    sim.device('plc').set('speed', 33.5);
    const rr = await s.read(d, [SPEED, UNKNOWN_NS], never());
    assert.equal(valueOf(rr, SPEED.id), 33.5);
    const bad = rr.find((r) => r.id === UNKNOWN_NS.id)!;
    assert.ok(bad.quality === 'bad');
    assert.equal(bad.error.code, 'BadAddress');
    assert.match(bad.error.message, /urn:nobody:here.*NamespaceArray.*urn:fieldgate:test:speed/);
    assert.ok(NSU.length > 0);
  });
});

describe('OPC UA driver, subscribe mode', () => {
  it('delivers changes through the sink and answers polls from the subscription', async () => {
    const d = dev('plc', { endpoint: sim.endpoint, ...OFFSETS, subscribe: true, samplingInterval: '50ms', publishingInterval: '50ms' });
    const s = await connect(d);
    const points: Point<OpcuaAddress>[] = [TYPED[0]!, TYPED[8]!, pollOnly()];
    const sink = recordingSink();
    const sub = await s.subscribe!(d, points, sink);
    sim.device('plc').set('double', 1.25);
    await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 1.25);
    sim.device('plc').set('double', 77.25);
    sim.device('plc').set('bool', false);
    await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 77.25);
    await sink.waitFor((r) => r.id === '9' && r.quality === 'good' && r.value === false);
    // The poll-mode point was not subscribed.
    assert.ok(!sink.pushes.flat().some((r) => r.id === 'poll-int32'));
    // Polls: subscribed points come from the subscription (no Read), the other one is read.
    const blocks = s.planReads!(d, points);
    assert.deepEqual(
      blocks.map((b) => b.map((p) => p.id)),
      [['1', '9'], ['poll-int32']],
    );
    sim.resetCounts();
    const cached = await s.read(d, blocks[0]!, never());
    assert.equal(valueOf(cached, '1'), 77.25);
    assert.equal(sim.requests('ReadRequest'), 0);
    await sub.close();
    const pushes = sink.pushes.length;
    sim.device('plc').set('double', 5);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sink.pushes.length, pushes, 'no pushes after close');
    assert.deepEqual(sink.errors, []);
  });
});

function pollOnly(): Point<OpcuaAddress> {
  const p = TYPED[3]!;
  return { ...p, id: 'poll-int32', address: { ...p.address, mode: 'poll' } };
}

describe('OPC UA driver, security and trust', () => {
  it('reads over SignAndEncrypt Basic256Sha256 as a user, pinning the server certificate', async () => {
    const d = dev('plc', { endpoint: sim.endpoint, ...OFFSETS, security: { policy: 'Basic256Sha256', mode: 'SignAndEncrypt' }, auth: { username: 'op', password: 'secret' } });
    const s = await connect(d);
    sim.device('plc').set('int32', 424242);
    const rr = await s.read(d, [TYPED[3]!], never());
    assert.equal(valueOf(rr, '4'), 424242);
    const pins = JSON.parse(readFileSync(pkiPaths(ctx.dataDir).pinned, 'utf8')) as Record<string, string>;
    assert.match(pins[sim.endpoint] ?? '', /^[0-9a-f]{40}$/);
    assert.ok(ctx.lines.some((l) => l.level === 'warn' && /first use/.test(l.msg ?? '')));
  });

  it('also works with Aes128_Sha256_RsaOaep and Sign', async () => {
    const d = dev('plc', { endpoint: sim.endpoint, ...OFFSETS, security: { policy: 'Aes128_Sha256_RsaOaep', mode: 'Sign' }, auth: { username: 'op', password: 'secret' } });
    const s = await connect(d);
    const [w] = await s.write!(d, [{ point: TYPED[9]!, value: 'signed' }], never());
    assert.ok(w?.ok);
    assert.equal(sim.device('plc').variable('string').value, 'signed');
  });

  it('fails with Config / BadUserAccessDenied on a wrong password', async () => {
    const d = dev('plc', { endpoint: sim.endpoint, security: { policy: 'Basic256Sha256', mode: 'SignAndEncrypt' }, auth: { username: 'op', password: 'wrong' } });
    await assert.rejects(driver.connect(d.connection, { signal: never(), onLost: () => undefined }), (e: unknown) => {
      const err = e as { code: string; detail?: Record<string, unknown>; message: string };
      assert.equal(err.code, 'Config');
      assert.equal(err.detail?.status, 'BadUserAccessDenied');
      assert.match(err.message, /auth\.username\/password/);
      return true;
    });
  });

  it('rejects a server certificate that is not in the trust list', async () => {
    const d = dev('plc', {
      endpoint: sim.endpoint,
      security: { policy: 'Basic256Sha256', mode: 'SignAndEncrypt' },
      trust: { policy: 'list', certificates: ['00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33'] },
    });
    await assert.rejects(driver.connect(d.connection, { signal: never(), onLost: () => undefined }), (e: unknown) => {
      const err = e as { code: string; detail?: Record<string, unknown> };
      assert.equal(err.code, 'Config');
      assert.equal(err.detail?.reason, 'UntrustedServerCertificate');
      return true;
    });
  });

  it('accepts a listed thumbprint, and refuses a certificate that differs from the pinned one', async () => {
    const pinsFile = pkiPaths(ctx.dataDir).pinned;
    const pins = JSON.parse(readFileSync(pinsFile, 'utf8')) as Record<string, string>;
    const real = pins[sim.endpoint]!;
    const listed = dev('plc', { endpoint: sim.endpoint, ...OFFSETS, security: { policy: 'Basic256Sha256', mode: 'Sign' }, trust: { policy: 'list', certificates: [real] } });
    const s = await connect(listed);
    assert.equal(typeof valueOf(await s.read(listed, [TYPED[0]!], never()), '1'), 'number');
    writeFileSync(pinsFile, JSON.stringify({ ...pins, [sim.endpoint]: 'ab'.repeat(20) }));
    const tofu = dev('plc', { endpoint: sim.endpoint, security: { policy: 'Basic256Sha256', mode: 'Sign' } });
    await assert.rejects(driver.connect(tofu.connection, { signal: never(), onLost: () => undefined }), (e: unknown) => {
      const err = e as { code: string; detail?: Record<string, unknown>; message: string };
      assert.equal(err.code, 'Config');
      assert.equal(err.detail?.reason, 'ServerCertificateChanged');
      assert.equal(err.detail?.thumbprint, real);
      assert.match(err.message, /changed: pinned abab/);
      return true;
    });
  });
});

describe('OPC UA discovery', () => {
  it('browses the variables and writes a model and template that read them back', async () => {
    const d = plain();
    const found = await discoverOpcua(d.connection, ctx, { product: 'plc-model', template: 'plc-template' });
    const byPath = new Map(found.variables.map((v) => [v.path, v]));
    assert.deepEqual(byPath.get('plc/int64'), { nodeId: 'ns=2;s=Int64', path: 'plc/int64', name: 'int64', type: 'int64', writable: true });
    assert.equal(byPath.get('plc/float')?.type, 'float32');
    assert.equal(byPath.get('plc/speed')?.nodeId.endsWith(';s=Speed'), true);
    assert.equal(found.variables.length, TYPED.length + 2 + MANY.length);
    const props = found.templates['plc-template']!.properties;
    const model = found.models['plc-model']!;
    assert.equal(props.length, model.length);
    // The template's visitors parse and read through the driver.
    const s = await connect(d);
    const points = props.map((p) => ({ id: p.id, name: p.name, type: p.type, address: opcuaAddressSchema.parse(p.visitor.opcua) }));
    const rr = await s.read(d, points, never());
    assert.equal(rr.filter((r) => r.quality === 'good').length, points.length);
  });
});
