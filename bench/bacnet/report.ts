/**
 * The BACnet benchmark's table, and its section of docs/performance.md: the text from the
 * `## BACnet/IP` heading to the next heading of level 2 or higher is replaced (or the section is
 * appended); every other section is left as it was.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The heading this benchmark owns. */
export const HEADING = '## BACnet/IP';

/** One measured mode. */
export interface BacnetRun {
  readonly mode: 'poll' | 'cov';
  /** Value objects changing per device and interval (all of them unless a COV run says less). */
  readonly changes: number;
  readonly objects: number;
  readonly seconds: number;
  readonly pointsPerSec: number;
  /** Slowest whole second at the subscriber. */
  readonly minPerSecond: number;
  readonly reportsPerSec: number;
  /** poll: ReadPropertyMultiple (and ReadProperty) served per second; cov: notifications sent per second. */
  readonly requestsPerSec: number;
  readonly cpuS: number;
  readonly cpuPerMillion: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly p50: number;
  readonly p99: number;
  readonly maxLatency: number;
  readonly latencySamples: number;
  readonly polls: number;
  readonly failedPolls: number;
  readonly overruns: number;
  readonly badPoints: number;
  readonly simCpuS: number;
  /** Gateway RSS when the measured window began and ended. */
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  /** Gateway heap in use after a full GC, at the end. */
  readonly liveHeapMb: number;
  /** The BACnet sessions' COV queue over the measured window (zero when polling). */
  readonly cov: {
    readonly receivedPerSec: number;
    readonly deliveredPerSec: number;
    readonly coalescedPerSec: number;
    /** Datagrams the kernel dropped on the gateway's sockets. */
    readonly socketDropsPerSec: number;
    /** The most notifications that ever waited on one link. */
    readonly maxPending: number;
    readonly subscriptions: number;
  };
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

/** The results as a Markdown table. */
export function bacnetTable(runs: readonly BacnetRun[]): string {
  const rows = [
    '| mode | points/s end to end (slowest 1 s) | reports/s | requests/s at the devices | gateway CPU s per million points (cores busy) | gateway RSS MB (peak) | latency p50 / p99 (max) ms | polls / failed / overruns | simulators CPU (cores busy) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const mode = r.mode === 'poll' ? 'polling, ReadPropertyMultiple' : `COV, unconfirmed notifications; ${r.changes === r.objects ? 'every object' : `${r.changes} of ${r.objects} objects`} changing`;
    const req = r.mode === 'poll' ? `${f(r.requestsPerSec)} RPM` : `${f(r.requestsPerSec)} notifications`;
    rows.push(
      `| ${mode} | ${f(r.pointsPerSec)} (${f(r.minPerSecond)}) | ${f(r.reportsPerSec)} | ${req} | ${f(r.cpuPerMillion, 2)} (${f(r.cpuS / r.seconds, 2)}) | ${f(r.rssMb, 1)} (${f(r.peakRssMb, 1)}) | ${f(r.p50, 1)} / ${f(r.p99, 1)} (${f(r.maxLatency)}) | ${f(r.polls)} / ${f(r.failedPolls)} / ${f(r.overruns)} | ${f(r.simCpuS / r.seconds, 2)} |`,
    );
  }
  return rows.join('\n');
}

/** `doc` with the section replaced or appended; `section` starts with {@link HEADING}. */
export function replaceBacnetSection(doc: string, section: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === HEADING);
  const body = section.trimEnd().split('\n');
  if (start < 0) return `${doc.trimEnd()}${doc.trim() === '' ? '' : '\n\n'}${body.join('\n')}\n`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^#{1,2}\s/.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  const after = lines.slice(end);
  return [...lines.slice(0, start), ...body, ...(after.length > 0 ? ['', ...after] : [''])].join('\n');
}

/** Writes the section into `file` (created with a title when missing). */
export function writeBacnetSection(file: string, section: string): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n\nFigures measured by the benchmarks in `bench/` (`npm run bench:<name>`).\n';
  writeFileSync(file, replaceBacnetSection(doc, section));
}
