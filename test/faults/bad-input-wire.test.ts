/**
 * Fault scenario 4, bad input at every door (issue 9), part 3: seeded random bytes on the wire,
 * into the protocol decoders of a running gateway.
 * - Modbus/TCP: a proxy between the gateway and the simulator corrupts a share of the replies:
 *   random bytes, a cut frame, garbage after the frame, a wrong function code, a lying MBAP
 *   length, or no reply. After each corrupted reply it closes the connection, so the only bytes
 *   that follow are the garbage.
 * - BACnet/IP: random datagrams, and datagrams with a valid BVLC/NPDU header and a random APDU,
 *   sprayed at the gateway's UDP port while it polls the simulator.
 * - OPC UA: a server that answers the client's HEL with random bytes.
 * Checks: no exception escapes (no uncaught exception or rejection). Every failure is a typed
 * point error. No corrupted reply becomes a good value (every value reported is the simulator's).
 * The gateway keeps running, and the device reads good values again once the garbage stops.
 *
 * Reproduce with `FIELDGATE_FUZZ_SEED=<seed>`.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { deriveSeed, mulberry32 } from '../../simulators/common/prng.ts';
import { freePort, load, Recorder, startTestGateway, writeConf } from '../e2e/harness.ts';
import { runFor, until } from './durability-lib/wait.ts';
import { recordRow, scaled } from './report.ts';

const SEED = Number(process.env.FIELDGATE_FUZZ_SEED ?? 20_261_125);
const DURATION_MS = scaled(3000, 60_000);
const DRIVER_CODES = new Set(['Timeout', 'Offline', 'Protocol', 'Exception', 'BadAddress', 'Unsupported']);
const rows: string[] = [];

/** Counts exceptions that would otherwise crash the process, for the duration of a test. */
function watchEscapes(): { readonly count: () => number; readonly messages: string[]; stop(): void } {
  const messages: string[] = [];
  const onError = (e: unknown) => messages.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    count: () => messages.length,
    messages,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

const METER = {
  models: 'meter:\n  - {name: a, type: float32, mode: ro}\n  - {name: b, type: int32, mode: ro}\n',
  template:
    'meter-tpl:\n  properties:\n    - {name: pa, id: "1", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n' +
    '    - {name: pb, id: "2", type: uint32, visitor: {modbus: {function: 3, address: "0x10", quantity: 2}}}\n' +
    '  mappings:\n    - {attribute: a, type: calculate, expression: x1/10, precision: 1}\n    - {attribute: b, type: value, expression: x2}\n',
};

/** Kinds that leave the stream without a boundary (the proxy then closes) and kinds that keep it aligned. */
const BREAKING = ['random', 'cut', 'trailing', 'badLength'] as const;
const ALIGNED = ['drop', 'wrongFunction', 'exception', 'wrongTransaction', 'wrongUnit'] as const;
type Corruption = (typeof BREAKING)[number] | (typeof ALIGNED)[number];
const KINDS: readonly Corruption[] = [...BREAKING, ...ALIGNED];

/** A Modbus/TCP proxy that corrupts a share of the replies (seeded); `rate` 0 passes everything. */
async function corruptingProxy(upstreamPort: number, seed: number): Promise<{ port: number; rate: number; injected: Record<Corruption, number>; close(): Promise<void> }> {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const injected = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Corruption, number>;
  const sockets = new Set<net.Socket>();
  const state = { port: 0, rate: 0.35, injected, close: async () => {} };
  const server = net.createServer((client) => {
    const up = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(up);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    const fcs = new Map<number, number>(); // transaction id → function code asked for
    client.on('data', (d: Buffer) => {
      for (let i = 0; i + 8 <= d.length; ) {
        fcs.set(d.readUInt16BE(i), d[i + 7]!);
        i += 6 + d.readUInt16BE(i + 4);
      }
      up.write(d);
    });
    let buf = Buffer.alloc(0);
    up.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6 && buf.length >= 6 + buf.readUInt16BE(4)) {
        const frame = buf.subarray(0, 6 + buf.readUInt16BE(4));
        buf = buf.subarray(frame.length);
        if (rand() >= state.rate) {
          client.write(frame);
          continue;
        }
        // Aligned kinds twice as often: they do not cost a reconnect (500 ms backoff), so more get through.
        const kind = int(3) === 0 ? BREAKING[int(BREAKING.length)]! : ALIGNED[int(ALIGNED.length)]!;
        injected[kind]++;
        if (kind === 'drop') continue; // a whole frame missing: the stream stays aligned
        const asked = fcs.get(frame.readUInt16BE(0)) ?? frame[7]!;
        if (kind === 'wrongFunction') {
          let fc = int(256);
          while (fc === asked || fc === (asked | 0x80)) fc = int(256);
          client.write(Buffer.concat([frame.subarray(0, 7), Buffer.of(fc), bytes(frame.length - 8)]));
          continue;
        }
        if (kind === 'exception') {
          client.write(Buffer.concat([frame.subarray(0, 4), Buffer.of(0, 3, frame[6]!, asked | 0x80, int(256))]));
          continue;
        }
        if (kind === 'wrongTransaction' || kind === 'wrongUnit') {
          // The right function and byte count with random data, for another transaction or unit:
          // a client that does not match both would take random data as the value.
          const out = Buffer.concat([frame.subarray(0, 9), bytes(frame.length - 9)]);
          if (kind === 'wrongTransaction') out.writeUInt16BE((frame.readUInt16BE(0) + 1000 + int(60_000)) & 0xffff, 0);
          else out[6] = (frame[6]! + 1 + int(254)) & 0xff;
          client.write(out);
          continue;
        }
        let out: Buffer;
        if (kind === 'random') out = bytes(1 + int(40));
        else if (kind === 'cut') out = frame.subarray(0, 1 + int(frame.length - 1));
        else if (kind === 'trailing') out = Buffer.concat([frame, bytes(1 + int(20))]);
        else {
          out = Buffer.from(frame);
          out.writeUInt16BE((out.readUInt16BE(4) + 1 + int(300)) & 0xffff, 4);
        }
        // After garbage the stream has no boundary left: close, so no later byte is misframed.
        client.end(out);
        up.destroy();
        return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return state;
}

test('Modbus/TCP: corrupted replies never become values, never escape as exceptions; the device recovers', { timeout: scaled(60_000, 240_000) }, async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  const proxyConf = (port: number) => `devices:\n  - name: meter-1\n    deviceModel: meter\n    accessTemplate: meter-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 50ms, timeout: 300ms, tcp: {address: 127.0.0.1, port: ${port}}}\ndriver: ""\n`;
  const simConf = writeConf({ gateway: 'node: w\ndrivers:\n  - {name: modbus, driver: modbus}\n', ...METER, devices: proxyConf(simPort) });
  const sim = await startModbusSimulator({ devices: (await load(simConf.dir)).instances[0]!.devices, tickMs: 0 });
  sim.device('meter-1').set('a', 12.3);
  sim.device('meter-1').set('b', 70000);
  const proxy = await corruptingProxy(simPort, deriveSeed(SEED, 'modbus'));
  const conf = writeConf({ gateway: `node: w\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: modbus, driver: modbus}\n`, ...METER, devices: proxyConf(proxy.port) });
  const escapes = watchEscapes();
  const { gateway } = await startTestGateway(conf.dir);
  const rec = await Recorder.connect(gateway.brokerUrl, ['thing/meter/meter-1/property/post']);
  try {
    await runFor(DURATION_MS);
    proxy.rate = 0;
    const stopped = Date.now();
    await rec.waitFor((m) => m.at > stopped + 200 && m.json.content.blink.properties.a === 12.3, 15_000, 'good values after the corruption stopped');
    const recoveryMs = Date.now() - stopped;
    const values = rec.messages.map((m) => m.json.content.blink.properties as Record<string, unknown>);
    const wrong = values.filter((p) => (p.a !== undefined && p.a !== null && p.a !== 12.3) || (p.b !== undefined && p.b !== null && p.b !== 70000));
    const dev = gateway.devices.get('meter-1')!;
    const codes = Object.fromEntries(dev.errorsByCode);
    const injected = Object.values(proxy.injected).reduce((a, b) => a + b, 0);
    rows.push(`Modbus: ${injected} corrupted replies (${KINDS.map((k) => `${k} ${proxy.injected[k]}`).join(', ')}); point errors ${JSON.stringify(codes)}; ${values.length} reports, ${wrong.length} wrong values; good again ${recoveryMs} ms after`);
    assert.deepEqual(escapes.messages, [], 'no exception escaped');
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} corrupted replies became values`);
    assert.ok(injected >= scaled(10, 100), `${injected} corrupted replies injected`);
    assert.ok(values.filter((p) => p.a === 12.3).length > 5, 'good values came through between the corruptions');
    for (const code of Object.keys(codes)) assert.ok(DRIVER_CODES.has(code), `point error code ${code} is a DriverError code`);
    assert.ok(Object.keys(codes).length > 0, 'the corruption showed as point errors');
    assert.equal(gateway.broker.state, 'online');
  } finally {
    escapes.stop();
    await rec.close();
    await gateway.stop();
    await proxy.close();
    await sim.stop();
    conf.cleanup();
    simConf.cleanup();
  }
});

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('BACnet/IP: random datagrams at the gateway port never become values or exceptions; polling goes on', { timeout: scaled(60_000, 240_000) }, async () => {
  const [simPort, localPort, mqttPort] = [await freeUdpPort(), await freeUdpPort(), await freePort()];
  const files = {
    models: 'ahu:\n  - {name: temp, type: float32, mode: ro}\n  - {name: fan, type: bool, mode: ro}\n',
    template:
      'ahu-tpl:\n  properties:\n    - {name: t, id: "1", type: float32, visitor: {bacnet: {bacnetType: 2, bacnetAddress: 1}}}\n    - {name: f, id: "2", type: bool, visitor: {bacnet: {bacnetType: 5, bacnetAddress: 2}}}\n' +
      '  mappings:\n    - {attribute: temp, type: value, expression: x1, precision: 2}\n    - {attribute: fan, type: value, expression: x2}\n',
    devices: `devices:\n  - name: ahu-1\n    deviceModel: ahu\n    accessTemplate: ahu-tpl\n    accessConfig:\n      bacnet: {deviceId: 1001, address: 127.0.0.1, port: ${simPort}, interval: 200ms, timeout: 400ms, retries: 0, interface: 127.0.0.1, localPort: ${localPort}}\ndriver: ""\n`,
  };
  const conf = writeConf({ gateway: `node: w\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: bms, driver: bacnet}\n`, ...files }, 'bms');
  const { instances } = await load(conf.dir);
  const sim = await startBacnetSimulator({ devices: instances[0]!.devices, generators: { 'ahu-1': { temp: { kind: 'constant', value: 21.5 }, fan: { kind: 'constant', value: true } } } });
  const escapes = watchEscapes();
  const { gateway } = await startTestGateway(conf.dir);
  const rec = await Recorder.connect(gateway.brokerUrl, ['thing/ahu/ahu-1/property/post']);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const rand = mulberry32(deriveSeed(SEED, 'bacnet'));
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  let sent = 0;
  try {
    await rec.waitFor((m) => m.json.content.blink.properties.temp === 21.5, 10_000, 'first good value');
    const end = Date.now() + DURATION_MS;
    while (Date.now() < end) {
      for (let k = 0; k < 20; k++) {
        const kind = int(4);
        let d: Buffer;
        if (kind === 0) d = bytes(1 + int(600));
        else {
          // BVLC Original-Unicast-NPDU, NPDU version 1, then a random (kind 1), confirmed-request
          // lookalike (2) or ComplexACK lookalike for ReadProperty with a random invoke id (3).
          const apdu = kind === 1 ? bytes(int(60)) : kind === 2 ? Buffer.concat([Buffer.of(0x00, 0x05, int(256), 0x0c), bytes(int(40))]) : Buffer.concat([Buffer.of(0x30, int(256), 0x0c), bytes(int(40))]);
          const body = Buffer.concat([Buffer.of(0x01, int(2) === 0 ? 0x00 : int(256)), apdu]);
          d = Buffer.concat([Buffer.of(0x81, 0x0a, 0, 0), body]);
          d.writeUInt16BE(int(8) === 0 ? int(65536) : d.length, 2);
        }
        sock.send(d, localPort, '127.0.0.1');
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const stopped = Date.now();
    await rec.waitFor((m) => m.at > stopped + 300 && m.json.content.blink.properties.temp === 21.5, 15_000, 'good values after the spray');
    const recoveryMs = Date.now() - stopped;
    const values = rec.messages.map((m) => m.json.content.blink.properties as Record<string, unknown>);
    const wrong = values.filter((p) => (p.temp !== undefined && p.temp !== null && p.temp !== 21.5) || (p.fan !== undefined && p.fan !== null && p.fan !== true));
    const codes = Object.fromEntries(gateway.devices.get('ahu-1')!.errorsByCode);
    rows.push(`BACnet: ${sent} datagrams; point errors ${JSON.stringify(codes)}; ${values.length} reports, ${wrong.length} wrong values; good again ${recoveryMs} ms after`);
    assert.deepEqual(escapes.messages, [], 'no exception escaped');
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} sprayed datagrams became values`);
    assert.ok(values.filter((p) => p.temp === 21.5).length > 5, 'polling went on during the spray');
    for (const code of Object.keys(codes)) assert.ok(DRIVER_CODES.has(code), `point error code ${code} is a DriverError code`);
  } finally {
    escapes.stop();
    sock.close();
    await rec.close();
    await gateway.stop();
    await sim.stop();
    conf.cleanup();
  }
});

test('OPC UA: a server answering HEL with random bytes: typed failures, retries go on, no exception escapes', { timeout: scaled(60_000, 240_000) }, async () => {
  const rand = mulberry32(deriveSeed(SEED, 'opcua'));
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => {
      const kind = int(4);
      // Random bytes; an ACK header with absurd sizes; an ERR header with garbage; a valid-looking
      // message header whose length runs past what is sent.
      const head = (t: string, len: number) => Buffer.concat([Buffer.from(t), Buffer.of(len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, 0)]);
      const out =
        kind === 0 ? bytes(1 + int(200)) : kind === 1 ? Buffer.concat([head('ACKF', 28), bytes(20)]) : kind === 2 ? Buffer.concat([head('ERRF', 16 + int(100)), bytes(int(120))]) : Buffer.concat([head('MSGF', 5000), bytes(int(100))]);
      if (int(2) === 0) s.end(out);
      else s.write(out); // and stay silent: the client must time out
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const mqttPort = await freePort();
  const conf = writeConf(
    {
      gateway: `node: w\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: ua, driver: opcua}\n`,
      models: 'boiler:\n  - {name: temperature, type: float64, mode: ro}\n',
      template: 'boiler-ua:\n  properties:\n    - {name: t, id: "1", type: float64, visitor: {opcua: {nsBase: 2, idBase: 1, idType: i, type: float64}}}\n  mappings:\n    - {attribute: temperature, type: value, expression: x1}\n',
      devices: `devices:\n  - name: plc-1\n    deviceModel: boiler\n    accessTemplate: boiler-ua\n    accessConfig:\n      opcua: {endpoint: "opc.tcp://127.0.0.1:${port}", interval: 300ms, timeout: 1s}\ndriver: ""\n`,
    },
    'ua',
  );
  const escapes = watchEscapes();
  const { gateway, lines } = await startTestGateway(conf.dir);
  try {
    // The link backs off exponentially (0.5 s doubling to 30 s): about 7 attempts in a minute.
    await until(() => connections >= scaled(2, 5), DURATION_MS + 30_000, 'the gateway to keep retrying the garbage server');
    const link = [...gateway.links.values()][0]!;
    const err = link.error;
    rows.push(`OPC UA: ${connections} connections answered with garbage; link ${link.state}, last error ${err?.code}: ${err?.message.slice(0, 120)}`);
    assert.deepEqual(escapes.messages, [], 'no exception escaped');
    assert.notEqual(gateway.devices.get('plc-1')?.isOnline, true, 'never online on garbage');
    assert.ok(err !== undefined && DRIVER_CODES.has(err.code), `the link failed with a typed error: ${JSON.stringify(err)}`);
    assert.equal(lines.filter((l) => l.level === 'fatal').length, 0);
  } finally {
    escapes.stop();
    await gateway.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    conf.cleanup();
  }
});

test('row: bad input on the wire', () => {
  recordRow({
    scenario: '4c. bad input: wire decoders',
    traffic: `Modbus meter polled every 50 ms, BACnet AHU every 200 ms, OPC UA client retrying; ${DURATION_MS / 1000} s each`,
    faults: `seeded (seed ${SEED}) corrupted Modbus replies, random BACnet datagrams, random OPC UA transport replies`,
    lost: 0,
    duplicated: 0,
    recovery: 'see notes',
    notes: rows.join('; '),
  });
  assert.equal(rows.length, 3, 'all three protocols ran');
});
