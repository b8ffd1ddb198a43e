/**
 * The plant's two measured phases: the loaded window (every simulator changing its values) and
 * the idle one (every simulator frozen, report by exception publishing nothing). Each reads the
 * gateway's counters over IPC before and after, its CPU and memory from /proc, and the
 * subscriber's counts; both are bounded in time.
 */
import type { ChildProcess } from 'node:child_process';
import { cpuSeconds, memoryMb } from '../lib/proc.ts';
import type { Child } from '../lib/proc.ts';
import type { DriverCounters } from '../lib/gateway-counters.ts';
import type { Protocol } from './options.ts';
import { SHAPE } from './options.ts';
import { DRIVER_ID } from './conf.ts';
import type { IdleFigures, PlantResult, ProtocolFigures } from './report.ts';
import { f0 } from './report.ts';

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
export const log = (s: string) => process.stderr.write(`[plant ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const num = (m: Record<string, unknown> | undefined, k: string) => Number(m?.[k] ?? Number.NaN);

/** The processes a phase reads. */
export interface Plant {
  readonly gateway: Child;
  readonly subscriber: Child;
  readonly sims: Partial<Record<Protocol, Child>>;
  readonly mosquitto: ChildProcess;
  readonly cloud: Child;
  readonly protocols: readonly Protocol[];
  readonly counts: Readonly<Record<Protocol, number>>;
  readonly offered: Readonly<Record<Protocol, number>>;
  /** The phase over which the gateway's CPU profiler runs, if any. */
  readonly profile: 'load' | 'idle' | undefined;
}

const cpuOf = (pid: number | undefined) => {
  try {
    return pid === undefined ? Number.NaN : cpuSeconds(pid);
  } catch {
    return Number.NaN;
  }
};

/** CPU seconds of every process so far. */
function cpuNow(p: Plant): { gw: number; mosq: number; cloud: number; sims: Partial<Record<Protocol, number>> } {
  const sims: Partial<Record<Protocol, number>> = {};
  for (const [k, c] of Object.entries(p.sims) as [Protocol, Child][]) sims[k] = cpuOf(c.pid);
  return { gw: cpuOf(p.gateway.pid), mosq: cpuOf(p.mosquitto.pid), cloud: cpuOf(p.cloud.pid), sims };
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const SHAPES: Readonly<Record<Protocol, string>> = {
  modbus: `${SHAPE.modbusPoints} points @ ${SHAPE.modbusIntervalMs / 1000} s`,
  opcua: `${SHAPE.opcuaItems} items @ ${SHAPE.opcuaMs} ms`,
  bacnet: `${SHAPE.bacnetObjects + 1} objects @ ${SHAPE.bacnetIntervalMs / 1000} s`,
  iec104: `${SHAPE.iec104Points} points, spontaneous`,
  cameras: `7 facts @ ${SHAPE.cameraIntervalMs / 1000} s`,
};

/** The loaded window: `durationMs`, RSS and outbox depth sampled every second. */
export async function measureLoad(p: Plant, durationMs: number): Promise<Omit<PlantResult, 'idle'>> {
  const g0 = await p.gateway.request('stats');
  const c0 = cpuNow(p);
  await p.gateway.request('lagStart');
  await p.subscriber.request('start');
  if (p.profile === 'load') await p.gateway.request('profileStart');
  const t0 = performance.now();
  const rss: number[] = [];
  let outboxMax = 0;
  let nextLog = 10_000;
  log(`measuring ${durationMs / 1000} s`);
  while (performance.now() - t0 < durationMs) {
    await sleep(Math.min(1000, Math.max(0, durationMs - (performance.now() - t0))));
    rss.push(memoryMb(p.gateway.pid).rss);
    outboxMax = Math.max(outboxMax, num(await p.gateway.request('stats'), 'outboxDepth'));
    if (performance.now() - t0 >= nextLog) {
      nextLog += 10_000;
      const s = await p.subscriber.request('stats');
      const parts = s.parts as Record<string, Record<string, number>>;
      const total = Object.values(parts).reduce((n, x) => n + x.points!, 0);
      log(`  ${f0(num(s, 'elapsed'))} s: ${f0(total / num(s, 'elapsed'))} points/s (${p.protocols.map((k) => `${k} ${f0(num(parts[k], 'points') / num(s, 'elapsed'))}`).join(', ')}), RSS ${f0(rss.at(-1)!)} MB, outbox ${f0(outboxMax)}`);
    }
  }
  const st = await p.subscriber.request('stats');
  const c1 = cpuNow(p);
  const seconds = (performance.now() - t0) / 1000;
  if (p.profile === 'load') await p.gateway.request('profileStop', {}, 120_000);
  const lag = await p.gateway.request('lag');
  const g1 = await p.gateway.request('stats');
  const peakRssMb = memoryMb(p.gateway.pid).hwm;
  const parts = st.parts as Record<string, Record<string, number>>;
  const elapsed = num(st, 'elapsed');
  const by0 = g0.byDriver as Record<string, DriverCounters>;
  const by1 = g1.byDriver as Record<string, DriverCounters>;
  const protocols: ProtocolFigures[] = p.protocols.map((k) => {
    const a = by0[DRIVER_ID[k]];
    const b = by1[DRIVER_ID[k]];
    const d = (f: keyof DriverCounters) => (b?.[f] ?? 0) - (a?.[f] ?? 0);
    const x = parts[k];
    return {
      protocol: k,
      devices: p.counts[k],
      shape: SHAPES[k],
      offered: p.offered[k],
      pointsPerSec: num(x, 'points') / elapsed,
      minPerSecond: num(x, 'minPerSecond'),
      readPerSec: d('pointsRead') / seconds,
      p50: num(x, 'p50'),
      p99: num(x, 'p99'),
      max: num(x, 'max'),
      overruns: d('overruns'),
      failedPolls: d('failedPolls'),
      simCores: ((c1.sims[k] ?? Number.NaN) - (c0.sims[k] ?? Number.NaN)) / seconds,
    };
  });
  const points = protocols.reduce((n, x) => n + x.pointsPerSec * elapsed, 0);
  const cpuS = c1.gw - c0.gw;
  return {
    seconds,
    protocols,
    pointsPerSec: points / elapsed,
    cpuS,
    cpuPerMillion: cpuS / (points / 1e6),
    peakRssMb,
    steadyRssMb: median(rss.slice(Math.floor(rss.length / 2))),
    lagP50: num(lag, 'p50'),
    lagP99: num(lag, 'p99'),
    lagMax: num(lag, 'max'),
    overruns: num(g1, 'overruns') - num(g0, 'overruns'),
    brokerInPerSec: num(st, 'brokerReceivedPerSec'),
    brokerOutPerSec: num(st, 'brokerSentPerSec'),
    outboxEnd: num(g1, 'outboxDepth'),
    outboxMax,
    outboxAppendedPerSec: (num(g1, 'outboxAppended') - num(g0, 'outboxAppended')) / seconds,
    outboxDropped: num(g1, 'outboxDropped') - num(g0, 'outboxDropped'),
    mosquittoCores: (c1.mosq - c0.mosq) / seconds,
    cloudCores: (c1.cloud - c0.cloud) / seconds,
  };
}

/**
 * The idle phase: every simulator frozen, then a pause for what is in flight (reports, the cloud
 * outbox draining; at most 30 s), then the gateway's CPU over `idleMs`. The event-loop monitor
 * is off, so that its timer does not count.
 */
export async function measureIdle(p: Plant, idleMs: number): Promise<IdleFigures> {
  for (const c of Object.values(p.sims)) await c.request('freeze');
  await p.gateway.request('lagStop');
  log('simulators frozen; settling');
  // Settled: nothing published for 2 s in a row and the outbox empty (a gateway that fell behind
  // under load is still catching up); at most 30 s.
  const settleEnd = Date.now() + 30_000;
  await sleep(1000);
  let last = num(await p.gateway.request('stats'), 'published');
  let quiet = 0;
  while (quiet < 2 && Date.now() < settleEnd) {
    await sleep(1000);
    const g = await p.gateway.request('stats');
    const published = num(g, 'published');
    quiet = published === last && num(g, 'outboxDepth') === 0 ? quiet + 1 : 0;
    last = published;
  }
  if (quiet < 2) log('idle: the gateway was still publishing after 30 s; measuring anyway');
  await p.subscriber.request('start');
  if (p.profile === 'idle') await p.gateway.request('profileStart');
  const cpu0 = cpuOf(p.gateway.pid);
  const t0 = performance.now();
  log(`idle: measuring ${idleMs / 1000} s`);
  await sleep(idleMs);
  const cpu1 = cpuOf(p.gateway.pid);
  const seconds = (performance.now() - t0) / 1000;
  if (p.profile === 'idle') await p.gateway.request('profileStop', {}, 120_000);
  const st = await p.subscriber.request('stats');
  const g = await p.gateway.request('stats');
  const parts = st.parts as Record<string, Record<string, number>>;
  const points = Object.values(parts).reduce((n, x) => n + (x.points ?? 0), 0);
  return { seconds, cpuPct: (100 * (cpu1 - cpu0)) / seconds, pointsPerSec: points / num(st, 'elapsed'), outboxEnd: num(g, 'outboxDepth') };
}
