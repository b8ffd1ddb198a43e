/**
 * A gateway for the console tests: two Modbus devices served by the simulator (a boiler with a
 * writable setpoint and pump, a meter) and one whose port has nothing listening (offline).
 */
import assert from 'node:assert/strict';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { eventually, freePort, load, startTestGateway, writeConf } from '../e2e/harness.ts';

export interface ConsoleRig {
  readonly gateway: Gateway;
  readonly sim: ModbusSimulator;
  readonly base: string;
  /** The gateway's configuration folder (its driver instance's files are under modbus/). */
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startRig(opts: { token?: string } = {}): Promise<ConsoleRig> {
  const [simPort, deadPort, mqttPort] = [await freePort(), await freePort(), await freePort()];
  const api = `api: {host: 127.0.0.1, port: 0${opts.token ? `, token: ${opts.token}` : ''}}`;
  const modbus = (id: number, port: number, interval = '200ms') => `modbus: {id: ${id}, interval: ${interval}, timeout: 300ms, tcp: {address: 127.0.0.1, port: ${port}}}`;
  const conf = writeConf({
    gateway: `node: console-node\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\n${api}\ndrivers:\n  - {name: plant, driver: modbus, path: ./modbus}\n`,
    models: [
      'boiler:',
      '  - {name: temperature, type: float32, mode: ro, unit: °C}',
      '  - {name: pressure, type: float32, mode: ro, unit: bar}',
      '  - {name: setpoint, type: float32, mode: rw, unit: °C, min: 20, max: 90}',
      '  - {name: pump, type: bool, mode: rw}',
      'meter:',
      '  - {name: power, type: float32, mode: ro, unit: W}',
      '',
    ].join('\n'),
    template: [
      'boiler-tpl:',
      '  properties:',
      '    - {name: t, id: "1", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}',
      '    - {name: p, id: "2", type: int16, visitor: {modbus: {function: 4, address: "0x1", quantity: 1}}}',
      '    - {name: sp, id: "3", type: int16, visitor: {modbus: {function: 3, address: "0x0", quantity: 1}}}',
      '    - {name: pump, id: "4", type: bool, visitor: {modbus: {function: 1, address: "0x0", quantity: 1}}}',
      '  mappings:',
      '    - {attribute: temperature, type: calculate, expression: x1/10, precision: 1}',
      '    - {attribute: pressure, type: calculate, expression: x2/100, precision: 2}',
      '    - {attribute: setpoint, type: calculate, expression: x3/10, precision: 1}',
      '    - {attribute: pump, type: value, expression: x4}',
      'meter-tpl:',
      '  properties:',
      '    - {name: w, id: "1", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}',
      '  mappings:',
      '    - {attribute: power, type: value, expression: x1}',
      '',
    ].join('\n'),
    devices: [
      'devices:',
      '  - name: boiler-1',
      '    deviceModel: boiler',
      '    accessTemplate: boiler-tpl',
      `    accessConfig: {${modbus(1, simPort)}}`,
      '  - name: meter-7',
      '    deviceModel: meter',
      '    accessTemplate: meter-tpl',
      `    accessConfig: {${modbus(2, simPort)}}`,
      '  - name: chiller-2',
      '    deviceModel: meter',
      '    accessTemplate: meter-tpl',
      `    accessConfig: {${modbus(1, deadPort, '500ms')}}`,
      'driver: ""',
      '',
    ].join('\n'),
  });
  const { instances } = await load(conf.dir);
  const served = instances[0]!.devices.filter((d) => d.name !== 'chiller-2');
  const sim = await startModbusSimulator({ devices: served, tickMs: 0 });
  sim.device('boiler-1').set('temperature', 61.5);
  sim.device('boiler-1').set('pressure', 1.85);
  sim.device('boiler-1').set('setpoint', 65);
  sim.device('meter-7').set('power', 1200);
  const { gateway } = await startTestGateway(conf.dir);
  assert.ok(gateway.api, 'the API is up');
  await eventually(
    () => gateway.devices.get('boiler-1')?.isOnline === true && gateway.devices.get('meter-7')?.isOnline === true && gateway.devices.get('chiller-2')?.isOnline === false,
    8000,
    'boiler and meter online, chiller offline',
  );
  return {
    gateway,
    sim,
    base: gateway.api.url,
    dir: conf.dir,
    async stop() {
      await gateway.stop();
      await sim.stop();
      conf.cleanup();
    },
  };
}
