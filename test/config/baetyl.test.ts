/**
 * Baetyl's own example files (baetyl-gateway etc/*) load unchanged: Modbus with the real Modbus
 * schemas, the other protocols through the generic structure (their drivers come later).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compile } from '../../src/devicemodel/compile.ts';
import type { CompileResult } from '../../src/devicemodel/compile.ts';
import { deviceSchema, devicesFileSchema } from '../../src/devicemodel/schema/devices.ts';
import { productSchema } from '../../src/devicemodel/schema/models.ts';
import { templateSchema } from '../../src/devicemodel/schema/template.ts';
import { parseYaml } from '../../src/devicemodel/schema/yaml.ts';
import type { ParsedYaml } from '../../src/devicemodel/schema/yaml.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { genericDescriptor, modbusDescriptor } from './registry.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'baetyl');

function files(proto: string): { models: ParsedYaml; template: ParsedYaml; devices: ParsedYaml } {
  const read = (name: string): ParsedYaml => parseYaml(`${proto}/${name}`, readFileSync(path.join(FIXTURES, proto, name), 'utf8'));
  return { models: read('models.yml'), template: read('access_template.yml'), devices: read('sub_devices.yml') };
}

function compiled(proto: string, useGeneric: boolean): Extract<CompileResult, { ok: true }> {
  const r = compile({
    instanceName: proto,
    driverId: proto,
    dir: path.join(FIXTURES, proto),
    files: files(proto),
    driver: useGeneric ? genericDescriptor(proto) : modbusDescriptor,
  });
  assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
  return r;
}

describe("Baetyl's example files", () => {
  for (const proto of ['modbus', 'opcua', 'bacnet', 'iec104']) {
    it(`${proto}: every entry passes the generic schemas`, () => {
      const f = files(proto);
      for (const [name, list] of Object.entries(f.models.data as Record<string, unknown>)) {
        assert.ok(productSchema.safeParse(list).success, `model ${name}`);
      }
      for (const [name, t] of Object.entries(f.template.data as Record<string, unknown>)) {
        const r = templateSchema.safeParse(t);
        assert.ok(r.success, `template ${name}: ${r.success ? '' : r.error.message}`);
      }
      const d = devicesFileSchema.parse(f.devices.data);
      assert.ok(d.devices.length >= 1);
      for (const dev of d.devices) assert.ok(deviceSchema.safeParse(dev).success);
    });
  }

  it('modbus: compiles with the real Modbus schemas, topics as written', () => {
    const { instance } = compiled('modbus', false);
    const d = instance.devices[0]!;
    assert.equal(d.name, 'modbus-0331');
    assert.equal(d.version, '1680263365qc3fdv');
    assert.equal(d.product, 'modbus-simulator');
    assert.equal(d.connection.interval, 5000);
    assert.equal(d.connection.timeout, 10_000);
    assert.deepEqual(d.connection.tcp, { address: '127.0.0.1', port: 5020, framing: 'mbap' });
    assert.deepEqual(
      d.points.map((p) => [p.id, p.name, p.type, (p.address as { table: string }).table, (p.address as { address: number }).address]),
      [
        ['1', '开关', 'bool', 'coil', 1],
        ['2', '温度', 'float32', 'holding', 0],
        ['3', '湿度', 'float32', 'holding', 2],
        ['4', '高温阈值', 'int32', 'holding', 4],
        ['5', '高温报警', 'bool', 'coil', 0],
      ],
    );
    assert.deepEqual(
      d.mappings.map((m) => [m.attribute, m.kind, m.pointIds.join(), m.precision]),
      [
        ['switch', 'value', '1', undefined],
        ['temperature', 'value', '2', undefined],
        ['humidity', 'value', '3', undefined],
        ['high-temperature-threshold', 'value', '4', undefined],
        ['high-temperature-alarm', 'value', '5', undefined],
      ],
    );
    // The file's topics are Baetyl's defaults with QoS 0 except lifecycleReport.
    assert.deepEqual(d.topics, {
      delta: { topic: 'thing/modbus-simulator/modbus-0331/property/invoke', qos: 0 },
      report: { topic: 'thing/modbus-simulator/modbus-0331/property/post', qos: 0 },
      event: { topic: 'thing/modbus-simulator/modbus-0331/raw/c2d', qos: 0 },
      get: { topic: '$baetyl/device/modbus-0331/get', qos: 0 },
      getResponse: { topic: '$baetyl/device/modbus-0331/getResponse', qos: 0 },
      eventReport: { topic: 'thing/modbus-simulator/modbus-0331/event/post', qos: 0 },
      propertyGet: { topic: 'thing/modbus-simulator/modbus-0331/property/get', qos: 0 },
      lifecycleReport: { topic: 'thing/modbus-simulator/modbus-0331/lifecycle/post', qos: 1 },
    });
    assert.equal(d.model.get('switch')!.mode, 'rw');
  });

  it('opcua, bacnet, iec104: compile through the generic structure', () => {
    const opcua = compiled('opcua', true).instance;
    assert.equal(opcua.devices[0]!.name, 'opcua-230526');
    assert.deepEqual(opcua.devices[0]!.points[0]!.address, { type: 'int32', nsBase: 1, idBase: 'the.answer', idType: 's' });
    assert.equal(opcua.devices[0]!.connection.timeout, 10_000);
    const bacnet = compiled('bacnet', true).instance;
    assert.deepEqual(bacnet.devices.map((d) => d.name), ['gateway-bacnet-59', 'gateway-bacnet-60']);
    assert.equal(bacnet.devices[0]!.mappings[0]!.precision, 2);
    const iec = compiled('iec104', true).instance;
    assert.deepEqual(iec.devices[0]!.points.map((p) => (p.address as { pointType: string }).pointType), ['AI', 'AO', 'DI', 'DO']);
    assert.equal(iec.devices[0]!.connection.interval, 5000);
  });
});
