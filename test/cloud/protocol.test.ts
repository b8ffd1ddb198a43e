import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ackMessage,
  deviceOfTopic,
  deviceTopic,
  desiredMessage,
  edgeSubscriptions,
  lifecycleMessage,
  makeMeta,
  nameProblem,
  parseDesired,
  parseGet,
  parseTopic,
  parseUplink,
  reportMessage,
  serialize,
  statusTopic,
} from '../../src/shadow/sync/protocol.ts';

const meta = makeMeta('node-1', 'dev-1', { deviceProduct: 'prod', accessTemplate: 'tpl' });

test('topic names (docs/cloud-protocol.md §Topics)', () => {
  const table: [string, string][] = [
    [deviceTopic('node-1', 'dev-1', 'report'), 'fieldgate/node-1/shadow/dev-1/report'],
    [deviceTopic('node-1', 'dev-1', 'lifecycle'), 'fieldgate/node-1/shadow/dev-1/lifecycle'],
    [deviceTopic('node-1', 'dev-1', 'desired'), 'fieldgate/node-1/shadow/dev-1/desired'],
    [deviceTopic('node-1', 'dev-1', 'desired/ack'), 'fieldgate/node-1/shadow/dev-1/desired/ack'],
    [deviceTopic('node-1', 'dev-1', 'get'), 'fieldgate/node-1/shadow/dev-1/get'],
    [statusTopic('node-1'), 'fieldgate/node-1/status'],
  ];
  for (const [got, want] of table) assert.equal(got, want);
  assert.deepEqual(edgeSubscriptions('n'), ['fieldgate/n/shadow/+/desired', 'fieldgate/n/shadow/+/get']);
});

test('parseTopic: device topics, status, and what is not ours', () => {
  const table: [string, ReturnType<typeof parseTopic>][] = [
    ['fieldgate/n/shadow/d/report', { node: 'n', device: 'd', channel: 'report' }],
    ['fieldgate/n/shadow/d/desired/ack', { node: 'n', device: 'd', channel: 'desired/ack' }],
    ['fieldgate/n/status', { node: 'n', status: true }],
    ['fieldgate/n/shadow/d/other', undefined],
    ['fieldgate/n/shadow//report', undefined],
    ['thing/p/d/property/post', undefined],
    ['fieldgate//status', undefined],
  ];
  for (const [topic, want] of table) assert.deepEqual(parseTopic(topic), want, topic);
  assert.equal(deviceOfTopic('fieldgate/n/shadow/dev.7/lifecycle'), 'dev.7');
  assert.equal(deviceOfTopic('fieldgate/n/status'), undefined);
});

test('nameProblem: one topic level only', () => {
  const table: [string, boolean][] = [
    ['modbus-0331', true],
    ['dev.1', true],
    ['', false],
    ['a/b', false],
    ['a+', false],
    ['#', false],
  ];
  for (const [name, ok] of table) assert.equal(nameProblem(name) === undefined, ok, name);
});

test('report envelope: Baetyl blink plus stream position and versions', () => {
  const m = reportMessage(meta, { epoch: 7, seq: 3 }, {
    ts: 1659003513995,
    properties: { temperature: 21.5, big: 18446744073709551615n },
    metadata: { temperature: { ts: 1659003513990, quality: 'good' }, big: { ts: 1659003513995, quality: 'uncertain' } },
    reportVersion: 12,
    desireVersion: 4,
  });
  const text = serialize(m);
  // bigint written as an exact literal, not rounded
  assert.match(text, /"big":18446744073709551615[,}]/);
  const o = JSON.parse(text);
  assert.equal(o.kind, 'deviceReport');
  assert.deepEqual(o.meta, { device: 'dev-1', deviceProduct: 'prod', accessTemplate: 'tpl', node: 'node-1', nodeProduct: 'BIE-Product' });
  assert.equal(o.content.blink.method, 'thing.property.post');
  assert.equal(o.content.blink.version, '1.0');
  assert.equal(o.content.blink.timestamp, 1659003513995);
  assert.match(o.content.blink.reqId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([o.content.epoch, o.content.seq, o.content.reportVersion, o.content.desireVersion, o.content.full], [7, 3, 12, 4, false]);
  assert.equal('desired' in o.content, false);

  const up = parseUplink('fieldgate/node-1/shadow/dev-1/report', Buffer.from(text));
  assert.equal(up.kind, 'ok');
  if (up.kind === 'ok' && up.value.type === 'report') {
    assert.equal(up.value.content.blink.properties?.['big'], 18446744073709551615n);
    assert.equal(up.value.content.seq, 3);
  } else assert.fail('not a report');
});

test('lifecycle, status and answer envelopes round-trip through parseUplink', () => {
  const lc = serialize(lifecycleMessage(meta, false, 100, { epoch: 1, seq: 2 }));
  assert.deepEqual(parseUplink('fieldgate/node-1/shadow/dev-1/lifecycle', lc), {
    kind: 'ok',
    value: { type: 'lifecycle', node: 'node-1', device: 'dev-1', online: false, pos: { epoch: 1, seq: 2 }, ts: 100 },
  });
  const st = serialize(lifecycleMessage(makeMeta('node-1', ''), true, 5));
  assert.deepEqual(JSON.parse(st).content.blink.params, { online_state: true });
  assert.deepEqual(parseUplink('fieldgate/node-1/status', st), { kind: 'ok', value: { type: 'status', node: 'node-1', online: true, ts: 5 } });

  const ack = ackMessage(meta, { epoch: 1, seq: 9 }, {
    status: 'partial',
    clientToken: 'tok',
    version: 3,
    desireVersion: 4,
    accepted: ['a'],
    rejected: [{ property: 'b', reason: 'read-only' }],
    timestamp: 6,
  });
  assert.equal(ack.kind, 'response');
  const parsed = parseUplink('fieldgate/node-1/shadow/dev-1/desired/ack', serialize(ack));
  assert.equal(parsed.kind, 'ok');
  if (parsed.kind === 'ok' && parsed.value.type === 'ack') assert.deepEqual(parsed.value.content, ack.content);
});

test('parseUplink rejects malformed messages with a reason', () => {
  const table: [string, string, RegExp][] = [
    ['fieldgate/n/shadow/d/report', 'not json', /not JSON/],
    ['fieldgate/n/shadow/d/report', '[]', /envelope object/],
    ['fieldgate/n/shadow/d/report', '{"kind":"deviceReport","meta":{},"content":{"blink":{"properties":{}}}}', /epoch\/seq/],
    ['fieldgate/n/shadow/d/lifecycle', '{"kind":"deviceReport","content":{}}', /lifecycle/],
    ['fieldgate/n/shadow/d/desired', '{"kind":"deviceDesire","content":{"desired":{}}}', /downlink/],
    ['other/topic', '{}', /not a fieldgate topic/],
  ];
  for (const [topic, payload, re] of table) {
    const r = parseUplink(topic, payload);
    assert.equal(r.kind, 'error', `${topic} ${payload}`);
    if (r.kind === 'error') assert.match(r.error, re);
  }
});

test('parseDesired: deviceDesire (AWS-like) and Baetyl deviceDelta', () => {
  const doc = serialize(desiredMessage(makeMeta('n', 'd'), { sp: 21.5, big: 9007199254740993n }, { version: 4, clientToken: 'c1', ts: 9 }));
  assert.deepEqual(parseDesired('d', doc), {
    kind: 'ok',
    value: { device: 'd', desired: { sp: 21.5, big: 9007199254740993n }, version: 4, clientToken: 'c1', timestamp: 9 },
  });
  // Baetyl v1/v2 delta: nulls mean "no change" and are dropped; no version.
  const delta = '{"kind":"deviceDelta","meta":{"device":"d"},"content":{"blink":{"method":"thing.property.invoke","properties":{"a":1,"b":null}}}}';
  assert.deepEqual(parseDesired('d', delta), { kind: 'ok', value: { device: 'd', desired: { a: 1 } } });

  const bad: [string, RegExp][] = [
    ['{"kind":"deviceDesire","content":{"desired":[1]}}', /desired is not an object/],
    ['{"kind":"deviceDesire","content":{"desired":{},"version":-1}}', /version/],
    ['{"kind":"deviceDesire","content":{"desired":{},"version":1.5}}', /version/],
    ['{"kind":"deviceDesire","content":{"desired":{},"clientToken":7}}', /clientToken/],
    ['{"kind":"deviceDesire","meta":{"device":"other"},"content":{"desired":{}}}', /not the topic's device/],
    ['{"kind":"deviceReport","content":{}}', /not deviceDesire/],
    ['{"kind":"deviceDelta","content":{"blink":{}}}', /blink.properties/],
    ['{"kind":"deviceDesire"}', /content/],
  ];
  for (const [payload, re] of bad) {
    const r = parseDesired('d', payload);
    assert.equal(r.kind, 'error', payload);
    if (r.kind === 'error') assert.match(r.error, re);
  }
});

test('parseGet keeps the reqId, or makes one', () => {
  assert.deepEqual(parseGet('{"kind":"deviceDesire","content":{"reqId":"r-1"}}'), { kind: 'ok', value: { reqId: 'r-1' } });
  const r = parseGet('{"kind":"deviceDesire","content":{}}');
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok') assert.ok(r.value.reqId.length > 0);
  assert.equal(parseGet('nope').kind, 'error');
});
