/**
 * Downlink decoding: a table of (topic, payload) → Downlink, with BIE's verbatim v1 delta example
 * (baetyl-conventions.md §1.5) and the v2 shapes built by baetyl `dm/manager.go` (§1.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDownlink, deviceOfTopic, type Downlink } from '../../src/gateway/mqtt/downlink.ts';
import { parseJsonExact } from '../../src/gateway/mqtt/jsonparse.ts';

const META = '"meta":{"accessTemplate":"access-template-test","device":"device-test-1","deviceProduct":"product-test","node":"node-test","nodeProduct":"BIE-Product"}';
const INVOKE = 'thing/product-test/device-test-1/property/invoke';
const GET = 'thing/product-test/device-test-1/property/get';
const C2D = 'thing/product-test/device-test-1/raw/c2d';
const RESP = '$baetyl/device/device-test-1/getResponse';

const rows: { name: string; topic: string; payload: string; want: Downlink }[] = [
  {
    name: 'deviceDesire on get: a shadow request (baetyl-core answers it on getResponse)',
    topic: '$baetyl/device/device-test-1/get',
    payload: `{"kind":"deviceDesire",${META},"content":{"name":"device-test-1"}}`,
    want: { kind: 'shadowRequest', device: 'device-test-1' },
  },
  {
    name: 'deviceDesire without meta: device from the $baetyl topic',
    topic: '$baetyl/device/device-test-1/get',
    payload: '{"kind":"deviceDesire","content":{}}',
    want: { kind: 'shadowRequest', device: 'device-test-1' },
  },
  {
    name: 'v2 delta (blink thing.property.invoke)',
    topic: INVOKE,
    payload: `{"kind":"deviceDelta",${META},"content":{"blink":{"reqId":"9a1c2a5e-7d3b-4b8e-9f1d-2a3b4c5d6e7f","method":"thing.property.invoke","version":"1.0","timestamp":1659003513995,"properties":{"high-temperature-threshold":300,"switch":false}}}}`,
    want: { kind: 'delta', device: 'device-test-1', reqId: '9a1c2a5e-7d3b-4b8e-9f1d-2a3b4c5d6e7f', properties: { 'high-temperature-threshold': 300, switch: false } },
  },
  {
    name: 'v1 delta, BIE doc 8l13d4b5b verbatim: bare map, nulls = no change',
    topic: '$baetyl/device/mod-test-1/delta',
    payload:
      '{"kind":"deviceDelta",\n "meta":{"address":"10.164.28.155","device":"mod-test-1","name":"modbus-test-1","namespace":"1cd2d7790b6f4347bbeb3ecee54eca6e"},\n "content":{"high-temperature-alarm":null,"high-temperature-threshold":300,"humidity":null,"switch":null,"temperature":null}}',
    want: { kind: 'delta', device: 'mod-test-1', properties: { 'high-temperature-threshold': 300 } },
  },
  {
    name: 'delta: meta.device wins over the topic (routing by meta, as baetyl-gateway)',
    topic: 'thing/p/other-device/property/invoke',
    payload: `{"kind":"deviceDelta",${META},"content":{"blink":{"properties":{"a":1}}}}`,
    want: { kind: 'delta', device: 'device-test-1', properties: { a: 1 } },
  },
  {
    name: 'delta without meta: device from the thing/ topic',
    topic: INVOKE,
    payload: '{"kind":"deviceDelta","content":{"blink":{"properties":{"a":"on"}}}}',
    want: { kind: 'delta', device: 'device-test-1', properties: { a: 'on' } },
  },
  {
    name: 'delta: int64 beyond 2^53 arrives exact (bigint)',
    topic: INVOKE,
    payload: `{"kind":"deviceDelta",${META},"content":{"blink":{"properties":{"total":18446744073709551615,"f":1.5e3,"n":-9007199254740993}}}}`,
    want: { kind: 'delta', device: 'device-test-1', properties: { total: 18446744073709551615n, f: 1500, n: -9007199254740993n } },
  },
  {
    name: 'delta: blink.properties not an object',
    topic: INVOKE,
    payload: `{"kind":"deviceDelta",${META},"content":{"blink":{"properties":[1,2]}}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.blink.properties" is an array, not an object' },
  },
  {
    name: 'delta: reqId not a string',
    topic: INVOKE,
    payload: `{"kind":"deviceDelta",${META},"content":{"blink":{"reqId":7,"properties":{}}}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.blink.reqId" is the number 7, not a string' },
  },
  {
    name: 'property get (dm/manager.go processUpDevicePropertyGetMsg shape)',
    topic: GET,
    payload: `{"kind":"thing.property.get",${META},"content":{"blink":{"reqId":"r-1","method":"thing.property.get","version":"1.0","timestamp":1,"properties":["temperature","humidity","temperature"]}}}`,
    want: { kind: 'propertyGet', device: 'device-test-1', reqId: 'r-1', names: ['temperature', 'humidity'] },
  },
  {
    name: 'property get without a list = all properties',
    topic: GET,
    payload: `{"kind":"thing.property.get",${META},"content":{"blink":{"method":"thing.property.get"}}}`,
    want: { kind: 'propertyGet', device: 'device-test-1', names: [] },
  },
  {
    name: 'property get: list with a non-string',
    topic: GET,
    payload: `{"kind":"thing.property.get",${META},"content":{"blink":{"properties":["a",3]}}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.blink.properties[1]" is the number 3, not a property name' },
  },
  {
    name: 'property get: properties is a map',
    topic: GET,
    payload: `{"kind":"thing.property.get",${META},"content":{"blink":{"properties":{"a":1}}}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.blink.properties" is an object, not an array of names' },
  },
  {
    name: 'deviceEvent type report = read now (dmcontext.Event)',
    topic: C2D,
    payload: `{"kind":"deviceEvent",${META},"content":{"type":"report","payload":null}}`,
    want: { kind: 'readNow', device: 'device-test-1' },
  },
  {
    name: 'deviceEvent of another type is ignored',
    topic: C2D,
    payload: `{"kind":"deviceEvent",${META},"content":{"type":"reboot"}}`,
    want: { kind: 'ignored', device: 'device-test-1', reason: 'deviceEvent type "reboot" is not handled' },
  },
  {
    name: 'deviceEvent without type',
    topic: C2D,
    payload: `{"kind":"deviceEvent",${META},"content":{"payload":1}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.type" is missing, not a string' },
  },
  {
    name: 'shadow response, BIE doc 8l13d4b5b verbatim',
    topic: '$baetyl/device/mod-test-1/getResponse',
    payload:
      '{"kind":"response","meta":{"device":"mod-test-1"},\n "content":{"name":"mod-test-1",\n   "report":{"high-temperature-alarm":true,"high-temperature-threshold":324,"humidity":13.870032,"status":"online","switch":true,"temperature":370.4124},\n   "desire":{"high-temperature-threshold":370}}}',
    want: {
      kind: 'shadowResponse',
      device: 'mod-test-1',
      report: { 'high-temperature-alarm': true, 'high-temperature-threshold': 324, humidity: 13.870032, status: 'online', switch: true, temperature: 370.4124 },
      desire: { 'high-temperature-threshold': 370 },
    },
  },
  {
    name: 'shadow response without meta or template topic: device from content.name; null desire = {}',
    topic: 'custom/responses',
    payload: '{"kind":"response","content":{"name":"dev-9","report":{"a":1},"desire":null}}',
    want: { kind: 'shadowResponse', device: 'dev-9', report: { a: 1 }, desire: {} },
  },
  {
    name: 'shadow response: report is a string',
    topic: RESP,
    payload: '{"kind":"response","content":{"name":"x","report":"oops"}}',
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content.report" is the string "oops", not an object' },
  },
  {
    name: 'our own report echoed back is ignored',
    topic: 'thing/product-test/device-test-1/property/post',
    payload: `{"kind":"deviceReport",${META},"content":{"blink":{"properties":{"a":1}}}}`,
    want: { kind: 'ignored', device: 'device-test-1', reason: 'kind "deviceReport" is an uplink message' },
  },
  {
    name: 'unknown kind is ignored',
    topic: INVOKE,
    payload: `{"kind":"multipleDeviceDesire",${META},"content":{}}`,
    want: { kind: 'ignored', device: 'device-test-1', reason: 'kind "multipleDeviceDesire" is not handled' },
  },
  {
    name: 'malformed JSON',
    topic: INVOKE,
    payload: '{"kind":"deviceDelta",',
    want: { kind: 'invalid', device: 'device-test-1', reason: 'payload is not JSON: unexpected end of JSON (expected a string key)' },
  },
  {
    name: 'trailing garbage',
    topic: INVOKE,
    payload: '{"kind":"deviceDelta"} x',
    want: { kind: 'invalid', device: 'device-test-1', reason: 'payload is not JSON: unexpected "x" at offset 23' },
  },
  {
    name: 'not an object (v1 allowed "any message" on get; not on our topics)',
    topic: 'some/topic',
    payload: '123',
    want: { kind: 'invalid', reason: 'payload is the number 123, not an envelope object' },
  },
  {
    name: 'no kind',
    topic: INVOKE,
    payload: `{${META},"content":{}}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: 'envelope has no string "kind"' },
  },
  {
    name: 'meta is an array',
    topic: INVOKE,
    payload: '{"kind":"deviceDelta","meta":[],"content":{}}',
    want: { kind: 'invalid', device: 'device-test-1', reason: '"meta" is an array, not an object' },
  },
  {
    name: 'meta.device is a number',
    topic: INVOKE,
    payload: '{"kind":"deviceDelta","meta":{"device":5},"content":{}}',
    want: { kind: 'invalid', device: 'device-test-1', reason: '"meta.device" is the number 5, not a non-empty string' },
  },
  {
    name: 'content is a string',
    topic: INVOKE,
    payload: `{"kind":"deviceDelta",${META},"content":"x"}`,
    want: { kind: 'invalid', device: 'device-test-1', reason: '"content" is the string "x", not an object' },
  },
  {
    name: 'no device anywhere',
    topic: 'plant/commands',
    payload: '{"kind":"deviceDelta","content":{"a":1}}',
    want: { kind: 'invalid', reason: 'no "meta.device" and topic "plant/commands" names no device' },
  },
  {
    name: 'empty payload',
    topic: GET,
    payload: '',
    want: { kind: 'invalid', device: 'device-test-1', reason: 'payload is not JSON: unexpected end of JSON (expected a JSON value)' },
  },
];

for (const row of rows) {
  test(`parseDownlink: ${row.name}`, () => {
    assert.deepEqual(parseDownlink(row.topic, Buffer.from(row.payload, 'utf8')), row.want);
  });
}

test('parseDownlink never throws on garbage bytes and deep nesting', () => {
  const inputs = [Buffer.from([0xff, 0xfe, 0x00, 0x7b]), Buffer.from('['.repeat(100000)), Buffer.from('{"kind":"deviceDelta","content":' + '['.repeat(70) + ']'.repeat(70) + '}')];
  for (const b of inputs) assert.equal(parseDownlink(INVOKE, b).kind, 'invalid');
});

test('deviceOfTopic: Baetyl templates only', () => {
  assert.equal(deviceOfTopic('thing/p/d1/property/invoke'), 'd1');
  assert.equal(deviceOfTopic('thing/p/d1/raw/c2d'), 'd1');
  assert.equal(deviceOfTopic('$baetyl/device/d2/getResponse'), 'd2');
  assert.equal(deviceOfTopic('thing/p/d1/property'), undefined);
  assert.equal(deviceOfTopic('a/b/c/d/e'), undefined);
});

test('parseJsonExact agrees with JSON.parse on ordinary JSON and keeps __proto__ as data', () => {
  const samples = ['{"a":[1,2.5,-0.0,1e-7,"\\u00e9\\n",true,false,null],"b":{}}', ' [ ] ', '"x"', '0', '-12.5E+3', '{"__proto__":{"x":1}}'];
  for (const s of samples) {
    const r = parseJsonExact(s);
    assert.equal(r.kind, 'ok');
    assert.deepEqual(r.kind === 'ok' && r.value, JSON.parse(s));
  }
  const proto = parseJsonExact('{"__proto__":{"x":1}}');
  assert.ok(proto.kind === 'ok' && Object.getPrototypeOf(proto.value) === Object.prototype);
  for (const bad of ['01', '1.', '.5', '"\\x"', '"a\nb"', '{"a" 1}', '[1,]', 'nul', '+1']) assert.equal(parseJsonExact(bad).kind, 'error', bad);
});
