/**
 * The link against a real mosquitto 2 (MQTT 5): publishing, a broker outage with QoS 1 messages
 * published while it is down (nothing lost after the restart), the bounded queue's drop policy,
 * and credentials kept out of the logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient, type IPublishPacket } from 'mqtt';
import { connectBroker, MqttLinkError, topicProblem, type BrokerLink } from '../../src/gateway/mqtt/connection.ts';
import { Publisher } from '../../src/gateway/mqtt/publisher.ts';
import { device, memoryLog, waitFor } from './helpers/fixtures.ts';
import { freePort, startMosquitto, tempDir } from './helpers/mosquitto.ts';

interface Got {
  topic: string;
  text: string;
  qos: number;
}

async function observer(url: string, filter: string, opts: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; got: Got[] }> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: `obs-${Math.random().toString(16).slice(2)}`, ...opts });
  const got: Got[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) => got.push({ topic, text: payload.toString(), qos: packet.qos }));
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

const online = (link: BrokerLink) => waitFor(() => link.state === 'online', 5000, 'link online');

test('MQTT 5 to mosquitto: report and lifecycle arrive; QoS 1 lifecycle is acknowledged', async () => {
  const tmp = tempDir('fg-mosq-');
  const port = await freePort();
  const mosq = await startMosquitto(tmp.dir, port);
  const url = `mqtt://127.0.0.1:${port}`;
  const link = connectBroker({ url, clientId: 'gw-v5', protocolVersion: 5 }, memoryLog());
  let obs: Awaited<ReturnType<typeof observer>> | undefined;
  try {
    obs = await observer(url, 'thing/#');
    await online(link);
    const pub = new Publisher(link, { node: 'n1' });
    const dev = device();
    await pub.report(dev, { temperature: 20.25 }, 1700000000000);
    await pub.lifecycle(dev, false, 1700000000001);
    await waitFor(() => obs!.got.length === 2, 3000, 'two messages');
    const [r, l] = obs.got as [Got, Got];
    assert.equal(r.topic, 'thing/product-test/device-test-1/property/post');
    assert.deepEqual((JSON.parse(r.text) as { content: { blink: { properties: unknown } } }).content.blink.properties, { temperature: 20.25 });
    assert.equal(l.topic, 'thing/product-test/device-test-1/lifecycle/post');
    assert.equal(l.qos, 1);
    assert.deepEqual((JSON.parse(l.text) as { content: { blink: { params: unknown } } }).content.blink.params, { online_state: false });
    assert.equal(link.counters.published, 2);
  } finally {
    await obs?.client.endAsync();
    await link.close();
    await mosq.stop();
    tmp.remove();
  }
});

test('broker outage: QoS 1 published while mosquitto is down arrive after restart, QoS 0 dropped first when the queue is full', async () => {
  const tmp = tempDir('fg-mosq-');
  const port = await freePort();
  const mosq = await startMosquitto(tmp.dir, port);
  const url = `mqtt://127.0.0.1:${port}`;
  const log = memoryLog();
  // The link retries after 2 s at the earliest, so the observer (retrying every 100 ms) is
  // subscribed again before the queued messages are flushed.
  const link = connectBroker({ url, clientId: 'gw-outage', protocolVersion: 5, maxQueue: 20, reconnectMinMs: 2000 }, log);
  let obs: Awaited<ReturnType<typeof observer>> | undefined;
  try {
    await online(link);
    obs = await observer(url, 'plant/#', { reconnectPeriod: 100 });
    await link.publish('plant/before', 'b', { qos: 1 });
    await waitFor(() => obs!.got.length === 1, 3000, 'message before outage');

    await mosq.stop();
    await waitFor(() => link.state === 'offline', 3000, 'link offline');

    const results: Promise<string>[] = [];
    const settle = (p: Promise<void>) => p.then(() => 'ok', (e: MqttLinkError) => e.code);
    // 5 QoS 0, then 20 QoS 1: the queue holds 20, so the 5 QoS 0 are dropped (oldest QoS 0 first).
    for (let i = 0; i < 5; i++) results.push(settle(link.publish(`plant/q0/${i}`, `zero-${i}`, { qos: 0 })));
    for (let i = 0; i < 20; i++) results.push(settle(link.publish(`plant/q1/${i}`, `one-${i}`, { qos: 1 })));
    assert.equal(link.counters.queued, 20);
    assert.equal(link.counters.dropped, 5);
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg.includes('queue full')));

    await mosq.start();
    await waitFor(() => link.state === 'online', 10_000, 'link back online');
    const outcome = await Promise.all(results);
    assert.deepEqual(outcome, [...Array(5).fill('Dropped'), ...Array(20).fill('ok')]);
    await waitFor(() => obs!.got.length === 21, 5000, '20 queued messages at the observer');
    assert.deepEqual(
      obs.got.slice(1).map((g) => [g.topic, g.text, g.qos]),
      Array.from({ length: 20 }, (_, i) => [`plant/q1/${i}`, `one-${i}`, 1]),
    );
    assert.deepEqual(
      { published: link.counters.published, dropped: link.counters.dropped, queued: link.counters.queued, inflight: link.counters.inflight, reconnects: link.counters.reconnects },
      { published: 21, dropped: 5, queued: 0, inflight: 0, reconnects: 1 },
    );
    // One log line per state change: online, offline, online.
    assert.deepEqual(
      log.lines.filter((l) => l.msg.startsWith('mqtt link ')).map((l) => l.msg),
      ['mqtt link online', 'mqtt link offline', 'mqtt link online'],
    );
  } finally {
    await obs?.client.endAsync();
    await link.close();
    await mosq.stop();
    tmp.remove();
  }
});

test('bounded queue with no QoS 0 left drops the oldest QoS 1; close() rejects what is still queued', async () => {
  // Nothing listens on this port: the link never gets online.
  const port = await freePort();
  const link = connectBroker({ url: `mqtt://127.0.0.1:${port}`, clientId: 'gw-nowhere', maxQueue: 2, reconnectMinMs: 5000 }, memoryLog());
  const settle = (p: Promise<void>) => p.then(() => 'ok', (e: MqttLinkError) => e.code);
  const a = settle(link.publish('t/a', 'a', { qos: 1 }));
  const b = settle(link.publish('t/b', 'b', { qos: 1 }));
  const c = settle(link.publish('t/c', 'c', { qos: 1 }));
  assert.equal(await a, 'Dropped');
  assert.deepEqual(link.counters.dropped, 1);
  await link.close();
  assert.deepEqual([await b, await c], ['Closed', 'Closed']);
  assert.equal(link.state, 'closed');
  assert.equal(await settle(link.publish('t/d', 'd', { qos: 0 })), 'Closed');
  assert.equal(topicProblem('thing/+/x'), 'wildcards are not allowed in a topic name');
  assert.equal(topicProblem(''), 'empty topic');
  assert.equal(topicProblem('$baetyl/device/d/get'), undefined);
  // A publish nobody awaits must not crash the process when it rejects.
  void link.publish('t/e', 'e', { qos: 1 });
});

test('the password is never logged (URL credentials, failed connects)', async () => {
  const tmp = tempDir('fg-mosq-');
  const port = await freePort();
  const mosq = await startMosquitto(tmp.dir, port);
  const log = memoryLog();
  const link = connectBroker(
    { url: `mqtt://gw:s3cr3t-url@127.0.0.1:${port}`, clientId: 'gw-pw', password: 's3cr3t-opt', username: 'gw', protocolVersion: 5, reconnectMinMs: 100 },
    log,
  );
  try {
    await online(link);
    await mosq.stop();
    await waitFor(() => link.state === 'offline', 3000);
    await new Promise((r) => setTimeout(r, 300)); // a few failed attempts
    const all = JSON.stringify(log.lines);
    assert.ok(log.lines.length >= 2);
    assert.ok(!all.includes('s3cr3t'), all);
    assert.ok(all.includes(`mqtt://127.0.0.1:${port}`));
  } finally {
    await link.close();
    await mosq.stop();
    tmp.remove();
  }
});
