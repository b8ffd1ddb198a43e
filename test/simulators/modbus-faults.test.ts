import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { closeClient, makeDevice, tcpClient } from './helpers.ts';
import type { Client } from './helpers.ts';

const dev = makeDevice(
  'faulty',
  [
    { id: '1', name: 'level', type: 'uint16', visitor: { function: 3, address: 0 }, attribute: { name: 'level', type: 'uint16' } },
    { id: '2', name: 'flag', type: 'bool', visitor: { function: 1, address: 3 }, attribute: { name: 'flag', type: 'bool' } },
  ],
  { id: 1, tcp: { address: '127.0.0.1', port: 0 } },
);

let sim: ModbusSimulator;
let port: number;
let client: Client;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when a TCP connection to the port is accepted, false when refused. */
function canConnect(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: p });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

before(async () => {
  sim = await startModbusSimulator({
    devices: [dev],
    tickMs: 0,
    generators: { faulty: { level: { kind: 'constant', value: 1234 }, flag: { kind: 'constant', value: true } } },
    faults: { faulty: { delay: '150ms' } },
  });
  const ep = sim.endpoints[0]!;
  assert.ok(ep.kind === 'tcp');
  port = ep.port;
  client = await tcpClient(port, 1, 600);
});

after(async () => {
  await closeClient(client);
  await sim.stop();
});

describe('Modbus simulator faults', () => {
  it('delays replies (initial fault from the options, then changed at run time)', async () => {
    let t0 = Date.now();
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);
    assert.ok(Date.now() - t0 >= 140, `took ${Date.now() - t0} ms`);
    sim.device('faulty').setFaults({ delay: 0 });
    t0 = Date.now();
    await client.readHoldingRegisters(0, 1);
    assert.ok(Date.now() - t0 < 140, `took ${Date.now() - t0} ms without delay`);
    assert.equal(sim.device('faulty').faults.delay, 0);
  });

  it('drops replies: the client times out; the next request after clearing succeeds', async () => {
    const d = sim.device('faulty');
    d.setFaults({ dropRate: 1 });
    await assert.rejects(client.readHoldingRegisters(0, 1), (e: { errno?: string }) => e.errno === 'ETIMEDOUT');
    d.clearFaults();
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);
  });

  it('drops a seeded fraction of replies', async () => {
    const d = sim.device('faulty');
    d.setFaults({ dropRate: 0.5 });
    let dropped = 0;
    for (let i = 0; i < 40; i++) if (d.planReply().drop) dropped++;
    d.clearFaults();
    assert.ok(dropped > 5 && dropped < 35, `${dropped}/40 dropped`);
  });

  it('answers chosen addresses with an exception code', async () => {
    const d = sim.device('faulty');
    d.setFaults({ exceptions: [{ table: 'holding', address: 5, code: 4 }, { table: 'coil', address: 3 }] });
    await assert.rejects(client.readHoldingRegisters(0, 10), (e: { modbusCode?: number }) => e.modbusCode === 4);
    await assert.rejects(client.writeRegister(5, 1), (e: { modbusCode?: number }) => e.modbusCode === 4);
    assert.deepEqual((await client.readHoldingRegisters(0, 5)).data, [1234, 0, 0, 0, 0], 'addresses outside the rule still read');
    await assert.rejects(client.readCoils(0, 8), (e: { modbusCode?: number }) => e.modbusCode === 2);
    d.clearFaults();
    assert.equal((await client.readCoils(3, 1)).data[0], true);
  });

  it('truncated replies make the read fail; framing stays in sync for the next one', async () => {
    const d = sim.device('faulty');
    d.setFaults({ malformed: 'truncate' });
    await assert.rejects(client.readHoldingRegisters(0, 4));
    d.clearFaults();
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);
  });

  it('disconnect closes client sockets; with refuseMs new connections are refused for a while', async () => {
    const closed = new Promise<void>((resolve) => (client as unknown as { _port: { on(e: string, f: () => void): void } })._port.on('close', resolve));
    await sim.device('faulty').disconnect();
    await closed;
    assert.equal(client.isOpen, false);
    await closeClient(client);
    client = await tcpClient(port, 1, 600);
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);

    await sim.device('faulty').disconnect(400);
    assert.equal(await canConnect(port), false, 'refused during the window');
    await sleep(550);
    assert.equal(await canConnect(port), true, 'accepted after the window');
    await closeClient(client);
    client = await tcpClient(port, 1, 600);
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);
  });

  it('kill drops everything at once; restart serves again on the same port', async () => {
    await sim.kill();
    assert.equal(await canConnect(port), false);
    await sim.restart();
    await closeClient(client);
    client = await tcpClient(port, 1, 600);
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [1234]);
  });

  it('rejects invalid faults', () => {
    assert.throws(() => sim.device('faulty').setFaults({ dropRate: 2 }));
    assert.throws(() => sim.device('faulty').setFaults({ delay: 'soon' }));
  });
});
