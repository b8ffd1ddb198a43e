/** The gateway runtime's counters as the benchmark reads them (no change to src/ needed). */
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';

/** The runtime's counters summed over all devices and timers, and the links' states. */
export interface GatewayCounters {
  polls: number;
  failedPolls: number;
  overruns: number;
  pointsRead: number;
  badPoints: number;
  published: number;
  linksOnline: number;
  links: number;
  devicesOnline: number;
  cpuUser: number;
  cpuSystem: number;
  rssMb: number;
  heapUsedMb: number;
  /** Memory of Buffers and other C++ objects tied to JS objects. */
  externalMb: number;
  heapTotalMb: number;
}

/** Sums the counters of a running gateway. */
export function gatewayCounters(gw: Gateway): GatewayCounters {
  const c: GatewayCounters = {
    polls: 0,
    failedPolls: 0,
    overruns: 0,
    pointsRead: 0,
    badPoints: 0,
    published: 0,
    linksOnline: 0,
    links: gw.links.size,
    devicesOnline: 0,
    cpuUser: 0,
    cpuSystem: 0,
    rssMb: 0,
    heapUsedMb: 0,
    externalMb: 0,
    heapTotalMb: 0,
  };
  for (const d of gw.devices.values()) {
    c.polls += d.counters.polls;
    c.failedPolls += d.counters.failedPolls;
    c.pointsRead += d.counters.pointsRead;
    c.badPoints += d.counters.badPoints;
    c.published += d.counters.published;
    if (d.isOnline === true) c.devicesOnline++;
  }
  // The timers count every skipped tick (device.counters.overruns mirrors them).
  for (const t of gw.timers.values()) c.overruns += t.overruns;
  for (const l of gw.links.values()) if (l.state === 'online') c.linksOnline++;
  const cpu = process.cpuUsage();
  c.cpuUser = cpu.user / 1e6;
  c.cpuSystem = cpu.system / 1e6;
  const mem = process.memoryUsage();
  c.rssMb = mem.rss / 2 ** 20;
  c.heapUsedMb = mem.heapUsed / 2 ** 20;
  c.externalMb = mem.external / 2 ** 20;
  c.heapTotalMb = mem.heapTotal / 2 ** 20;
  return c;
}
