/**
 * `fieldgate simulate` for every protocol (simulators/index.ts) on a configuration with a Modbus
 * and an IEC 104 driver instance: both are served; the IEC 104 station's points come from the
 * device's template and access config, its values from simulator.yaml's generators (sent
 * spontaneously with CP56Time2a time tags), its delay fault from simulator.yaml, and a command
 * holds the point against its generator.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cp56ToEpoch } from '../../src/drivers/iec104/codec/time.ts';
import { Cot, QOI_STATION, TypeId } from '../../src/drivers/iec104/codec/types.ts';
import type { Asdu } from '../../src/drivers/iec104/codec/asdu.ts';
import { simulateCommand } from '../../simulators/index.ts';
import type { RunningSimulators } from '../../simulators/index.ts';
import { RawClient } from './raw-client.ts';
import { until } from './helpers.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

// Baetyl's start addresses: AI 0x4001, DI 0x1, AO 0x6201, DO 0x6001.
const IOA = { current: 0x4001, breaker: 0x1, setpoint: 0x6201, trip: 0x6001 };
let dir: string;
let port: number;
let mbPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-sim104-'));
  [port, mbPort] = [await freePort(), await freePort()];
  mkdirSync(join(dir, 'modbus'));
  mkdirSync(join(dir, 'substation'));
  writeFileSync(join(dir, 'gateway.yaml'), 'node: t\ndrivers:\n  - {name: modbus, driver: modbus}\n  - {name: substation, driver: iec104}\n');
  writeFileSync(join(dir, 'modbus', 'models.yml'), 'tank:\n  - {name: level, type: uint16, mode: ro}\n');
  writeFileSync(join(dir, 'modbus', 'access_template.yml'), 'tank-mb:\n  properties:\n    - {name: level, id: "1", type: uint16, visitor: {modbus: {function: 3, address: 0, quantity: 1, type: uint16}}}\n  mappings:\n    - {attribute: level, type: value, expression: x1}\n');
  writeFileSync(join(dir, 'modbus', 'sub_devices.yml'), `devices:\n  - {name: tank-1, deviceModel: tank, accessTemplate: tank-mb, accessConfig: {modbus: {id: 1, interval: 1s, tcp: {address: 127.0.0.1, port: ${mbPort}}}}}\ndriver: ""\n`);
  writeFileSync(
    join(dir, 'substation', 'models.yml'),
    'feeder:\n  - {name: current, type: float32, mode: ro}\n  - {name: breaker, type: bool, mode: ro}\n  - {name: setpoint, type: float32, mode: rw}\n  - {name: trip, type: bool, mode: rw}\n',
  );
  writeFileSync(
    join(dir, 'substation', 'access_template.yml'),
    `feeder-104:
  properties:
    - {name: current, id: "1", type: float32, visitor: {iec104: {pointNum: 0, pointType: AI, type: float32}}}
    - {name: breaker, id: "2", type: bool, visitor: {iec104: {pointNum: 0, pointType: DI, type: bool}}}
    - {name: setpoint, id: "3", type: float32, visitor: {iec104: {pointNum: 0, pointType: AO, type: float32}}}
    - {name: trip, id: "4", type: bool, visitor: {iec104: {pointNum: 0, pointType: DO, type: bool}}}
  mappings:
    - {attribute: current, type: calculate, expression: x1*0.1}
    - {attribute: breaker, type: value, expression: x2}
    - {attribute: setpoint, type: value, expression: x3}
    - {attribute: trip, type: value, expression: x4}
`,
  );
  writeFileSync(join(dir, 'substation', 'sub_devices.yml'), `devices:\n  - {name: feeder-1, deviceModel: feeder, accessTemplate: feeder-104, accessConfig: {iec104: {endpoint: "127.0.0.1:${port}", interval: 5s}}}\ndriver: ""\n`);
  writeFileSync(
    join(dir, 'simulator.yaml'),
    `devices:
  tank-1:
    generators:
      level: {kind: constant, value: 42}
  feeder-1:
    generators:
      current: {kind: counter, start: 100, increment: 1, every: 100ms}
      breaker: {kind: toggle, every: 150ms}
      setpoint: {kind: constant, value: 12.5}
    faults: {delay: 60ms}
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

const float = (a: Asdu, ioa: number) => a.objects.filter((o) => o.ioa === ioa).map((o) => (o.element.kind === 'float' ? o.element.value : NaN));

test('serves Modbus and IEC 104 devices; IEC 104 values follow simulator.yaml with time tags; commands hold', async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  let sims: RunningSimulators | undefined;
  let done = false;
  const ready = new Promise<void>((resolve, reject) => {
    simulateCommand({ configDir: dir, seed: 2, log: (l) => lines.push(l), signal: ac.signal, onReady: (s) => ((sims = s), resolve()) }).then(() => (done = true), reject);
  });
  await ready;
  const c = await RawClient.open(port);
  try {
    assert.ok(sims?.modbus && sims.iec104, 'both simulators are running');
    assert.ok(lines.includes(`iec104 127.0.0.1:${port} CA 1: feeder-1 (4 points)`), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes(`127.0.0.1:${mbPort}`) && l.includes('tank-1')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('simulating 1 modbus, 1 iec104 device(s), seed 2')), lines.join('\n'));
    assert.equal(sims.modbus.device('tank-1').image.getRegisters('holding', 0, 1)[0], 42);

    // The delay fault of simulator.yaml.
    const t = performance.now();
    c.u('STARTDT_ACT');
    await until(() => c.frames.length > 0, 2000, 'STARTDT_CON');
    assert.ok(c.frames[0]!.at - t >= 55, `delayed STARTDT_CON: ${(c.frames[0]!.at - t).toFixed(0)} ms`);

    c.i({ typeId: TypeId.C_IC_NA_1, sequence: false, cause: Cot.ACTIVATION, negative: false, test: false, originator: 0, commonAddress: 1, objects: [{ ioa: 0, element: { kind: 'interrogation', qoi: QOI_STATION } }] });
    await until(() => c.asdus().some((a) => a.cause === Cot.ACTIVATION_TERM), 3000, 'interrogation');
    const gi = c.asdus().filter((a) => a.cause === Cot.INTERROGATED_BY_STATION);
    assert.deepEqual(gi.flatMap((a) => float(a, IOA.setpoint)), [12.5], 'the AO setpoint from its constant generator');
    assert.ok(gi.every((a) => a.typeId === TypeId.M_ME_NC_1 || a.typeId === TypeId.M_SP_NA_1), 'interrogation answers are untagged');

    // Spontaneous: the current counter goes 100, 101, ... A → point x1 = 1000, 1010, ... (x1*0.1).
    await until(() => c.asdus().filter((a) => a.cause === Cot.SPONTANEOUS && a.objects.some((o) => o.ioa === IOA.current)).length >= 3, 3000, 'three current changes');
    const spont = c.asdus().filter((a) => a.cause === Cot.SPONTANEOUS);
    const currents = spont.flatMap((a) => float(a, IOA.current));
    assert.ok(currents.every((v, i) => v % 10 === 0 && v >= 1000 && (i === 0 || v > currents[i - 1]!)), `currents ${currents}`);
    const cur = spont.find((a) => a.objects.some((o) => o.ioa === IOA.current))!;
    assert.equal(cur.typeId, TypeId.M_ME_TF_1, 'spontaneous floats carry CP56Time2a');
    const tagged = cp56ToEpoch(cur.objects[0]!.time!)!;
    assert.ok(Math.abs(Date.now() - tagged) < 2000, `time tag ${new Date(tagged).toISOString()}`);
    await until(() => c.asdus().some((a) => a.typeId === TypeId.M_SP_TB_1 && a.objects[0]!.ioa === IOA.breaker), 3000, 'breaker toggles (M_SP_TB_1)');

    // A direct-execute single command on the DO point: ACTCON, return information (COT 11), ACTTERM; it stays.
    const station = sims.iec104.station('feeder-1')!.sim;
    assert.equal(station.getValue(IOA.trip), false);
    c.i({ typeId: TypeId.C_SC_NA_1, sequence: false, cause: Cot.ACTIVATION, negative: false, test: false, originator: 0, commonAddress: 1, objects: [{ ioa: IOA.trip, element: { kind: 'singleCommand', value: true, qualifier: 0, select: false } }] });
    await until(() => c.asdus().some((a) => a.typeId === TypeId.C_SC_NA_1 && a.cause === Cot.ACTIVATION_TERM), 3000, 'ACTTERM');
    const ret = c.asdus().find((a) => a.cause === Cot.RETURN_REMOTE)!;
    assert.deepEqual(ret.objects.map((o) => [o.ioa, o.element.kind === 'single' && o.element.value]), [[IOA.trip, true]]);
    assert.equal(station.getValue(IOA.trip), true);
  } finally {
    c.close();
    ac.abort();
  }
  await until(() => done, 3000, 'simulateCommand resolves after abort');
});

test('an unknown device is refused, naming the devices there are', async () => {
  await assert.rejects(simulateCommand({ configDir: dir, device: 'nope', log: () => {} }), /no device "nope" \(have: tank-1, feeder-1\)/);
});
