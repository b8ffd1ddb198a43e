/**
 * The end-of-scenario counters: what the simulators produced against what the broker subscriber
 * and the cloud simulator received.
 *
 * - broker: every report the gateway counted as published (DeviceRuntime.counters.published,
 *   one attribute per device, so one per message) after the subscriber was subscribed must reach
 *   the subscriber; `lost` = published − received, per device, summed;
 * - freshness: the last value the subscriber holds is at most `limit` counter steps behind the
 *   simulator's counter at the same moment (a stale or frozen device shows here);
 * - cloud: the cloud simulator's stream from the gateway has no sequence gaps, its values never go
 *   back, and its shadow catches up with the last value the broker saw.
 */
import type { Gateway } from '../../../src/gateway/runtime/gateway.ts';
import type { CloudSimulator } from '../../../simulators/cloud/index.ts';
import type { Recorder } from '../../e2e/harness.ts';
import { series, TopicIndex } from './checks.ts';
import type { SimHost } from './sims.ts';

export interface CountedDevice {
  readonly name: string;
  readonly reportTopic: string;
}

/** Published counts of every device now (the baseline taken once the subscriber is subscribed). */
export function publishedNow(gateway: Gateway, devices: readonly CountedDevice[]): Map<string, number> {
  return new Map(devices.map((d) => [d.name, gateway.devices.get(d.name)?.counters.published ?? 0]));
}

/** Waits (up to `timeoutMs`) until the subscriber holds every report published since `baseline`; returns what is missing. */
export async function brokerLoss(gateway: Gateway, rec: Recorder, devices: readonly CountedDevice[], baseline: ReadonlyMap<string, number>, timeoutMs: number): Promise<{ published: number; lost: number; worst: string }> {
  const target = new Map(devices.map((d) => [d.name, (gateway.devices.get(d.name)?.counters.published ?? 0) - (baseline.get(d.name) ?? 0)]));
  const idx = new TopicIndex(rec.messages);
  const missing = () => devices.map((d) => ({ name: d.name, n: Math.max(0, target.get(d.name)! - series(idx, d.reportTopic).length) }));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && missing().some((m) => m.n > 0)) await new Promise((r) => setTimeout(r, 50));
  const m = missing();
  const lost = m.reduce((a, x) => a + x.n, 0);
  const worst = m.reduce((a, x) => (x.n > a.n ? x : a), { name: '-', n: 0 });
  return { published: [...target.values()].reduce((a, b) => a + b, 0), lost, worst: `${worst.name}: ${worst.n}` };
}

/** How far behind the simulator's counter the subscriber's last value is, per device (counter steps). */
export async function staleness(host: SimHost, rec: Recorder, devices: readonly CountedDevice[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const idx = new TopicIndex(rec.messages);
  for (const d of devices) {
    const produced = await host.value(d.name);
    const s = series(idx, d.reportTopic);
    out.set(d.name, produced - (s.at(-1)?.seq ?? -1));
  }
  return out;
}

/** The cloud side: gaps and duplicates of the stream, order of the values, and catching up with the broker. */
export async function cloudCounters(
  cloud: CloudSimulator,
  node: string,
  rec: Recorder,
  devices: readonly CountedDevice[],
  timeoutMs: number,
): Promise<{ gaps: number; duplicates: number; outOfOrder: number; behind: string[]; reports: number }> {
  const idx = new TopicIndex(rec.messages);
  const last = new Map(devices.map((d) => [d.name, series(idx, d.reportTopic).at(-1)?.seq ?? -1]));
  const behind = () => devices.filter((d) => !(Number(cloud.device(node, d.name)?.reported.seq ?? -1) >= last.get(d.name)!)).map((d) => d.name);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && behind().length > 0) await new Promise((r) => setTimeout(r, 50));
  let gaps = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let reports = 0;
  for (const d of devices) {
    const c = cloud.device(node, d.name);
    if (c === undefined) continue;
    gaps += c.counters.gaps;
    duplicates += c.counters.duplicates;
    reports += c.counters.reports;
    const seqs = c.history.map((h) => h.properties.seq).filter((v): v is number => typeof v === 'number');
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) outOfOrder++;
  }
  return { gaps, duplicates, outOfOrder, behind: behind().map((n) => `${n} (cloud ${String(cloud.device(node, n)?.reported.seq)}, broker ${last.get(n)})`), reports };
}
