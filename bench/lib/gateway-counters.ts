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
  /** Cloud outbox rows waiting for an acknowledgement (0 without `cloud:`). */
  outboxDepth: number;
  /** Cloud outbox rows appended, acknowledged and dropped since the start. */
  outboxAppended: number;
  outboxAcked: number;
  outboxDropped: number;
  /** The cloud link's state (`none` without `cloud:`). */
  cloudState: string;
  /** The device counters summed per driver id. */
  byDriver: Record<string, DriverCounters>;
}

/** Device counters of the devices of one driver. */
export interface DriverCounters {
  devices: number;
  polls: number;
  failedPolls: number;
  overruns: number;
  pointsRead: number;
  published: number;
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
    outboxDepth: 0,
    outboxAppended: 0,
    outboxAcked: 0,
    outboxDropped: 0,
    cloudState: gw.cloud?.state ?? 'none',
    byDriver: {},
  };
  for (const d of gw.devices.values()) {
    c.polls += d.counters.polls;
    c.failedPolls += d.counters.failedPolls;
    c.pointsRead += d.counters.pointsRead;
    c.badPoints += d.counters.badPoints;
    c.published += d.counters.published;
    if (d.isOnline === true) c.devicesOnline++;
    const id = d.device.driver;
    const b = (c.byDriver[id] ??= { devices: 0, polls: 0, failedPolls: 0, overruns: 0, pointsRead: 0, published: 0 });
    b.devices++;
    b.polls += d.counters.polls;
    b.failedPolls += d.counters.failedPolls;
    b.overruns += d.counters.overruns;
    b.pointsRead += d.counters.pointsRead;
    b.published += d.counters.published;
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
  const outbox = gw.store.stats().outbox;
  c.outboxDepth = outbox.size;
  c.outboxAppended = outbox.appended;
  c.outboxAcked = outbox.acked;
  c.outboxDropped = outbox.dropped;
  return c;
}
