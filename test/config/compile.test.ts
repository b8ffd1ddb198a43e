import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { genericDescriptor } from './registry.ts';
import { compileTexts, DEVICES, edit, errorLines, MODELS, pos, TEMPLATE } from './texts.ts';

describe('compile: the typed plan', () => {
  it('compiles points, mappings, topics and the connection', () => {
    const r = compileTexts();
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
    const { instance } = r;
    assert.equal(instance.name, 'm');
    assert.equal(instance.driver, 'modbus');
    assert.equal(instance.dir, '/etc/m');
    assert.equal(instance.driverConfig, '');
    assert.equal(instance.devices.length, 1);
    const d = instance.devices[0]!;
    assert.equal(d.name, 'meter-01');
    assert.equal(d.version, '1718006400abcdef');
    assert.equal(d.product, 'meter');
    assert.equal(d.accessTemplate, 'meter-tpl');
    assert.equal(d.instance, 'm');
    // Point ids written as numbers become strings; addresses are parsed by the Modbus schema.
    assert.deepEqual(
      d.points.map((p) => [p.id, p.name, p.type, (p.address as { table: string; address: number }).table, (p.address as { address: number }).address]),
      [
        ['1', 'voltage', 'float32', 'holding', 0],
        ['2', 'count', 'uint16', 'input', 2],
        ['3', 'limit', 'int16', 'holding', 16],
      ],
    );
    // `none` is dropped; precision 0 → undefined; "2" → 2; silentWin seconds → ms.
    assert.deepEqual(
      d.mappings.map((m) => ({ a: m.attribute, k: m.kind, ids: m.pointIds, p: m.precision, dev: m.deviation, sw: m.silentWin, db: m.deadband })),
      [
        { a: 'voltage', k: 'value', ids: ['1'], p: undefined, dev: 0, sw: 0, db: 0 },
        { a: 'count', k: 'calculate', ids: ['2'], p: 2, dev: 5, sw: 30_000, db: 0 },
        { a: 'limit', k: 'value', ids: ['3'], p: undefined, dev: 0, sw: 0, db: 0 },
      ],
    );
    assert.deepEqual(d.mappings[1]!.expr, { kind: 'bin', op: '*', left: { kind: 'var', id: '2' }, right: { kind: 'num', value: 10 } });
    // The given topic is kept; the missing ones default to Baetyl's templates.
    assert.deepEqual(d.topics.report, { topic: 'custom/meter-01/report', qos: 1 });
    assert.deepEqual(d.topics.delta, { topic: 'thing/meter/meter-01/property/invoke', qos: 0 });
    assert.deepEqual(d.topics.lifecycleReport, { topic: 'thing/meter/meter-01/lifecycle/post', qos: 1 });
    assert.deepEqual(d.topics.get, { topic: '$baetyl/device/meter-01/get', qos: 0 });
    assert.equal(d.connection.interval, 2000);
    assert.equal(d.connection.timeout, 10_000);
    assert.deepEqual(d.connection.tcp, { address: '127.0.0.1', port: 15020, framing: 'mbap' });
    assert.deepEqual([...d.model.keys()], ['voltage', 'count', 'limit', 'label']);
    assert.deepEqual(d.model.get('limit'), { name: 'limit', type: 'int32', mode: 'rw' });
    assert.equal(d.model.get('label')!.mode, 'ro', 'mode defaults to ro');
    assert.deepEqual(r.notes, []);
  });

  it('keeps a model property range, enum values and unit', () => {
    const models = `${MODELS}  - name: state
    type: enum
    mode: rw
    enumType:
      type: int32
      values:
        - {name: off, value: 0, displayName: Off}
        - {name: on, value: 1, displayName: On}
  - name: setpoint
    type: float32
    mode: rw
    unit: °C
    min: "-40"
    max: 125
    description: target
`;
    const r = compileTexts({ models });
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
    const m = r.instance.devices[0]!.model;
    assert.deepEqual(m.get('state'), { name: 'state', type: 'enum', mode: 'rw', enumValues: [0, 1] });
    assert.deepEqual(m.get('setpoint'), { name: 'setpoint', type: 'float32', mode: 'rw', unit: '°C', min: -40, max: 125 });
  });

  it('records (does not reject) an rw attribute whose calculate mapping cannot be solved for writes', () => {
    const template = edit(TEMPLATE, `    - attribute: limit
      type: value
      expression: x3`, `    - attribute: limit
      type: calculate
      expression: x3*x3`);
    const r = compileTexts({ template });
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
    assert.equal(
      formatIssues(r.notes),
      `m/access_template.yml:${pos(template, 'x3*x3', 'x3*x3')} meter-tpl.mappings[2].expression: attribute "limit" is rw but its expression cannot be solved for a write (x3 is multiplied by x3 (not linear)); desired values for it will be refused`,
    );
  });
});

describe('compile: error messages name file, path, position and what is allowed', () => {
  it('unknown key with the nearest valid key, without a second "missing" issue', () => {
    const devices = edit(DEVICES, 'address: 127.0.0.1', 'adress: 127.0.0.1');
    assert.deepEqual(errorLines(compileTexts({ devices })), [
      `m/sub_devices.yml:${pos(devices, 'adress')} devices[0].accessConfig.modbus.tcp.adress: unknown key "adress"; did you mean "address"?`,
    ]);
  });

  it('unknown key far from any valid one lists the allowed keys', () => {
    const devices = edit(DEVICES, '    deviceModel: meter', '    colour: red\n    deviceModel: meter');
    assert.deepEqual(errorLines(compileTexts({ devices })), [
      `m/sub_devices.yml:${pos(devices, 'colour')} devices[0].colour: unknown key "colour"; allowed keys: name, version, deviceModel, accessTemplate, deviceTopic, accessConfig`,
    ]);
  });

  it('bad enum value lists the allowed values and hints', () => {
    const models = edit(MODELS, '    type: int32\n    mode: rw', '    type: int32\n    mode: r');
    assert.deepEqual(errorLines(compileTexts({ models })), [
      `m/models.yml:${lineCol(models, '    mode: r', 'r')} meter[2].mode: expected one of "ro", "rw", got "r"; did you mean "ro"?`,
    ]);
  });

  it('bad literal union (Modbus function) and an out-of-range integer', () => {
    const template = edit(TEMPLATE, 'modbus: {function: 4, address: 2}', 'modbus: {function: 7, address: 2}');
    const devices = edit(DEVICES, 'port: 15020', 'port: 70000');
    assert.deepEqual(errorLines(compileTexts({ template, devices })), [
      `m/access_template.yml:${pos(template, 'function: 7', '7')} meter-tpl.properties[1].visitor.modbus.function: expected one of 1, 2, 3, 4, got 7`,
      `m/sub_devices.yml:${pos(devices, 'port: 70000', '70000')} devices[0].accessConfig.modbus.tcp.port: expected an integer 1..65535, got 70000`,
    ]);
  });

  it('a port written as text', () => {
    const devices = edit(DEVICES, 'port: 15020', 'port: x');
    assert.deepEqual(errorLines(compileTexts({ devices })), [
      `m/sub_devices.yml:${pos(devices, 'port: x', 'x')} devices[0].accessConfig.modbus.tcp.port: expected an integer 1..65535, got "x"`,
    ]);
  });

  it('missing model and template references, with a hint or the list', () => {
    const devices = edit(edit(DEVICES, 'deviceModel: meter', 'deviceModel: metre'), 'accessTemplate: meter-tpl', 'accessTemplate: boiler');
    assert.deepEqual(errorLines(compileTexts({ devices })), [
      `m/sub_devices.yml:${pos(devices, 'metre')} devices[0].deviceModel: model "metre" is not in models.yml; did you mean "meter"?`,
      `m/sub_devices.yml:${pos(devices, 'boiler')} devices[0].accessTemplate: access template "boiler" is not in access_template.yml; its templates: meter-tpl`,
    ]);
  });

  it('bad expression points at the column inside the file', () => {
    const template = edit(TEMPLATE, 'expression: x2*10', 'expression: x2*(10');
    const [line, col] = pos(template, 'x2*(10', 'x2*(10').split(':').map(Number) as [number, number];
    assert.deepEqual(errorLines(compileTexts({ template })), [
      `m/access_template.yml:${line}:${col + 6} meter-tpl.mappings[1].expression: bad expression "x2*(10": expected ')' (to close the '(' of column 4) at column 7, got the end`,
    ]);
  });

  it('bad expression in a quoted scalar counts the quote', () => {
    const template = edit(TEMPLATE, 'expression: x2*10', 'expression: "x2 $ 10"');
    const [line, col] = pos(template, '"x2 $ 10"', '"').split(':').map(Number) as [number, number];
    const lines = errorLines(compileTexts({ template }));
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.startsWith(`m/access_template.yml:${line}:${col + 1 + 3} meter-tpl.mappings[1].expression: bad expression "x2 $ 10": `), lines[0]);
  });

  it('x<id> that names no point, and a mapping onto an attribute the model lacks', () => {
    const template = edit(edit(TEMPLATE, 'expression: x2*10', 'expression: x2*10+x7'), 'attribute: limit', 'attribute: limits');
    assert.deepEqual(errorLines(compileTexts({ template })), [
      `m/access_template.yml:${pos(template, 'x2*10+x7')} meter-tpl.mappings[1].expression: x7 names no point of template "meter-tpl"; its point ids are 1, 2, 3`,
      `m/access_template.yml:${pos(template, 'limits')} meter-tpl.mappings[2].attribute: attribute "limits" is not a property of model "meter"; did you mean "limit"?`,
    ]);
  });

  it('type mismatches: float point onto an integer attribute, string point onto a number', () => {
    let template = edit(TEMPLATE, '      expression: x1\n', '      expression: x1\n    - attribute: count2\n      type: value\n      expression: x1\n');
    template = edit(template, `    - name: limit
      id: "3"
      type: int16`, `    - name: limit
      id: "3"
      type: string`);
    template = edit(template, 'address: "0x0010"', 'address: "0x0010"\n          quantity: 4');
    const models = `${MODELS}  - name: count2\n    type: int32\n`;
    assert.deepEqual(errorLines(compileTexts({ template, models })), [
      `m/access_template.yml:${nth(template, 'expression: x1', 2, 'x1')} meter-tpl.mappings[1].expression: x1 ("voltage", float32) cannot feed attribute "count2" (int32): a float32 point would lose its fraction in a int32 attribute; make the attribute float32/float64 or the point an integer type`,
      `m/access_template.yml:${pos(template, 'expression: x3', 'x3')} meter-tpl.mappings[3].expression: x3 ("limit", string) cannot feed attribute "limit" (int32): a string point cannot feed a int32 attribute; use a numeric point`,
    ]);
  });

  it('an integer point feeds a float attribute and a number feeds a bool', () => {
    const models = edit(edit(MODELS, '  - name: voltage\n    type: float32', '  - name: voltage\n    type: bool'), '  - name: limit\n    type: int32', '  - name: limit\n    type: float64');
    const r = compileTexts({ models });
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
  });

  it('a value mapping must be a bare variable; calculate needs numeric points', () => {
    let template = edit(TEMPLATE, '      type: value\n      expression: x1', '      type: value\n      expression: x1*2');
    template = edit(template, `    - name: limit
      id: "3"
      type: int16`, `    - name: limit
      id: "3"
      type: string`);
    template = edit(template, 'address: "0x0010"', 'address: "0x0010"\n          quantity: 4');
    template = edit(template, '      type: value\n      expression: x3', '      type: calculate\n      expression: x3+1');
    assert.deepEqual(errorLines(compileTexts({ template })), [
      `m/access_template.yml:${pos(template, 'x1*2')} meter-tpl.mappings[0].expression: a value mapping passes one point through: write just x<id> (e.g. x1), or use type calculate`,
      `m/access_template.yml:${pos(template, 'x3+1')} meter-tpl.mappings[2].expression: calculate works on numbers, but x3 is string; use a value mapping for it`,
    ]);
  });

  it('a visitor without the driver key names the key expected', () => {
    const template = edit(TEMPLATE, 'modbus: {function: 4, address: 2}', 'opcua: {nodeid: "ns=1;i=5"}');
    assert.deepEqual(errorLines(compileTexts({ template })), [
      `m/access_template.yml:${pos(template, 'opcua: {', 'opcua')} meter-tpl.properties[1].visitor: no visitor.modbus: this instance runs driver "modbus", so every point needs its address under visitor.modbus (found: opcua)`,
    ]);
  });

  it('the driver checkPoint runs (coil typed float32)', () => {
    const template = edit(TEMPLATE, 'modbus: {function: 4, address: 2}', 'modbus: {function: 1, address: 2}');
    assert.deepEqual(errorLines(compileTexts({ template })), [
      `m/access_template.yml:${nth(template, 'type: uint16', 1, 'uint16')} meter-tpl.properties[1].type: function 1 (coils) holds bits: type must be bool, not uint16`,
    ]);
  });

  it('duplicates: device names, point ids, mapping attributes, model properties', () => {
    const devices = DEVICES.replace('driver: ""\n', '') + DEVICES.slice(DEVICES.indexOf('  - name: meter-01'));
    const template = edit(edit(TEMPLATE, '      id: "3"', '      id: "1"'), 'attribute: limit', 'attribute: voltage');
    const models = `${MODELS}  - name: count\n    type: int16\n`;
    assert.deepEqual(errorLines(compileTexts({ devices, template, models })), [
      `m/models.yml:${nth(models, 'name: count', 2, 'count')} meter[4].name: duplicate property name "count" in model "meter" (also meter[1])`,
      `m/access_template.yml:${nth(template, 'id: "1"', 2, '"1"')} meter-tpl.properties[2].id: duplicate point id "1" (also meter-tpl.properties[0])`,
      `m/access_template.yml:${nth(template, 'attribute: voltage', 2, 'voltage')} meter-tpl.mappings[2].attribute: duplicate mapping for attribute "voltage" (also meter-tpl.mappings[0])`,
      `m/sub_devices.yml:${nth(devices, 'name: meter-01', 2, 'meter-01')} devices[1].name: duplicate device name "meter-01" (also devices[0])`,
    ]);
  });

  it('reports several issues of several files at once, in file order', () => {
    const models = edit(MODELS, 'type: float32', 'type: float');
    const template = edit(TEMPLATE, 'expression: x3', 'expression: x9');
    const devices = edit(edit(DEVICES, 'interval: 2s', 'interval: soon'), 'qos: 1', 'qos: 2');
    const lines = errorLines(compileTexts({ models, template, devices }));
    assert.deepEqual(lines, [
      `m/models.yml:${pos(models, 'type: float', 'float')} meter[0].type: expected one of "bool", "int", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "string", "time", "date", "enum", "array", "object", got "float"; did you mean "float32"?`,
      `m/access_template.yml:${pos(template, 'x9')} meter-tpl.mappings[2].expression: x9 names no point of template "meter-tpl"; its point ids are 1, 2, 3`,
      `m/sub_devices.yml:${pos(devices, 'qos: 2', '2')} devices[0].deviceTopic.report.qos: expected one of 0, 1, "0", "1", got 2`,
      `m/sub_devices.yml:${pos(devices, 'soon')} devices[0].accessConfig.modbus.interval: "soon" is not a duration; write e.g. 500ms, 5s, 1m`,
    ]);
  });

  it('YAML syntax errors carry their position', () => {
    const devices = edit(DEVICES, '    deviceModel: meter', '    deviceModel: meter\n    deviceModel: other');
    const lines = errorLines(compileTexts({ devices }));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^m/sub_devices\\.yml:${pos(devices, 'deviceModel: other', 'deviceModel')}: YAML syntax: Map keys must be unique`));
  });

  it('a missing accessConfig entry for the driver, and a wrong root type', () => {
    const devices = edit(DEVICES, '      modbus:\n        id: 3', '      bacnet:\n        id: 3');
    assert.deepEqual(errorLines(compileTexts({ devices, models: '- a\n- b\n' })), [
      `m/models.yml:1:1: expected a map, got a list`,
      `m/sub_devices.yml:${pos(devices, 'bacnet:', 'bacnet')} devices[0].accessConfig: no accessConfig.modbus: this instance runs driver "modbus", so every device needs its connection under accessConfig.modbus (found: bacnet)`,
    ]);
  });

  it('a generic driver accepts any visitor map (other protocols)', () => {
    const r = compileTexts({ template: TEMPLATE.replaceAll('modbus', 'other'), devices: DEVICES.replace('modbus:', 'other:') }, genericDescriptor('other'), 'other');
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.errors));
  });
});

/** `line:col` of `token` on the n-th (1-based) line containing `lineHas`. */
function nth(text: string, lineHas: string, n: number, token?: string): string {
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes(lineHas)) continue;
    if (++seen < n) continue;
    const t = token ?? lineHas;
    return `${i + 1}:${lines[i]!.indexOf(t, lines[i]!.indexOf(lineHas)) + 1}`;
  }
  throw new Error(`fewer than ${n} lines have ${lineHas}`);
}

/** `line:col` of `token` on the first line equal to `line`. */
function lineCol(text: string, line: string, token: string): string {
  const lines = text.split('\n');
  const i = lines.indexOf(line);
  if (i < 0) throw new Error(`no line ${line}`);
  return `${i + 1}:${lines[i]!.indexOf(token, line.length - token.length) + 1}`;
}
