/** Small valid Baetyl files for config tests, and helpers to compile variants of them. */
import { compile } from '../../src/devicemodel/compile.ts';
import type { CompileResult, CompileDriver } from '../../src/devicemodel/compile.ts';
import { parseYaml } from '../../src/devicemodel/schema/yaml.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { modbusDescriptor } from './registry.ts';

export const MODELS = `meter:
  - name: voltage
    type: float32
    mode: ro
  - name: count
    type: int32
    mode: ro
  - name: limit
    type: int32
    mode: rw
  - name: label
    type: string
`;

export const TEMPLATE = `meter-tpl:
  properties:
    - name: voltage
      id: "1"
      type: float32
      visitor:
        modbus:
          function: 3
          address: "0x0000"
          quantity: 2
    - name: count
      id: 2
      type: uint16
      visitor:
        modbus: {function: 4, address: 2}
    - name: limit
      id: "3"
      type: int16
      visitor:
        modbus:
          function: 3
          address: "0x0010"
  mappings:
    - attribute: voltage
      type: value
      expression: x1
      precision: 0
    - attribute: count
      type: calculate
      expression: x2*10
      precision: "2"
      deviation: 5
      silentWin: "30"
    - attribute: limit
      type: value
      expression: x3
    - attribute: label
      type: none
`;

export const DEVICES = `devices:
  - name: meter-01
    version: 1718006400abcdef
    deviceModel: meter
    accessTemplate: meter-tpl
    deviceTopic:
      report:
        qos: 1
        topic: custom/meter-01/report
    accessConfig:
      modbus:
        id: 3
        interval: 2s
        tcp:
          address: 127.0.0.1
          port: 15020
driver: ""
`;

export interface Texts {
  models?: string;
  template?: string;
  devices?: string;
}

/** File names used in messages by {@link compileTexts}. */
export const FILES = { models: 'm/models.yml', template: 'm/access_template.yml', devices: 'm/sub_devices.yml' } as const;

/** Compiles the given texts (defaults: the valid ones above) as instance `m` of `driver`. */
export function compileTexts(t: Texts = {}, driver: CompileDriver = modbusDescriptor, driverId = 'modbus'): CompileResult {
  return compile({
    instanceName: 'm',
    driverId,
    dir: '/etc/m',
    files: {
      models: parseYaml(FILES.models, t.models ?? MODELS),
      template: parseYaml(FILES.template, t.template ?? TEMPLATE),
      devices: parseYaml(FILES.devices, t.devices ?? DEVICES),
    },
    driver,
  });
}

/** The rendered error lines of a failed compile (throws when it succeeded). */
export function errorLines(r: CompileResult): string[] {
  if (r.ok) throw new Error('expected the compile to fail');
  return formatIssues(r.errors).split('\n');
}

/**
 * `line:column` of `token` on the first line of `text` containing `lineHas` (1-based), so that
 * tests state positions by content rather than by counting.
 */
export function pos(text: string, lineHas: string, token: string = lineHas): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(lineHas));
  if (i < 0) throw new Error(`no line has ${lineHas}`);
  const col = lines[i]!.indexOf(token, lines[i]!.indexOf(lineHas));
  if (col < 0) throw new Error(`no ${token} on line ${i + 1}`);
  return `${i + 1}:${col + 1}`;
}

/** Replaces exactly one occurrence (fails loudly when the text has none, so a test cannot go stale). */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0) throw new Error(`text has no ${JSON.stringify(from)}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}
