/** The small parts: default topics, issue formatting, hints, the YAML locator, schema descriptions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defaultTopics } from '../../src/devicemodel/topics.ts';
import { editDistance, formatPath, isSecretPath, nearest } from '../../src/devicemodel/schema/issues.ts';
import { parseYaml } from '../../src/devicemodel/schema/yaml.ts';
import { describeSchema, parseAt } from '../../src/devicemodel/schema/zod-issues.ts';
import { mappingSchema } from '../../src/devicemodel/schema/template.ts';
import { gatewayFileSchema } from '../../src/gateway/config/gateway-schema.ts';
import { formatIssue, formatIssues } from '../../src/gateway/config/issues.ts';
import { modbusConnectionSchema } from '../../src/drivers/modbus/address.ts';

describe('defaultTopics (Baetyl dm/store.go templates)', () => {
  it('fills product and device; QoS 0 except lifecycleReport 1', () => {
    assert.deepEqual(defaultTopics('power-meter', 'meter-01'), {
      report: { topic: 'thing/power-meter/meter-01/property/post', qos: 0 },
      delta: { topic: 'thing/power-meter/meter-01/property/invoke', qos: 0 },
      event: { topic: 'thing/power-meter/meter-01/raw/c2d', qos: 0 },
      get: { topic: '$baetyl/device/meter-01/get', qos: 0 },
      getResponse: { topic: '$baetyl/device/meter-01/getResponse', qos: 0 },
      eventReport: { topic: 'thing/power-meter/meter-01/event/post', qos: 0 },
      propertyGet: { topic: 'thing/power-meter/meter-01/property/get', qos: 0 },
      lifecycleReport: { topic: 'thing/power-meter/meter-01/lifecycle/post', qos: 1 },
    });
  });
});

describe('issue formatting', () => {
  it('renders file:line:col path: message, and degrades without position or path', () => {
    assert.equal(
      formatIssues([
        { file: 'conf/modbus/sub_devices.yml', path: ['devices', 0, 'accessConfig', 'modbus', 'tcp', 'port'], line: 12, column: 9, message: 'expected an integer 1..65535, got "x"' },
        { file: 'conf/modbus/models.yml', path: [], message: 'file not found' },
        { file: 'conf/gateway.yaml', path: ['drivers'], message: 'expected a list' },
      ]),
      'conf/modbus/sub_devices.yml:12:9 devices[0].accessConfig.modbus.tcp.port: expected an integer 1..65535, got "x"\n' +
        'conf/modbus/models.yml: file not found\n' +
        'conf/gateway.yaml drivers: expected a list',
    );
    assert.equal(formatIssue({ file: 'f.yml', path: [], line: 3, column: 1, message: 'YAML syntax: bad' }), 'f.yml:3:1: YAML syntax: bad');
  });

  it('quotes keys that are not plain', () => {
    assert.equal(formatPath(['power-meter', 0, 'name']), 'power-meter[0].name');
    assert.equal(formatPath(['a.b', 'c d', 'x']), '["a.b"]["c d"].x');
    assert.equal(formatPath(['温度计', 1]), '温度计[1]');
  });
});

describe('hints', () => {
  it('edit distance counts a transposition as one edit', () => {
    assert.equal(editDistance('metre', 'meter'), 1);
    assert.equal(editDistance('adress', 'address'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });
  it('suggests close names only', () => {
    assert.equal(nearest('adress', ['address', 'port']), 'address');
    assert.equal(nearest('Interval', ['interval', 'timeout']), 'interval');
    assert.equal(nearest('r', ['ro', 'rw']), 'ro');
    assert.equal(nearest('X', ['E', 'N', 'O']), undefined);
    assert.equal(nearest('colour', ['name', 'version']), undefined);
    assert.equal(nearest('float', ['float32', 'float64', 'bool']), 'float32');
  });
  it('treats passwords and keys as secret', () => {
    assert.equal(isSecretPath(['broker', 'password']), true);
    assert.equal(isSecretPath(['broker', 'key']), true);
    assert.equal(isSecretPath(['devices', 0, 'accessConfig', 'opcua', 'auth', 'password']), true);
    assert.equal(isSecretPath(['broker', 'username']), false);
  });
});

describe('YAML locator', () => {
  const text = 'devices:\n  - name: a\n    accessConfig:\n      modbus:\n        tcp:\n          port: x\n    empty:\n';
  const f = parseYaml('s.yml', text);
  it('finds values, keys, and the nearest existing parent of a missing key', () => {
    assert.deepEqual(f.locate(['devices', 0, 'accessConfig', 'modbus', 'tcp', 'port']), { line: 6, column: 17 });
    assert.deepEqual(f.locate(['devices', 0, 'accessConfig', 'modbus', 'tcp', 'port'], { key: true }), { line: 6, column: 11 });
    assert.deepEqual(f.locate(['devices', 0, 'accessConfig', 'modbus', 'tcp', 'address']), { line: 6, column: 11 });
    assert.deepEqual(f.locate(['devices', 0, 'empty']), { line: 7, column: 5 });
    assert.deepEqual(f.locate(['devices', 3]), { line: 2, column: 3 });
    assert.deepEqual(f.locate([]), { line: 1, column: 1 });
  });
  it('an empty file is null data without issues', () => {
    const e = parseYaml('e.yml', '# nothing\n');
    assert.equal(e.data, null);
    assert.deepEqual(e.issues, []);
  });
});

describe('schema descriptions and Baetyl number spellings', () => {
  it('describes what is allowed', () => {
    assert.equal(describeSchema(z.number().int().min(1).max(65535)), 'an integer 1..65535');
    assert.equal(describeSchema(z.number().min(0)), 'a number >= 0');
    assert.equal(describeSchema(z.enum(['ro', 'rw']).default('ro')), 'one of "ro", "rw"');
    assert.equal(describeSchema(z.union([z.literal(1), z.literal(2)])), 'one of 1, 2');
    assert.equal(describeSchema(z.string().min(1).optional()), 'a non-empty string');
  });
  it('reads numbers written as strings in mappings', () => {
    const f = parseYaml('t.yml', 'm: {attribute: a, type: value, expression: x1, precision: "3", deviation: "2.5", silentWin: "60"}\n');
    const r = parseAt(mappingSchema, (f.data as { m: unknown }).m, f, ['m']);
    assert.ok(r.ok);
    assert.deepEqual(r.value, { attribute: 'a', type: 'value', expression: 'x1', precision: 3, deviation: 2.5, silentWin: 60 });
    const bad = parseAt(mappingSchema, { attribute: 'a', silentWin: 'soon' }, f, ['m']);
    assert.ok(!bad.ok);
    assert.deepEqual(bad.issues.map((i) => [i.path.join('.'), i.message]), [['m.silentWin', 'expected an integer, got "soon"']]);
  });
  it('reports an unknown key inside a driver connection with the driver schema keys', () => {
    const f = parseYaml('d.yml', 'c:\n  interval: 1s\n  tcp: {address: h, port: 502}\n  retrys: 3\n');
    const r = parseAt(modbusConnectionSchema, (f.data as { c: unknown }).c, f, ['c']);
    assert.ok(!r.ok);
    assert.deepEqual(r.issues, [{ file: 'd.yml', path: ['c', 'retrys'], line: 4, column: 3, message: 'unknown key "retrys"; did you mean "retries"?' }]);
  });
  it('gateway.yaml defaults', () => {
    assert.deepEqual(gatewayFileSchema.parse({}), { node: 'fieldgate', dataDir: './data', log: { level: 'info' }, maxPayload: 32_768, drivers: [] });
    assert.equal(gatewayFileSchema.parse({ heartbeat: '1m', broker: { url: 'tcp://127.0.0.1:1883', keepalive: '30s' } }).broker!.keepalive, 30_000);
  });
});
