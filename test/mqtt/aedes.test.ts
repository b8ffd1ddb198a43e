/**
 * The embedded aedes broker with the real link and Publisher: what arrives on the broker, with
 * which QoS and retain flag, the gateway status and its Last Will, and a downlink round trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import mqtt, { type MqttClient, type IPublishPacket } from 'mqtt';
import { startEmbeddedBroker } from '../../src/gateway/mqtt/broker.ts';
import { connectBroker, type BrokerLink } from '../../src/gateway/mqtt/connection.ts';
import { Publisher, statusTopic, willFor } from '../../src/gateway/mqtt/publisher.ts';
import { parseDownlink, type Downlink } from '../../src/gateway/mqtt/downlink.ts';
import { device, memoryLog, waitFor, UUID_V4 } from './helpers/fixtures.ts';

interface Got {
  topic: string;
  json: Record<string, unknown>;
  qos: number;
  retain: boolean;
}

/** An observer client that records every message on `filters`. */
async function observer(url: string, filters: string[]): Promise<{ client: MqttClient; got: Got[] }> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, clientId: `obs-${Math.random().toString(16).slice(2)}` });
  const got: Got[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) => {
    got.push({ topic, json: JSON.parse(payload.toString()) as Record<string, unknown>, qos: packet.qos, retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  if (filters.length > 0) await client.subscribeAsync(Object.fromEntries(filters.map((t) => [t, { qos: 1 as const }])));
  return { client, got };
}

function online(link: BrokerLink): Promise<void> {
  return waitFor(() => link.state === 'online', 5000, 'link online');
}

test('startEmbeddedBroker: port 0 picks a free port; a busy port falls back and says so', async () => {
  const a = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  try {
    assert.ok(a.port > 0);
    assert.equal(a.url, `mqtt://127.0.0.1:${a.port}`);
    assert.equal(a.fellBack, false);
    const b = await startEmbeddedBroker({ host: '127.0.0.1', port: a.port });
    try {
      assert.equal(b.fellBack, true);
      assert.equal(b.requestedPort, a.port);
      assert.notEqual(b.port, a.port);
      // The fallback broker works.
      const o = await observer(b.url, ['x']);
      assert.equal(b.connectedClients(), 1);
      await o.client.endAsync();
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
    await a.close(); // twice is fine
  }
});

test('Publisher on aedes: report, lifecycle (QoS 1), event, get answer and error arrive with the exact envelope', async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const log = memoryLog();
  const link = connectBroker({ url: broker.url, clientId: 'fieldgate-node-a' }, log);
  const obs = await observer(broker.url, ['thing/#', '$baetyl/device/+/get']);
  try {
    await online(link);
    const dev = device();
    const pub = new Publisher(link, { node: 'node-a' });
    const meta = { device: 'device-test-1', deviceProduct: 'product-test', accessTemplate: 'access-template-test', node: 'node-a', nodeProduct: 'BIE-Product' };

    await pub.report(dev, { temperature: 21.5, switch: true, total: 9007199254740993n }, 1700000000000);
    await pub.lifecycle(dev, true, 1700000000001);
    await pub.event(dev, { overheat: { level: 2 } }, 1700000000002);
    await pub.getReport(dev, { humidity: 40 }, 1700000000003, 'req-7');
    await pub.error(dev, { reqId: 'req-8', code: 'NotWritable', message: 'humidity is ro', property: 'humidity' }, 1700000000004);
    await waitFor(() => obs.got.length === 5, 3000, '5 messages');

    const [report, life, event, answer, error] = obs.got as [Got, Got, Got, Got, Got];
    const blinkOf = (g: Got) => (g.json['content'] as { blink: Record<string, unknown> }).blink;
    for (const g of [report, life, event]) assert.match(blinkOf(g).reqId as string, UUID_V4);

    assert.equal(report.topic, 'thing/product-test/device-test-1/property/post');
    assert.equal(report.qos, 0);
    assert.deepEqual(report.json, {
      kind: 'deviceReport',
      meta,
      content: { blink: { reqId: blinkOf(report).reqId, method: 'thing.property.post', version: '1.0', timestamp: 1700000000000, properties: { temperature: 21.5, switch: true, total: 9007199254740992 } } },
    });

    assert.equal(life.topic, 'thing/product-test/device-test-1/lifecycle/post');
    assert.equal(life.qos, 1, 'lifecycle is published QoS 1');
    assert.deepEqual(life.json, {
      kind: 'thing.lifecycle.post',
      meta,
      content: { blink: { reqId: blinkOf(life).reqId, method: 'thing.lifecycle.post', version: '1.0', timestamp: 1700000000001, params: { online_state: true } } },
    });

    assert.equal(event.topic, 'thing/product-test/device-test-1/event/post');
    assert.deepEqual(event.json, {
      kind: 'thing.event.post',
      meta,
      content: { blink: { reqId: blinkOf(event).reqId, method: 'thing.event.post', version: '1.0', timestamp: 1700000000002, events: { overheat: { level: 2 } } } },
    });

    assert.equal(answer.topic, '$baetyl/device/device-test-1/get');
    assert.deepEqual(answer.json, {
      kind: 'deviceReport',
      meta,
      content: { blink: { reqId: 'req-7', method: 'thing.property.post', version: '1.0', timestamp: 1700000000003, properties: { humidity: 40 } } },
    });

    assert.equal(error.topic, '$baetyl/device/device-test-1/get');
    assert.deepEqual(error.json, {
      kind: 'error',
      meta,
      content: { reqId: 'req-8', code: 'NotWritable', message: 'humidity is ro', property: 'humidity', timestamp: 1700000000004 },
    });
    assert.equal(link.counters.published, 5);
    // A wildcard topic is refused before it reaches the broker, and the link stays up.
    await assert.rejects(link.publish('thing/#', '{}', { qos: 1 }), { name: 'MqttLinkError', code: 'Publish' });
    await link.publish('thing/after', '{"kind":"x"}', { qos: 1 });
    await waitFor(() => obs.got.length === 6, 3000, 'publish after refused topic');
    assert.equal(link.counters.reconnects, 0);
    assert.ok(log.lines.some((l) => l.msg === 'mqtt link online' && l.obj['url'] === broker.url));
  } finally {
    await obs.client.endAsync();
    await link.close();
    await broker.close();
  }
});

test('Publisher splits a report over the payload limit into several messages on the broker', async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const log = memoryLog();
  const link = connectBroker({ url: broker.url, clientId: 'gw-split' }, log);
  const obs = await observer(broker.url, ['thing/+/+/property/post']);
  try {
    await online(link);
    const pub = new Publisher(link, { node: 'n', maxPayload: 2048, log });
    const props: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) props[`p${i}`] = 'x'.repeat(300);
    props['tooBig'] = 'y'.repeat(5000);
    await pub.report(device(), props, 1);
    await waitFor(() => Object.keys(merge(obs.got)).length === 20, 3000, 'all parts');
    for (const g of obs.got) assert.ok(Buffer.byteLength(JSON.stringify(g.json)) <= 2048);
    const { tooBig: _dropped, ...rest } = props;
    assert.deepEqual(merge(obs.got), rest);
    assert.equal(pub.counters.oversized, 1);
    assert.ok(log.lines.some((l) => l.level === 'error' && (l.obj['properties'] as string[]).includes('tooBig')));
  } finally {
    await obs.client.endAsync();
    await link.close();
    await broker.close();
  }
});

function merge(got: Got[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const g of got) Object.assign(out, (g.json['content'] as { blink: { properties: object } }).blink.properties);
  return out;
}

/** A TCP relay to `port`: lets the test cut the gateway's connection like a network failure. */
async function relay(port: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const pairs = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = netConnect(port, '127.0.0.1');
    pairs.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      pairs.delete(inbound);
      pairs.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    cut: () => {
      for (const s of pairs) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of pairs) s.destroy();
        server.close(() => r());
      }),
  };
}

test('gateway status is retained; the Last Will marks the gateway offline when its socket dies', async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const net = await relay(broker.port);
  const node = 'node-a';
  const link = connectBroker({ url: `mqtt://127.0.0.1:${net.port}`, clientId: 'gw-lwt', will: willFor(node, 1234), reconnectMinMs: 50 }, memoryLog());
  let obs: Awaited<ReturnType<typeof observer>> | undefined;
  let late: Awaited<ReturnType<typeof observer>> | undefined;
  try {
    await online(link);
    const pub = new Publisher(link, { node, now: () => 1700000000000 });
    await pub.gatewayStatus(true);

    // A subscriber arriving later still gets the status: it is retained.
    obs = await observer(broker.url, [statusTopic(node)]);
    await waitFor(() => obs!.got.length === 1, 3000, 'retained status');
    assert.equal(statusTopic(node), 'fieldgate/node-a/status');
    assert.deepEqual(obs.got[0], { topic: 'fieldgate/node-a/status', json: { online: true, node: 'node-a', ts: 1700000000000 }, qos: 1, retain: true });

    // The gateway's TCP connection dies without DISCONNECT: aedes publishes the Will.
    net.cut();
    await waitFor(() => obs!.got.length === 2, 3000, 'last will');
    assert.deepEqual(obs.got[1]!.json, { online: false, node: 'node-a', ts: 1234 });
    assert.equal(obs.got[1]!.topic, 'fieldgate/node-a/status');

    // The Will was retained too: a new subscriber sees the gateway offline.
    late = await observer(broker.url, [statusTopic(node)]);
    await waitFor(() => late!.got.length === 1, 3000, 'retained will');
    assert.deepEqual(late.got[0]!.json, { online: false, node: 'node-a', ts: 1234 });
    assert.equal(late.got[0]!.retain, true);

    // The link reconnects by itself.
    await waitFor(() => link.counters.reconnects === 1 && link.state === 'online', 5000, 'reconnect');
  } finally {
    await obs?.client.endAsync();
    await late?.client.endAsync();
    await link.close();
    await net.close();
    await broker.close();
  }
});

test('downlink round trip: subscribed delta topic, parsed by kind and meta.device; resubscribed after reconnect', async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const net = await relay(broker.port);
  const link = connectBroker({ url: `mqtt://127.0.0.1:${net.port}`, clientId: 'gw-down', reconnectMinMs: 50 }, memoryLog());
  const cloud = await observer(broker.url, []);
  const got: Downlink[] = [];
  link.onMessage((topic, payload) => got.push(parseDownlink(topic, payload)));
  try {
    const dev = device();
    // Subscribing before the link is online: resolves on the SUBACK after CONNACK.
    assert.equal(link.state, 'connecting');
    await link.subscribe([dev.topics.delta, dev.topics.propertyGet]);
    assert.equal(link.state, 'online');
    assert.equal(link.counters.subacks, 1);
    const send = async (props: object) => {
      await cloud.client.publishAsync(
        dev.topics.delta.topic,
        JSON.stringify({ kind: 'deviceDelta', meta: { device: dev.name }, content: { blink: { reqId: 'r', method: 'thing.property.invoke', properties: props } } }),
        { qos: 1 },
      );
    };
    await send({ setpoint: 42 });
    await waitFor(() => got.length === 1, 3000, 'first delta');
    assert.deepEqual(got[0], { kind: 'delta', device: 'device-test-1', reqId: 'r', properties: { setpoint: 42 } });

    net.cut();
    // After the reconnect (clean session) the link subscribes again by itself.
    await waitFor(() => link.counters.reconnects === 1 && link.counters.subacks === 2, 5000, 'reconnect and resubscribe');
    await send({ setpoint: 43 });
    await waitFor(() => got.length === 2, 3000, 'delta after reconnect');
    assert.deepEqual(got[1], { kind: 'delta', device: 'device-test-1', reqId: 'r', properties: { setpoint: 43 } });
  } finally {
    await cloud.client.endAsync();
    await link.close();
    await net.close();
    await broker.close();
  }
});
