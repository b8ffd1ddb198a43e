/** Waiting on the subscriber's messages, with a failure that names what is missing. */
import { series } from './checks.ts';
import type { TopicIndex } from './checks.ts';

/** Resolves once every device has at least `n` reports; rejects after `timeoutMs` naming those that do not. */
export async function waitReporting(idx: TopicIndex, devices: readonly { name: string; reportTopic: string }[], n: number, timeoutMs: number): Promise<void> {
  const missing = () => devices.filter((d) => series(idx, d.reportTopic).length < n);
  const end = Date.now() + timeoutMs;
  while (missing().length > 0) {
    if (Date.now() > end) {
      const m = missing();
      throw new Error(`after ${timeoutMs} ms, ${m.length} of ${devices.length} devices have fewer than ${n} reports: ${m.slice(0, 10).map((d) => `${d.name} (${series(idx, d.reportTopic).length})`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
