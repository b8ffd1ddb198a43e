import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simulateCommand } from '../../simulators/modbus/cli.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { closeClient, rtuClient, tcpClient } from './helpers.ts';

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

let dir: string;
let tcpPort: number;
let ttyPath: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-simcli-'));
  tcpPort = await freePort();
  ttyPath = join(dir, 'dev', 'ttyS9');
  mkdirSync(join(dir, 'modbus'));
  writeFileSync(join(dir, 'gateway.yaml'), 'node: test\ndrivers:\n  - name: modbus\n    driver: modbus\n');
  writeFileSync(
    join(dir, 'modbus', 'models.yml'),
    `tank:\n  - name: level\n    type: float32\n    mode: ro\n  - name: pump\n    type: bool\n    mode: rw\n`,
  );
  writeFileSync(
    join(dir, 'modbus', 'access_template.yml'),
    `tank-modbus:
  properties:
    - name: level-cm
      id: "1"
      type: uint16
      visitor:
        modbus: { function: 3, address: "0x0010", quantity: 1, type: uint16 }
    - name: pump
      id: "2"
      type: bool
      visitor:
        modbus: { function: 1, address: 0, quantity: 1, type: bool }
  mappings:
    - attribute: level
      type: calculate
      expression: x1*0.01
      precision: 2
    - attribute: pump
      type: value
      expression: x2
`,
  );
  writeFileSync(
    join(dir, 'modbus', 'sub_devices.yml'),
    `devices:
  - name: tank-tcp
    deviceModel: tank
    accessTemplate: tank-modbus
    accessConfig:
      modbus: { id: 2, interval: 1s, timeout: 1s, tcp: { address: 127.0.0.1, port: ${tcpPort} } }
  - name: tank-rtu
    deviceModel: tank
    accessTemplate: tank-modbus
    accessConfig:
      modbus: { id: 3, interval: 1s, timeout: 1s, rtu: { port: ${ttyPath}, baudrate: 9600, parity: N } }
driver: ""
`,
  );
  writeFileSync(
    join(dir, 'simulator.yaml'),
    `devices:
  tank-tcp:
    generators:
      level: { kind: constant, value: 1.25 }
  tank-rtu:
    generators:
      level: { kind: constant, value: 3.5 }
    faults: { delay: 10ms }
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('simulateCommand', () => {
  it('loads the configuration, serves TCP and RTU devices (making a pty pair), and stops on abort', async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    let sim: ModbusSimulator | undefined;
    const ready = new Promise<void>((resolve) => {
      void simulateCommand({ configDir: dir, seed: 3, log: (l) => lines.push(l), signal: ac.signal, onReady: (s) => ((sim = s), resolve()) }).then(
        () => lines.push('<done>'),
        (e: Error) => {
          lines.push(`<error ${e.message}>`);
          resolve();
        },
      );
    });
    await ready;
    assert.ok(sim, lines.join('\n'));
    assert.ok(existsSync(ttyPath), 'gateway end of the pty pair');
    assert.ok(lines.some((l) => l.includes(`127.0.0.1:${tcpPort}`) && l.includes('unit 2 tank-tcp')), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes(`${ttyPath}.sim`) && l.includes('unit 3 tank-rtu')), lines.join('\n'));

    const c = await tcpClient(tcpPort, 2);
    try {
      assert.deepEqual((await c.readHoldingRegisters(0x10, 1)).data, [125]);
    } finally {
      await closeClient(c);
    }
    const r = await rtuClient(ttyPath, 3);
    try {
      assert.deepEqual((await r.readHoldingRegisters(0x10, 1)).data, [350]);
      assert.equal(sim!.device('tank-rtu').faults.delay, 10);
    } finally {
      await closeClient(r);
    }

    ac.abort();
    for (let i = 0; i < 50 && !lines.includes('<done>'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(lines.includes('<done>'), lines.join('\n'));
    assert.equal(existsSync(ttyPath), false, 'pty links removed');
  });

  it('rejects an unknown device name', async () => {
    await assert.rejects(simulateCommand({ configDir: dir, device: 'nope', log: () => {} }), /no Modbus device "nope" \(have: tank-tcp, tank-rtu\)/);
  });
});
