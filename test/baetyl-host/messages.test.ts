/**
 * The JSON messages of baetyl-gateway's driver protocol (sdk/README.md, gateway/driver.go) and the
 * connection schema of hosted drivers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baetylConnectionSchema } from '../../src/gateway/baetyl-host/descriptor.ts';
import { encodePropertyGet, encodeSet, parsePost, parseState, toPointValue } from '../../src/gateway/baetyl-host/messages.ts';

test('Post: deviceReport / deviceDesire keyed by point name, meta driverName + deviceName required', () => {
  // Verbatim example of baetyl-gateway-sdk sdk/README.md.
  const r = parsePost('{"kind":"deviceReport","meta":{"deviceName":"custom-zx","driverName":"custom-java"},"content":{"humidity":68,"pressure":11,"temperature":49}}');
  assert.deepEqual(r, { kind: 'ok', value: { kind: 'deviceReport', driverName: 'custom-java', deviceName: 'custom-zx', values: { humidity: 68, pressure: 11, temperature: 49 } } });
  assert.equal(parsePost('{"kind":"deviceDesire","meta":{"deviceName":"d","driverName":"x"},"content":{"a":1}}').kind, 'ok');
  // Exact 64-bit integers survive.
  const big = parsePost('{"kind":"deviceReport","meta":{"deviceName":"d","driverName":"x"},"content":{"n":18446744073709551615}}');
  assert.equal(big.kind === 'ok' && big.value.values.n, 18446744073709551615n);
  const BAD: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['{"kind":"deviceReport","content":{}}', /no "meta"/],
    ['{"kind":"deviceReport","meta":{"deviceName":"d"},"content":{}}', /driverName and deviceName/],
    ['{"kind":"deviceDelta","meta":{"deviceName":"d","driverName":"x"},"content":{}}', /expected deviceReport or deviceDesire/],
    ['{"kind":"deviceReport","meta":{"deviceName":"d","driverName":"x"},"content":[1]}', /keyed by point name/],
  ];
  for (const [text, re] of BAD) {
    const b = parsePost(text);
    assert.equal(b.kind, 'error', text);
    if (b.kind === 'error') assert.match(b.error.message, re, text);
  }
});

test('State: thing.lifecycle.post with content true/false', () => {
  assert.deepEqual(parseState('{"kind":"thing.lifecycle.post","meta":{"driverName":"m","deviceName":"d"},"content":false}'), { kind: 'ok', value: { driverName: 'm', deviceName: 'd', online: false } });
  assert.equal(parseState('{"kind":"thing.lifecycle.post","meta":{"driverName":"m","deviceName":"d"},"content":"on"}').kind, 'error');
});

test('Set and Get requests as baetyl-gateway sends them', () => {
  assert.equal(encodeSet('modbus', 'dev-1', [{ propName: '温度', propVal: 21.5 }, { propName: 'big', propVal: 9007199254740993n }]), '{"kind":"deviceDelta","meta":{"driverName":"modbus","deviceName":"dev-1"},"content":[{"propName":"温度","propVal":21.5},{"propName":"big","propVal":9007199254740993}]}');
  assert.equal(encodePropertyGet('modbus', 'dev-1', ['a', 'b']), '{"kind":"thing.property.get","meta":{"driverName":"modbus","deviceName":"dev-1"},"content":["a","b"]}');
});

test('reported values are checked against the point type', () => {
  const T: [Parameters<typeof toPointValue>[0], unknown, unknown][] = [
    ['float32', 1.5, 1.5],
    ['float64', '2.25', 2.25],
    ['int16', 7, 7],
    ['int16', 40000, 'error'],
    ['uint64', 18446744073709551615n, 18446744073709551615n],
    ['int64', 5, 5n],
    ['bool', true, true],
    ['bool', 1, true],
    ['bool', 'yes', 'error'],
    ['string', 12, '12'],
    ['float64', null, 'error'],
  ];
  for (const [type, v, want] of T) {
    const r = toPointValue(type, v);
    if (want === 'error') assert.equal(r.ok, false, `${type} ${String(v)}`);
    else assert.deepEqual(r, { ok: true, value: want }, `${type} ${String(v)}`);
  }
});

test('connection: Baetyl accessConfig kept opaque; fieldgate reads pollInterval and timeout if present', () => {
  assert.deepEqual(baetylConnectionSchema.parse('{"device": "custom-dev-0","interval": 3000000000}'), { interval: 60_000, timeout: 5_000, raw: '{"device": "custom-dev-0","interval": 3000000000}' });
  assert.deepEqual(baetylConnectionSchema.parse('{"pollInterval": "10s", "timeout": 2000000000}'), { interval: 10_000, timeout: 2_000, raw: '{"pollInterval": "10s", "timeout": 2000000000}' });
  const modbus = { id: 1, interval: '5s', timeout: '3s', tcp: { address: '127.0.0.1', port: 5020 } };
  assert.deepEqual(baetylConnectionSchema.parse(modbus), { interval: 60_000, timeout: 3_000, raw: modbus });
  assert.equal(baetylConnectionSchema.parse('not json at all').interval, 60_000);
  assert.equal(baetylConnectionSchema.safeParse({ pollInterval: 'soon' }).success, false);
  assert.equal(baetylConnectionSchema.safeParse({ timeout: true }).success, false);
});
