/**
 * What the fault scenarios measure in the messages a subscriber received, as pure functions of
 * those messages: per-device report series (counter value, arrival time, reqId), gaps between
 * reports, values out of order, duplicates, and lifecycle transitions.
 */
import type { Message } from '../../e2e/harness.ts';
import { stalledWithin } from './stalls.ts';
import type { Stall } from './stalls.ts';

/**
 * Messages by topic, kept up to date from the subscriber's growing array one new message at a
 * time: the scenarios look up a device's messages many times a second while waiting, and a scan
 * of every message each time would load the gateway's own process.
 */
export class TopicIndex {
  private seen = 0;
  private readonly by = new Map<string, Message[]>();
  constructor(private readonly messages: readonly Message[]) {}

  of(topic: string): Message[] {
    for (; this.seen < this.messages.length; this.seen++) {
      const m = this.messages[this.seen]!;
      const list = this.by.get(m.topic);
      if (list === undefined) this.by.set(m.topic, [m]);
      else list.push(m);
    }
    return this.by.get(topic) ?? [];
  }
}

/** The messages of `topic`, from an index or from all messages. */
function on(source: readonly Message[] | TopicIndex, topic: string): readonly Message[] {
  return source instanceof TopicIndex ? source.of(topic) : source;
}

/** One report of a device's `seq` counter. */
export interface Sample {
  readonly at: number;
  readonly seq: number;
  readonly reqId: string;
}

/** The `seq` reports on `topic`, in arrival order. */
export function series(source: readonly Message[] | TopicIndex, topic: string): Sample[] {
  const out: Sample[] = [];
  for (const m of on(source, topic)) {
    if (m.topic !== topic) continue;
    const blink = m.json?.content?.blink;
    const seq = blink?.properties?.seq;
    if (typeof seq === 'number') out.push({ at: m.at, seq, reqId: String(blink.reqId) });
  }
  return out;
}

/** Reports whose reqId was already seen (a QoS 1 redelivery). */
export function duplicates(samples: readonly Sample[]): number {
  const seen = new Set<string>();
  let n = 0;
  for (const s of samples) {
    if (seen.has(s.reqId)) n++;
    else seen.add(s.reqId);
  }
  return n;
}

/** Reports whose value is below the one before it (the counter never goes back). */
export function outOfOrder(samples: readonly Sample[]): { count: number; first?: string } {
  let count = 0;
  let first: string | undefined;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.seq < samples[i - 1]!.seq) {
      count++;
      first ??= `${samples[i - 1]!.seq} then ${samples[i]!.seq} at +${samples[i]!.at - samples[0]!.at} ms`;
    }
  }
  return first === undefined ? { count } : { count, first };
}

/**
 * Gaps between consecutive reports within [from, to], the window's ends counted as reports. A gap
 * is over the limit when what remains of it after the process stalls inside it exceeds the limit.
 */
export interface GapStats {
  /** Largest gap, ms. */
  readonly max: number;
  /** Largest gap less the stalls inside it, ms. */
  readonly maxNet: number;
  /** Gaps over the limit (net of stalls). */
  readonly over: number;
  /** Poll slots with no report inside the gaps over the limit (gap / interval − 1 each). */
  readonly missed: number;
  /** Where the largest gap started, ms after `from`. */
  readonly maxAt: number;
}

export function gaps(samples: readonly Sample[], from: number, to: number, interval: number, limit: number, stalls: readonly Stall[] = []): GapStats {
  const times = [from, ...samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.at), to];
  let max = 0;
  let maxNet = 0;
  let maxAt = 0;
  let over = 0;
  let missed = 0;
  for (let i = 1; i < times.length; i++) {
    const g = times[i]! - times[i - 1]!;
    max = Math.max(max, g);
    const net = g > limit ? g - stalledWithin(stalls, times[i - 1]!, times[i]!) : g;
    if (net > maxNet) {
      maxNet = net;
      maxAt = times[i - 1]! - from;
    }
    if (net > limit) {
      over++;
      missed += Math.max(1, Math.floor(net / interval) - 1);
    }
  }
  return { max, maxNet, over, missed, maxAt };
}

/** Lifecycle transitions (online_state) on `topic`, in arrival order. */
export function lifecycle(source: readonly Message[] | TopicIndex, topic: string): { at: number; online: boolean }[] {
  const out: { at: number; online: boolean }[] = [];
  for (const m of on(source, topic)) {
    if (m.topic !== topic) continue;
    const v = m.json?.content?.blink?.params?.online_state;
    if (typeof v === 'boolean') out.push({ at: m.at, online: v });
  }
  return out;
}

/** First `online_state: false` at or after `since`, and the first `true` after that. */
export function outage(source: readonly Message[] | TopicIndex, topic: string, since: number): { offlineAt?: number; onlineAt?: number } {
  const events = lifecycle(source, topic).filter((e) => e.at >= since);
  const off = events.find((e) => !e.online);
  if (off === undefined) return {};
  const on = events.find((e) => e.online && e.at >= off.at);
  return on === undefined ? { offlineAt: off.at } : { offlineAt: off.at, onlineAt: on.at };
}

/** Formats ms as seconds with one decimal. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
