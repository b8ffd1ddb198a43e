/**
 * The fault suite's shared reporting: every scenario runs at a scale picked by the environment
 * and ends with one row per scenario (traffic, faults injected, lost, duplicated, recovery).
 *
 * - `npm test` runs the scenarios in their bounded CI form (`FIELDGATE_FAULTS` unset → `ci`).
 * - `npm run test:faults` sets `FIELDGATE_FAULTS=full` and `FIELDGATE_FAULTS_REPORT=<file>`; the
 *   runner (scripts/faults.mjs) gathers the rows from that file into the table it prints.
 */
import { appendFileSync } from 'node:fs';

/** One line of the fault table. */
export interface FaultRow {
  /** e.g. "1. device failures". */
  readonly scenario: string;
  /** What ran: devices, points, rates, duration. */
  readonly traffic: string;
  /** What was done to it. */
  readonly faults: string;
  /** Values produced but never delivered (per the scenario's own definition, stated in `notes`). */
  readonly lost: number;
  /** Values delivered more than once (QoS 1 redelivery), counted. */
  readonly duplicated: number;
  /** Time from the end of a fault to normal service, e.g. "online after 1.4 s". */
  readonly recovery: string;
  readonly notes?: string;
}

/** `full` under `npm run test:faults`, else the bounded `ci` form. */
export function faultScale(): 'ci' | 'full' {
  return process.env.FIELDGATE_FAULTS === 'full' ? 'full' : 'ci';
}

/** Picks the CI or the full figure for a scenario parameter. */
export function scaled<T>(ci: T, full: T): T {
  return faultScale() === 'full' ? full : ci;
}

/** Prints the row and, under the runner, appends it to the report file (JSON lines). */
export function recordRow(row: FaultRow): void {
  const line = JSON.stringify({ ...row, scale: faultScale() });
  process.stdout.write(`# fault-row ${line}\n`);
  const file = process.env.FIELDGATE_FAULTS_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}
