/**
 * Envelope shapes against BIE's verbatim examples (baetyl-conventions.md §1.4, §1.5) and
 * byte-exact splitting against baetyl-broker's 32768-byte payload limit (§3.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorMessage,
  eventMessage,
  getReportMessage,
  lifecycleMessage,
  metaOf,
  reportMessage,
  serialize,
  shadowResponseMessage,
  splitProperties,
  splitPropertyMap,
  byteLength,
  type Meta,
} from '../../src/gateway/mqtt/envelope.ts';
import { device, UUID_V4 } from './helpers/fixtures.ts';

const meta: Meta = metaOf(device(), 'node-test');
const LIMIT = 32768;

/** Parses a payload and replaces its blink reqId (random) with a fixed one, after checking it is a UUIDv4. */
function fixReqId(payload: string, reqId = '033cc79a-6adf-4d40-b5a1-3ff33693f19c'): unknown {
  const o = JSON.parse(payload) as { content: { blink: { reqId: string } } };
  assert.match(o.content.blink.reqId, UUID_V4);
  o.content.blink.reqId = reqId;
  return o;
}

test('metaOf: device, product, access template, node and the constant nodeProduct', () => {
  assert.deepEqual(meta, {
    device: 'device-test-1',
    deviceProduct: 'product-test',
    accessTemplate: 'access-template-test',
    node: 'node-test',
    nodeProduct: 'BIE-Product',
  });
});

test('reportMessage equals the BIE v2 property report example (doc bl93wf5by)', () => {
  const properties = {
    'high-temperature-alarm': false,
    'high-temperature-threshold': 324,
    humidity: 74.66774,
    switch: true,
    temperature: 315.88257,
  };
  const got = fixReqId(serialize(reportMessage(meta, properties, 1659003513995)));
  const bie = JSON.parse(`{
  "kind": "deviceReport",
  "meta": {"accessTemplate": "access-template-test","device": "device-test-1","deviceProduct": "product-test","node": "node-test","nodeProduct": "BIE-Product"},
  "content": {"blink": {"reqId": "033cc79a-6adf-4d40-b5a1-3ff33693f19c","method": "thing.property.post","version": "1.0","timestamp": 1659003513995,
    "properties": {"high-temperature-alarm": false,"high-temperature-threshold": 324,"humidity": 74.66774,"switch": true,"temperature": 315.88257}}}}`);
  assert.deepEqual(got, bie);
});

test('report payload is compact JSON in a fixed key order, bigint exact', () => {
  const m = metaOf(device('custom-zx', 'custom-simulator', 'custom-access-template'), '');
  const msg = reportMessage(m, { humidity: 80, energy: 18446744073709551615n }, 1698223117431);
  const text = serialize(msg).replace(UUID_V4_IN_TEXT, 'R');
  assert.equal(
    text,
    '{"kind":"deviceReport","meta":{"device":"custom-zx","deviceProduct":"custom-simulator","accessTemplate":"custom-access-template","node":"","nodeProduct":"BIE-Product"},' +
      '"content":{"blink":{"reqId":"R","method":"thing.property.post","version":"1.0","timestamp":1698223117431,"properties":{"humidity":80,"energy":18446744073709551615}}}}',
  );
});
const UUID_V4_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;

test('lifecycleMessage equals the BIE v2 lifecycle example', () => {
  const got = fixReqId(serialize(lifecycleMessage(meta, true, 1659003513995)));
  const bie = JSON.parse(`{
  "kind": "thing.lifecycle.post",
  "meta": {"accessTemplate": "access-template-test","device": "device-test-1","deviceProduct": "product-test","node": "node-test","nodeProduct": "BIE-Product"},
  "content": {"blink": {"reqId": "033cc79a-6adf-4d40-b5a1-3ff33693f19c","method": "thing.lifecycle.post","version": "1.0","timestamp": 1659003513995,"params": {"online_state": true}}}}`);
  assert.deepEqual(got, bie);
  assert.deepEqual((fixReqId(serialize(lifecycleMessage(meta, false, 1))) as { content: { blink: { params: unknown } } }).content.blink.params, {
    online_state: false,
  });
});

test('eventMessage: kind and method thing.event.post, events map in the blink', () => {
  const got = fixReqId(serialize(eventMessage(meta, { overheat: { temperature: 371.2 } }, 1700000000000)));
  assert.deepEqual(got, {
    kind: 'thing.event.post',
    meta,
    content: {
      blink: {
        reqId: '033cc79a-6adf-4d40-b5a1-3ff33693f19c',
        method: 'thing.event.post',
        version: '1.0',
        timestamp: 1700000000000,
        events: { overheat: { temperature: 371.2 } },
      },
    },
  });
});

test('getReportMessage: a deviceReport that echoes the request reqId when given', () => {
  const answer = getReportMessage(meta, { humidity: 13.870032 }, 1700000000001, 'req-42');
  assert.deepEqual(answer, {
    kind: 'deviceReport',
    meta,
    content: { blink: { reqId: 'req-42', method: 'thing.property.post', version: '1.0', timestamp: 1700000000001, properties: { humidity: 13.870032 } } },
  });
  assert.match((getReportMessage(meta, {}, 1).content.blink.reqId), UUID_V4);
});

test('shadowResponseMessage: kind response, content {name, report, desire} as in BIE v1 doc 8l13d4b5b', () => {
  const msg = shadowResponseMessage(metaOf(device('mod-test-1'), ''), {
    name: 'mod-test-1',
    report: { humidity: 13.870032, switch: true },
    desire: { 'high-temperature-threshold': 370 },
  });
  assert.equal(msg.kind, 'response');
  assert.deepEqual(JSON.parse(serialize(msg)).content, {
    name: 'mod-test-1',
    report: { humidity: 13.870032, switch: true },
    desire: { 'high-temperature-threshold': 370 },
  });
});

test('errorMessage: kind error; absent reqId/property/timestamp are omitted, not null', () => {
  assert.equal(
    serialize(errorMessage(meta, { reqId: 'r1', code: 'NotWritable', message: 'property "humidity" is ro', property: 'humidity' }, 5)).slice(
      serialize({ kind: 'error', meta }).length - 1,
    ),
    ',"content":{"reqId":"r1","code":"NotWritable","message":"property \\"humidity\\" is ro","property":"humidity","timestamp":5}}',
  );
  const bare = JSON.parse(serialize(errorMessage(meta, { code: 'Timeout', message: 'no answer' })));
  assert.deepEqual(bare, { kind: 'error', meta, content: { code: 'Timeout', message: 'no answer' } });
});

// ---- splitting ----

const build = (p: Record<string, unknown>) => reportMessage(meta, p, 1700000000000);

/** The bytes of a report with these properties (the reqId always has 36 characters). */
const sizeOf = (p: Record<string, unknown>) => byteLength(serialize(build(p)));

/** Properties of the payloads, merged; checks every payload is a report and no key repeats. */
function merged(payloads: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of payloads) {
    const props = (JSON.parse(p) as { content: { blink: { properties: Record<string, unknown> } } }).content.blink.properties;
    for (const [k, v] of Object.entries(props)) {
      assert.ok(!(k in out), `property ${k} in two payloads`);
      out[k] = v;
    }
  }
  return out;
}

test('split: a report of exactly 32768 bytes stays one message; one byte more makes two', () => {
  // Multi-byte UTF-8 (温 = 3 bytes) so that characters ≠ bytes.
  const props: Record<string, unknown> = { temperature: 21.5, label: '' };
  const fill = LIMIT - sizeOf(props);
  props['label'] = '温'.repeat(Math.floor(fill / 3)) + 'x'.repeat(fill % 3);
  assert.equal(sizeOf(props), LIMIT);
  const one = splitProperties(build, props, LIMIT);
  assert.equal(one.length, 1);
  assert.equal(byteLength(one[0]!), LIMIT);
  assert.deepEqual(merged(one), props);

  const over = { ...props, label: `${props['label'] as string}y` };
  assert.equal(sizeOf(over), LIMIT + 1);
  const two = splitProperties(build, over, LIMIT);
  assert.equal(two.length, 2);
  for (const p of two) assert.ok(byteLength(p) <= LIMIT);
  assert.deepEqual(merged(two), over);
});

test('split: a part may be filled to exactly the limit', () => {
  // a + b fill one message to exactly LIMIT; c forces a second message.
  const base = sizeOf({});
  const entry = (k: string, v: string) => byteLength(serialize({ [k]: v })) - 2;
  const aLen = 20000;
  const a = 'a'.repeat(aLen);
  // base + entry(a) + 1 + entry(b) = LIMIT
  const bLen = LIMIT - base - entry('a', a) - 1 - entry('b', '');
  const props = { a, b: 'b'.repeat(bLen), c: 'c'.repeat(20000) };
  const parts = splitPropertyMap(build, props, LIMIT);
  assert.deepEqual(parts.oversized, []);
  assert.equal(parts.payloads.length, 2);
  assert.deepEqual(parts.payloads.map(byteLength).sort((x, y) => y - x)[0], LIMIT);
  assert.deepEqual(merged(parts.payloads), props);
});

test('split: 100 equal properties are packed into the fewest messages, each within the limit', () => {
  const props: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) props[`p${String(i).padStart(3, '0')}`] = 'v'.repeat(990);
  const entrySize = byteLength(serialize({ p000: 'v'.repeat(990) })) - 2; // "p000":"vvv…" = 999
  const perMessage = Math.floor((LIMIT - sizeOf({}) + 1) / (entrySize + 1));
  const payloads = splitProperties(build, props, LIMIT);
  assert.equal(payloads.length, Math.ceil(100 / perMessage));
  for (const p of payloads) assert.ok(byteLength(p) <= LIMIT, `payload of ${byteLength(p)} bytes`);
  assert.deepEqual(merged(payloads), props);
  // Each part is its own message with its own reqId.
  const ids = payloads.map((p) => (JSON.parse(p) as { content: { blink: { reqId: string } } }).content.blink.reqId);
  assert.equal(new Set(ids).size, payloads.length);
});

test('split: first-fit decreasing needs 3 messages where in-order first-fit needs 4', () => {
  // Entry sizes as fractions of the room of one message: 0.2 0.5 0.4 0.7 0.1 0.3 0.8 (sum 3.0).
  // In order, first-fit makes [.2 .5 .1] [.4 .3] [.7] [.8]; largest first makes [.8 .2] [.7 .3] [.5 .4 .1].
  // Each entry is 1 byte under its fraction, which pays for the commas between entries.
  const room = LIMIT - sizeOf({});
  const val = (frac: number, k: string) => 'z'.repeat(Math.floor(room * frac) - 1 - (k.length + 5));
  const fracs = [0.2, 0.5, 0.4, 0.7, 0.1, 0.3, 0.8];
  const props: Record<string, string> = {};
  fracs.forEach((f, i) => (props[`k${i}`] = val(f, `k${i}`)));
  const payloads = splitProperties(build, props, LIMIT);
  assert.equal(payloads.length, 3);
  for (const p of payloads) assert.ok(byteLength(p) <= LIMIT);
  assert.deepEqual(merged(payloads), props);
  // Keys keep their original order inside each message.
  for (const p of payloads) {
    const keys = Object.keys((JSON.parse(p) as { content: { blink: { properties: object } } }).content.blink.properties);
    assert.deepEqual(keys, Object.keys(props).filter((k) => keys.includes(k)));
  }
});

test('split: a property too large alone gets its own oversized message and is flagged', () => {
  const props = { small: 1, huge: 'h'.repeat(40000), other: true };
  const r = splitPropertyMap(build, props, LIMIT);
  assert.deepEqual(r.oversized, ['huge']);
  assert.equal(r.payloads.length, 2);
  const big = r.payloads.filter((p) => byteLength(p) > LIMIT);
  assert.equal(big.length, 1);
  assert.deepEqual(merged(big), { huge: props.huge });
  assert.deepEqual(merged(r.payloads), props);
  // Alone: also flagged.
  assert.deepEqual(splitPropertyMap(build, { huge: props.huge }, LIMIT).oversized, ['huge']);
});

test('split: empty map gives one message with {}; undefined values are left out', () => {
  const empty = splitProperties(build, {}, LIMIT);
  assert.equal(empty.length, 1);
  assert.deepEqual(merged(empty), {});
  assert.deepEqual(merged(splitProperties(build, { a: 1, b: undefined }, LIMIT)), { a: 1 });
});

test('split: works for events and small limits (every payload within, nothing lost)', () => {
  const events: Record<string, unknown> = {};
  for (let i = 0; i < 40; i++) events[`e${i}`] = { code: i, text: 'ü'.repeat(i * 3) };
  const buildE = (e: Record<string, unknown>) => eventMessage(meta, e, 1);
  const max = 1024;
  const payloads = splitProperties(buildE, events, max);
  assert.ok(payloads.length > 1);
  const all: Record<string, unknown> = {};
  for (const p of payloads) {
    assert.ok(byteLength(p) <= max);
    Object.assign(all, (JSON.parse(p) as { content: { blink: { events: object } } }).content.blink.events);
  }
  assert.deepEqual(all, events);
});
