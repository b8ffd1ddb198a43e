/**
 * The configuration the fault scenarios 2 and 5 run: `n` Modbus devices `counter-1..n` with one
 * int32 attribute `count` (input register 0), on one simulator port with unit ids 1..n, reports
 * at QoS 1; and the counter generators that drive them.
 */
import type { GeneratorSpecInput } from '../../../simulators/common/generators.ts';

/** Device names `counter-1` … `counter-n`. */
export function counterNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `counter-${i + 1}`);
}

/** The three Baetyl files of the `modbus` instance (give them to writeConf with your gateway.yaml). */
export function counterInstance(names: readonly string[], simPort: number, intervalMs = 100): { models: string; template: string; devices: string } {
  const devices = names
    .map(
      (n, i) =>
        `  - name: ${n}\n    deviceModel: counter\n    accessTemplate: counter-tpl\n    deviceTopic:\n      report: {qos: 1, topic: thing/counter/${n}/property/post}\n` +
        `    accessConfig:\n      modbus: {id: ${i + 1}, interval: ${intervalMs}ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\n`,
    )
    .join('');
  return {
    models: 'counter:\n  - {name: count, type: int32, mode: ro}\n',
    template: 'counter-tpl:\n  properties:\n    - {name: c, id: "1", type: uint16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: count, type: value, expression: x1}\n',
    devices: `devices:\n${devices}driver: ""\n`,
  };
}

/** A counter 0, 1, 2, … on `count` of every device, one step every `everyMs`. */
export function counterGenerators(names: readonly string[], everyMs: number): Record<string, Record<string, GeneratorSpecInput>> {
  return Object.fromEntries(names.map((n) => [n, { count: { kind: 'counter', start: 0, increment: 1, every: everyMs } }]));
}
