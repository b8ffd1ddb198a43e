/**
 * Benchmark child: the Modbus simulators for every device of the bench configuration, in a
 * process of their own so that their CPU is not counted as the gateway's.
 *
 *   node --import tsx bench/lib/sim-child.ts <confDir> <intervalMs> <pointType>
 *
 * Values change when a device is read: the first read of a device that comes at least half an
 * interval after its last change gives every point a new value and sets the `ts` point to
 * `Date.now()`. So every poll sees new values (every value changes every tick), and the latency
 * the subscriber measures runs from the moment the value changed in the device, which is also
 * the moment it was read: the gateway's own delay, without the wait for the next poll (up to one
 * interval, set by the configuration, not by the gateway).
 *
 * Requests: `stats`, `freeze` (values stop changing: reads see the same values from then on, the
 * idle load of a report-by-exception gateway), `thaw` (they change again), `stop`.
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimDevice } from '../../simulators/modbus/device.ts';
import { deviceRegisters, regsOf, tsAddress } from './conf.ts';
import type { BenchPointType } from './conf.ts';
import { runChild, serveParent } from './proc.ts';

const [confDir, intervalArg, typeArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
const pointType = (typeArg ?? 'float32') as BenchPointType;

/** Counters for the parent: how many value changes and register reads were served. */
const counters = { changes: 0, reads: 0 };
/** While true, reads change nothing (see `freeze`). */
let frozen = false;

/** Makes `dev` change all its values on the first read of each interval (see the file comment). */
function changeOnRead(dev: ModbusSimDevice, points: number): void {
  const regs = deviceRegisters({ points, pointType });
  const tsAt = tsAddress({ points, pointType });
  const r = regsOf(pointType);
  const buf = new DataView(new ArrayBuffer(regs * 2));
  const words = new Array<number>(regs).fill(0);
  let lastChange = Number.NEGATIVE_INFINITY;
  let k = 0;
  const change = () => {
    k++;
    for (let i = 0; i < points - 1; i++) {
      // A new value for every point on every change; exact in float32 and within uint16.
      if (r === 2) buf.setFloat32(i * 4, (k % 100_000) + i / 8, false);
      else buf.setUint16(i * 2, (k + i) & 0xffff, false);
    }
    buf.setFloat64(tsAt * 2, Date.now(), false);
    for (let w = 0; w < regs; w++) words[w] = buf.getUint16(w * 2, false);
    dev.image.setRegisters('holding', 0, words);
    counters.changes++;
  };
  const read = dev.readRegisters.bind(dev);
  dev.readRegisters = (table, address, count) => {
    counters.reads++;
    const now = performance.now();
    if (!frozen && now - lastChange >= intervalMs / 2) {
      lastChange = now;
      change();
    }
    return read(table, address, count);
  };
}

async function main(): Promise<void> {
  if (confDir === undefined || !(intervalMs > 0)) throw new Error('usage: sim-child.ts <confDir> <intervalMs> <pointType>');
  const r = await loadConfig(confDir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const devices = r.instances.flatMap((i) => i.devices);
  const sim = await startModbusSimulator({ devices, tickMs: 0, host: '127.0.0.1' });
  for (const d of sim.devices()) changeOnRead(d, d.compiled.points.length);
  serveParent({
    stats: () => ({ ...counters, frozen }),
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    stop: async () => {
      await sim.stop();
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', endpoints: sim.endpoints.length, devices: devices.length });
}

runChild(main);
