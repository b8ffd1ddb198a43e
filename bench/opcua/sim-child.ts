/**
 * Benchmark child: the OPC UA simulators for every device of the bench configuration (one
 * server per endpoint, one user per device), in a process of their own so that their CPU is not
 * counted as the gateway's.
 *
 *   node --import tsx bench/opcua/sim-child.ts <confDir> <changeMs>
 *
 * Requests: `start` (begin changing values: every `changeMs`, every value point of every device
 * gets a new value and `ts` the current Date.now()), `stats` (changes made, point values
 * changed), `freeze` (stop changing values; `start` begins again), `stop`. The read-write point
 * `sp` is left to the gateway's writes.
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import { startOpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { OpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { SimVariable } from '../../simulators/opcua/device.ts';
import { runChild, serveParent } from '../lib/proc.ts';
import { BENCH_PASSWORD } from './conf.ts';

const [confDir, changeArg] = process.argv.slice(2);
const changeMs = Number(changeArg);
const counters = { ticks: 0, values: 0, lateTicks: 0 };

async function main(): Promise<void> {
  if (confDir === undefined || !(changeMs > 0)) throw new Error('usage: sim-child.ts <confDir> <changeMs>');
  const r = await loadConfig(confDir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const byPort = new Map<number, CompiledDevice[]>();
  for (const d of r.instances.flatMap((i) => i.devices)) {
    const port = Number(new URL((d.connection as unknown as { endpoint: string }).endpoint.replace(/^opc\.tcp:/, 'http:')).port);
    byPort.set(port, [...(byPort.get(port) ?? []), d]);
  }
  const sims: OpcuaSimulator[] = [];
  for (const [port, devices] of byPort) {
    const users = Object.fromEntries(devices.map((d) => [d.name, BENCH_PASSWORD]));
    sims.push(await startOpcuaSimulator({ devices, port, host: '127.0.0.1', tickMs: 0, users, securityModes: ['None'], maxConnections: devices.length + 10 }));
  }
  // Every value point and the timestamp of every device, looked up once.
  const devices = sims.flatMap((s) => [...byPort.get(s.port)!].map((d) => s.device(d.name)));
  const rows: { values: SimVariable[]; ts: SimVariable }[] = devices.map((d) => ({
    values: d.variables.filter((v) => /^p\d+$/.test(v.point.name)),
    ts: d.variable('ts'),
  }));
  let timer: NodeJS.Timeout | undefined;
  let k = 0;
  let next = 0;
  const tick = () => {
    const now = Date.now();
    if (now - next > changeMs / 2) counters.lateTicks++;
    next = Math.max(next + changeMs, now);
    timer = setTimeout(tick, Math.max(0, next - Date.now()));
    k++;
    for (const row of rows) {
      // A new value for every point on every change (held: the simulator's generators stay out).
      for (let i = 0; i < row.values.length; i++) {
        const v = row.values[i]!;
        v.value = (k % 100_000) + i / 8;
        v.held = true;
      }
      row.ts.value = now;
      row.ts.held = true;
      counters.values += row.values.length + 1;
    }
    counters.ticks++;
  };
  serveParent({
    start: () => {
      if (timer !== undefined) return;
      next = Date.now() + changeMs;
      timer = setTimeout(tick, changeMs);
    },
    freeze: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    stats: () => ({ ...counters, servers: sims.length, creates: sims.reduce((n, s) => n + s.requests('CreateMonitoredItemsRequest'), 0) }),
    stop: async () => {
      clearTimeout(timer);
      await Promise.allSettled(sims.map((s) => s.stop()));
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', servers: sims.length, devices: devices.length });
}

runChild(main);
