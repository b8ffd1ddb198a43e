/**
 * The benchmark's results as a Markdown table, for the terminal and for docs/performance.md
 * (whose `## Modbus` section this overwrites, keeping the rest of the file).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** One measured gateway run. */
export interface GatewayRun {
  readonly broker: 'embedded' | 'mosquitto';
  readonly seconds: number;
  readonly points: number;
  readonly pointsPerSec: number;
  readonly minPerSecond: number;
  readonly cpuS: number;
  readonly cpuPerMillion: number;
  /** Highest 1 s sample of VmRSS in the measured window. */
  readonly windowRssMb: number;
  /** VmHWM: the process's peak over its whole life (startup and tsx's compiling included). */
  readonly peakRssMb: number;
  /** Heap in use right after a full garbage collection at the end of the window. */
  readonly liveHeapMb: number;
  readonly p50: number;
  readonly p99: number;
  readonly maxLatency: number;
  readonly overruns: number;
  readonly polls: number;
  readonly failedPolls: number;
  readonly badPoints: number;
  readonly devicesSeen: number;
  /** CPU seconds the simulators' process used in the window (it shares the machine). */
  readonly simCpuS: number;
  /** mosquitto's own CPU seconds in the window (not part of `cpuS`). */
  readonly brokerCpuS?: number;
}

/** The bare modbus-serial loop. */
export interface BareRun {
  readonly seconds: number;
  readonly points: number;
  readonly pointsPerSec: number;
  readonly cpuS: number;
  readonly cpuPerMillion: number;
  readonly windowRssMb: number;
  readonly peakRssMb: number;
  readonly overruns: number;
  readonly errors: number;
  readonly requests: number;
  readonly simCpuS: number;
}

/** Targets from issue 2. */
export const TARGETS = { pointsPerSec: 100_000, rssMb: 200, cpuPerMillion: 2, ratio: 0.8 } as const;

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const n1 = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : 'n/a');
const n2 = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : 'n/a');

/** The machine, for the record: cores, CPU model, load when the run started. */
export function machine(): { nproc: number; model: string; load: string; node: string } {
  let model = 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  return { nproc: os.availableParallelism(), model, load: os.loadavg().map((x) => x.toFixed(2)).join(' '), node: process.version };
}

/** The results table (Markdown). */
export function resultTable(gw: readonly GatewayRun[], bare: BareRun | undefined): string {
  const head = '| run | points/s end to end (min 1 s) | CPU s per million points (cores busy) | RSS MB: window max / lifetime peak | latency p50 / p99 (max) ms | poll overruns | failed polls |';
  const rows = [head, '|---|---|---|---|---|---|---|'];
  for (const r of gw) {
    const name = r.broker === 'embedded' ? 'gateway, embedded aedes (broker in the gateway process)' : `gateway + mosquitto (mosquitto's own CPU: ${n2(r.brokerCpuS ?? Number.NaN)} s, not counted)`;
    rows.push(`| ${name} | ${n0(r.pointsPerSec)} (${n0(r.minPerSecond)}) | ${n2(r.cpuPerMillion)} (${n2(r.cpuS / r.seconds)}) | ${n1(r.windowRssMb)} / ${n1(r.peakRssMb)} | ${n1(r.p50)} / ${n1(r.p99)} (${n0(r.maxLatency)}) | ${n0(r.overruns)} | ${n0(r.failedPolls)} |`);
  }
  if (bare !== undefined) {
    rows.push(`| bare modbus-serial loop (reads only) | ${n0(bare.pointsPerSec)} | ${n2(bare.cpuPerMillion)} (${n2(bare.cpuS / bare.seconds)}) | ${n1(bare.windowRssMb)} / ${n1(bare.peakRssMb)} | – | ${n0(bare.overruns)} | ${n0(bare.errors)} failed requests |`);
  }
  return rows.join('\n');
}

/** Ratios and targets, one line each (Markdown list). */
export function verdicts(gw: readonly GatewayRun[], bare: BareRun | undefined): string {
  const out: string[] = [];
  for (const r of gw) {
    const label = r.broker === 'embedded' ? 'embedded aedes' : 'mosquitto';
    const ok = (b: boolean) => (b ? 'met' : '**missed**');
    out.push(`- ${label}: ${n0(r.pointsPerSec)} points/s (target ${n0(TARGETS.pointsPerSec)}: ${ok(r.pointsPerSec >= TARGETS.pointsPerSec * 0.99)}); lifetime peak RSS ${n1(r.peakRssMb)} MB (target ≤ ${TARGETS.rssMb}: ${ok(r.peakRssMb <= TARGETS.rssMb)}); ${n2(r.cpuPerMillion)} CPU s per million points (target ≤ ${TARGETS.cpuPerMillion}: ${ok(r.cpuPerMillion <= TARGETS.cpuPerMillion)})`);
    if (bare !== undefined) {
      const ratio = r.pointsPerSec / bare.pointsPerSec;
      out.push(`  - ratio gateway/bare, points/s: ${n2(ratio)} (target ≥ ${TARGETS.ratio}: ${ok(ratio >= TARGETS.ratio)}); CPU per point, bare/gateway: ${n2(bare.cpuPerMillion / r.cpuPerMillion)} (the gateway spends ${n1(r.cpuPerMillion / bare.cpuPerMillion)}× the bare loop's CPU per point)`);
    }
  }
  for (const r of gw) {
    out.push(`- memory (${r.broker === 'embedded' ? 'embedded aedes' : 'mosquitto'}): after a full garbage collection at the end of the window the gateway's live JS heap was ${n1(r.liveHeapMb)} MB; the rest of its RSS is garbage the collector had not yet reclaimed, compiled code, native buffers and SQLite, and the tsx loader (its hooks thread has a heap of its own).`);
  }
  return out.join('\n');
}

const INTRO = `# Performance

Figures measured by the benchmarks in \`bench/\`. Each benchmark overwrites its own section of this
page; the machine, the date and the exact command are recorded with every table.
`;

/** Replaces (or appends) the `## Modbus` section of `file`; creates the file with an intro if missing. */
export function writeModbusSection(file: string, section: string): void {
  const body = section.trimEnd() + '\n';
  if (!existsSync(file)) {
    writeFileSync(file, `${INTRO}\n${body}`);
    return;
  }
  const text = readFileSync(file, 'utf8');
  const start = text.search(/^## Modbus\b.*$/m);
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${body}`);
    return;
  }
  const after = text.slice(start + 1).search(/^## /m);
  const end = after < 0 ? text.length : start + 1 + after;
  writeFileSync(file, `${text.slice(0, start)}${body}${end < text.length ? `\n${text.slice(end)}` : ''}`);
}
