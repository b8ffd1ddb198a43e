/**
 * Benchmark child: one IEC 104 station per device of the bench configuration, in a process of its
 * own so that its CPU is not counted as the gateway's.
 *
 *   node --import tsx bench/iec104/sim-child.ts <confDir> <changesPerSecond> <tickMs>
 *
 * On `start`, every `tickMs` each station changes its share of `changesPerSecond` (total), points
 * in round robin, and sends them spontaneously as M_ME_TF_1 with CP56Time2a time tags (the
 * station packs a tick's changes into as few ASDUs as fit). A changed point's value is its
 * generation time (see TIME_MODULO), so every published value carries its own latency. The rate
 * is kept by counting what is due since `start`, so late timers catch up instead of losing changes.
 * `freeze` stops the changes (`start` begins again, counting from then).
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { resolveIoa } from '../../src/drivers/iec104/address.ts';
import type { Iec104Address, Iec104Connection } from '../../src/drivers/iec104/address.ts';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import type { Iec104Simulator } from '../../simulators/iec104/index.ts';
import { runChild, serveParent } from '../lib/proc.ts';
import { TIME_MODULO } from './conf.ts';

const [confDir, rateArg, tickArg] = process.argv.slice(2);
const rate = Number(rateArg);
const tickMs = Number(tickArg ?? 10);

interface Station {
  readonly sim: Iec104Simulator;
  readonly ioas: number[];
  next: number;
}

async function main(): Promise<void> {
  if (confDir === undefined || !(rate >= 0) || !(tickMs > 0)) throw new Error('usage: sim-child.ts <confDir> <changesPerSecond> <tickMs>');
  const r = await loadConfig(confDir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const stations: Station[] = [];
  for (const d of r.instances.flatMap((i) => i.devices)) {
    const conn = d.connection as unknown as Iec104Connection;
    const ioas = d.points.map((p) => resolveIoa(p.address as Iec104Address, conn));
    const sim = await startIec104Simulator({ host: conn.endpoint.host, port: conn.endpoint.port, points: ioas.map((ioa) => ({ ioa, type: 'M_ME_TF_1' as const, value: 0 })) });
    stations.push({ sim, ioas, next: 0 });
  }
  let changes = 0;
  let t0 = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const due = Math.floor((rate * (performance.now() - t0)) / 1000);
    // Whole rounds over the stations, so that each gets the same share.
    const perStation = Math.floor((due - changes) / stations.length);
    if (perStation <= 0) return;
    const value = Date.now() % TIME_MODULO;
    for (const s of stations) {
      for (let k = 0; k < perStation; k++) {
        s.sim.setValue(s.ioas[s.next]!, value);
        s.next = (s.next + 1) % s.ioas.length;
      }
    }
    changes += perStation * stations.length;
  };
  serveParent({
    start: () => {
      t0 = performance.now();
      changes = 0;
      timer ??= setInterval(tick, tickMs);
    },
    freeze: () => {
      clearInterval(timer);
      timer = undefined;
    },
    stats: () => {
      const links = stations.map((s) => s.sim.connections());
      return { changes, elapsed: (performance.now() - t0) / 1000, started: links.filter((l) => l.started > 0).length };
    },
    stop: async () => {
      clearInterval(timer);
      await Promise.all(stations.map((s) => s.sim.stop()));
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', stations: stations.length, points: stations.reduce((n, s) => n + s.ioas.length, 0) });
}

runChild(main);
