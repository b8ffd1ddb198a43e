/**
 * The plant benchmark's results as Markdown: a table of the figures next to their targets
 * (met / missed), a table per protocol, and the `## Plant` section of docs/performance.md.
 */
import type { Protocol } from './options.ts';
import { TITLE } from './options.ts';

/** Targets of issue 9 (2-core machine, simulators on the same machine). */
export const PLANT_TARGETS = { pointsPerSec: 150_000, rssMb: 300, cpuPerMillion: 2, lagP99Ms: 50, idleCpuPct: 2 } as const;

/** One protocol's figures over the measured window. */
export interface ProtocolFigures {
  readonly protocol: Protocol;
  readonly devices: number;
  /** e.g. `100 points @ 1 s` */
  readonly shape: string;
  readonly offered: number;
  readonly pointsPerSec: number;
  readonly minPerSecond: number;
  /** Point results the gateway read or received per second (its counters). */
  readonly readPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly overruns: number;
  readonly failedPolls: number;
  /** CPU of this protocol's simulator process, in cores. */
  readonly simCores: number;
}

/** The idle phase: every simulator frozen. */
export interface IdleFigures {
  readonly seconds: number;
  /** Gateway CPU, percent of one core. */
  readonly cpuPct: number;
  readonly pointsPerSec: number;
  readonly outboxEnd: number;
}

/** Everything one run measured. */
export interface PlantResult {
  readonly seconds: number;
  readonly protocols: readonly ProtocolFigures[];
  readonly pointsPerSec: number;
  readonly cpuS: number;
  readonly cpuPerMillion: number;
  readonly peakRssMb: number;
  readonly steadyRssMb: number;
  readonly lagP50: number;
  readonly lagP99: number;
  readonly lagMax: number;
  readonly overruns: number;
  readonly brokerInPerSec: number;
  readonly brokerOutPerSec: number;
  readonly outboxEnd: number;
  readonly outboxMax: number;
  readonly outboxAppendedPerSec: number;
  readonly outboxDropped: number;
  readonly mosquittoCores: number;
  readonly cloudCores: number;
  readonly idle: IdleFigures | undefined;
}

export const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
export const f1 = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : 'n/a');
export const f2 = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : 'n/a');

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The figures, each with its target and verdict. `fullLoad` false: no throughput verdict. */
export function targetsTable(r: PlantResult, fullLoad: boolean): string {
  const T = PLANT_TARGETS;
  const rows: [string, string, string, string][] = [
    ['points/s, all protocols, at the subscriber', f0(r.pointsPerSec), `≥ ${f0(T.pointsPerSec)}`, fullLoad ? verdict(r.pointsPerSec >= T.pointsPerSec) : '– (not the full load)'],
    ['gateway CPU s per million points', f2(r.cpuPerMillion), `≤ ${T.cpuPerMillion}`, verdict(r.cpuPerMillion <= T.cpuPerMillion)],
    ['gateway RSS peak (VmHWM) MB', f1(r.peakRssMb), `≤ ${T.rssMb}`, verdict(r.peakRssMb <= T.rssMb)],
    ['gateway RSS steady (median, last half of the window) MB', f1(r.steadyRssMb), `≤ ${T.rssMb}`, verdict(r.steadyRssMb <= T.rssMb)],
    ['gateway event-loop lag p99 (p50, max) ms', `${f1(r.lagP99)} (${f1(r.lagP50)}, ${f0(r.lagMax)})`, `≤ ${T.lagP99Ms}`, verdict(r.lagP99 <= T.lagP99Ms)],
    ['idle gateway CPU, % of one core', r.idle === undefined ? 'not run' : f2(r.idle.cpuPct), `< ${T.idleCpuPct}`, r.idle === undefined ? '–' : verdict(r.idle.cpuPct < T.idleCpuPct)],
    ['gateway CPU, cores busy', f2(r.cpuS / r.seconds), '–', ''],
    ['poll overruns in the window', f0(r.overruns), '–', ''],
    ['PUBLISH messages/s on the broker, in / out', `${f0(r.brokerInPerSec)} / ${f0(r.brokerOutPerSec)}`, '–', ''],
    ['cloud outbox depth, end / max (rows appended/s; dropped)', `${f0(r.outboxEnd)} / ${f0(r.outboxMax)} (${f0(r.outboxAppendedPerSec)}; ${f0(r.outboxDropped)})`, '–', ''],
  ];
  return ['| figure | measured | target | |', '|---|---:|---:|---|', ...rows.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

/** One row per protocol. */
export function protocolTable(r: PlantResult): string {
  const head = '| protocol | devices × points | offered points/s | points/s at the subscriber (slowest 1 s) | points read/s by the gateway | latency p50 / p99 (max) ms | poll overruns / failed polls | simulator CPU, cores |';
  const rows = r.protocols.map(
    (p) =>
      `| ${TITLE[p.protocol]} | ${f0(p.devices)} × ${p.shape} | ${f0(p.offered)} | ${f0(p.pointsPerSec)} (${f0(p.minPerSecond)}) | ${f0(p.readPerSec)} | ${f1(p.p50)} / ${f1(p.p99)} (${f0(p.max)}) | ${f0(p.overruns)} / ${f0(p.failedPolls)} | ${f2(p.simCores)} |`,
  );
  return [head, '|---|---|---:|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

/** The `## Plant` section of docs/performance.md. */
export function plantSection(input: {
  result: PlantResult;
  fullLoad: boolean;
  started: Date;
  machine: { nproc: number; model: string; load: string; node: string };
  command: string;
  options: string;
  notes: readonly string[];
}): string {
  const { result: r, machine: m } = input;
  return [
    '## Plant',
    '',
    `Measured ${input.started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.nproc} cores (${m.model}), Node ${m.node}; load average at start ${m.load}. ` +
      'Every simulator, the broker, the cloud simulator and the subscriber run on the same machine as the gateway, so they compete with it for the cores.',
    '',
    `Command: \`${input.command}\``,
    '',
    input.options,
    '',
    targetsTable(r, input.fullLoad),
    '',
    protocolTable(r),
    '',
    ...input.notes.map((n) => `- ${n}`),
    '',
    'How it is measured: one gateway (as `fieldgate run` starts it, REST API on, report by exception: `onChangeOnly: true`) with a driver instance per protocol, a mosquitto the bench starts (`sys_interval 1`), the cloud simulator (the gateway\'s `cloud:` link and outbox), ' +
      "one simulator process per protocol, and an MQTT subscriber, all on 127.0.0.1. Points/s counts the properties the subscriber receives on `thing/+/+/property/post`, per protocol by device name. " +
      'Gateway CPU is utime+stime of its process from /proc over the window, divided by the points received. Peak RSS is VmHWM (its whole life, startup included); steady RSS the median of 1 s VmRSS samples in the second half of the window. ' +
      'Event-loop lag: perf_hooks.monitorEventLoopDelay inside the gateway (10 ms resolution, figures beyond it). Latency: from the simulator\'s change (a `ts` point stamped with its clock for Modbus, OPC UA and BACnet; the value itself for IEC 104) to the subscriber\'s receipt; ' +
      'Modbus and BACnet values change at the poll that reads them, so the wait for the next poll is not included. Broker messages: mosquitto\'s `$SYS/broker/publish/messages/received` and `/sent` over the window. ' +
      'Idle: after the window every simulator stops changing its values (polls go on); after a settling pause, the gateway\'s CPU over `--idle-duration`.',
  ].join('\n');
}
