/**
 * The cloud simulator's state: per node and device, the reported shadow (with versions), the
 * desired values the user asked for, and counters that tests read. No I/O: messages come in through
 * {@link CloudShadows.receive}, desired documents go out through the `send` callback.
 *
 * Streams: a message whose (epoch, seq) is not above the last one seen for its device is a
 * duplicate (QoS 1 resend) and is dropped; one that skips numbers counts as a gap.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '../../src/devicemodel/types.ts';
import { stringifyJson } from '../../src/devicemodel/json.ts';
import {
  desiredMessage,
  makeMeta,
  parseUplink,
  serialize,
  deviceTopic,
  type AckContent,
  type Rejection,
  type StreamPos,
} from '../../src/shadow/sync/protocol.ts';

/** Counters of one device's stream. */
export interface DeviceCounters {
  /** Messages received, duplicates included. */
  messages: number;
  duplicates: number;
  /** Messages that skipped sequence numbers (lost, or dropped by the edge's outbox bound). */
  gaps: number;
  reports: number;
  fullReports: number;
  lifecycle: number;
  acks: number;
  /** Desired documents sent (retries included). */
  desiredSent: number;
}

/** A desired document waiting for its answer. */
interface Pending {
  readonly clientToken: string;
  readonly patch: Record<string, AttributeValue>;
  retries: number;
}

/** One device as the cloud sees it. */
export interface CloudDevice {
  readonly node: string;
  readonly device: string;
  reported: Record<string, AttributeValue>;
  metadata: Record<string, { ts: number; quality: string }>;
  reportVersion: number;
  /** The edge's `desireVersion`, as last heard. */
  edgeDesireVersion: number | undefined;
  /** Desired values not yet acknowledged by a matching report. */
  desired: Record<string, AttributeValue>;
  online: boolean | undefined;
  last: StreamPos | undefined;
  counters: DeviceCounters;
  /** Answers to desired documents, newest last (at most 100). */
  answers: AckContent[];
  /** Properties the edge refused, latest reason per property. */
  rejected: Record<string, string>;
  /** Reports in stream order (only with `keepHistory`): each report's properties and position. */
  history: { epoch: number; seq: number; reportVersion: number; full: boolean; reqId?: string; properties: Record<string, AttributeValue> }[];
  pending: Pending | undefined;
  queued: Record<string, AttributeValue> | undefined;
}

/** Totals over every device. */
export interface CloudStats {
  messages: number;
  duplicates: number;
  gaps: number;
  reports: number;
  badMessages: number;
  devices: number;
  nodes: Record<string, { online: boolean | undefined }>;
}

const MAX_RETRIES = 5;

/** The shadows of every node and device. */
export class CloudShadows {
  private readonly devices = new Map<string, CloudDevice>();
  private readonly nodes = new Map<string, { online: boolean | undefined }>();
  badMessages = 0;
  lastError: string | undefined;

  constructor(
    private readonly send: (topic: string, payload: string) => void,
    private readonly opts: { keepHistory?: boolean; now?: () => number } = {},
  ) {}

  /** Handles one uplink message. */
  receive(topic: string, payload: Buffer): void {
    const m = parseUplink(topic, payload);
    if (m.kind === 'error') {
      this.badMessages++;
      this.lastError = `${topic}: ${m.error}`;
      return;
    }
    const u = m.value;
    if (u.type === 'status') {
      this.nodes.set(u.node, { online: u.online });
      // Desired documents sent while the node was away were lost (clean session): send them again.
      if (u.online) for (const d of this.devices.values()) if (d.node === u.node && d.pending) this.sendPending(d);
      return;
    }
    const d = this.device(u.node, u.device, true);
    d.counters.messages++;
    const pos = u.type === 'report' ? { epoch: u.content.epoch, seq: u.content.seq } : u.type === 'ack' ? { epoch: u.content.epoch, seq: u.content.seq } : u.pos;
    if (d.last !== undefined && (pos.epoch < d.last.epoch || (pos.epoch === d.last.epoch && pos.seq <= d.last.seq))) {
      d.counters.duplicates++;
      return;
    }
    const expected = d.last === undefined ? undefined : pos.epoch === d.last.epoch ? d.last.seq + 1 : 1;
    if (expected !== undefined && pos.seq !== expected) d.counters.gaps++;
    d.last = pos;

    if (u.type === 'report') {
      const c = u.content;
      d.counters.reports++;
      if (c.full) {
        d.counters.fullReports++;
        d.reported = { ...(c.blink.properties ?? {}) };
        d.metadata = { ...c.metadata };
        if (c.online !== undefined) d.online = c.online;
      } else {
        Object.assign(d.reported, c.blink.properties ?? {});
        Object.assign(d.metadata, c.metadata);
      }
      d.reportVersion = c.reportVersion;
      d.edgeDesireVersion = c.desireVersion;
      if (this.opts.keepHistory) {
        d.history.push({
          epoch: c.epoch,
          seq: c.seq,
          reportVersion: c.reportVersion,
          full: c.full,
          ...(c.reqId !== undefined ? { reqId: c.reqId } : {}),
          properties: { ...(c.blink.properties ?? {}) },
        });
      }
    } else if (u.type === 'lifecycle') {
      d.counters.lifecycle++;
      d.online = u.online;
    } else {
      this.onAck(d, u.content);
    }
  }

  /** Merges `props` into the device's desired values and sends them (now, or after the answer in flight). */
  setDesired(node: string, device: string, props: Record<string, AttributeValue>): void {
    const d = this.device(node, device, true);
    Object.assign(d.desired, props);
    d.queued = { ...(d.queued ?? {}), ...props };
    for (const k of Object.keys(props)) delete d.rejected[k];
    this.next(d);
  }

  /** Sends a raw desired document with an explicit version (tests of stale versions). */
  sendDesired(node: string, device: string, props: Record<string, AttributeValue>, version: number | undefined, clientToken = randomUUID()): string {
    const d = this.device(node, device, true);
    d.counters.desiredSent++;
    this.send(
      deviceTopic(node, device, 'desired'),
      serialize(desiredMessage(makeMeta(node, device), props, { ts: this.now(), clientToken, ...(version !== undefined ? { version } : {}) })),
    );
    return clientToken;
  }

  /** The device, if the cloud has heard of it. */
  get(node: string, device: string): CloudDevice | undefined {
    return this.devices.get(key(node, device));
  }

  /** The node of a device name, when exactly one node has it (or the only node known). */
  nodeOf(device: string): string | undefined {
    const nodes = [...this.devices.values()].filter((d) => d.device === device).map((d) => d.node);
    if (nodes.length === 1) return nodes[0];
    if (nodes.length === 0 && this.nodes.size === 1) return [...this.nodes.keys()][0];
    return undefined;
  }

  /** Desired keys whose value differs from the reported one (AWS `delta`). */
  delta(d: CloudDevice): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(d.desired)) if (stringifyJson(d.reported[k]) !== stringifyJson(v)) out[k] = v;
    return out;
  }

  all(): CloudDevice[] {
    return [...this.devices.values()];
  }

  stats(): CloudStats {
    const s: CloudStats = { messages: 0, duplicates: 0, gaps: 0, reports: 0, badMessages: this.badMessages, devices: this.devices.size, nodes: {} };
    for (const d of this.devices.values()) {
      s.messages += d.counters.messages;
      s.duplicates += d.counters.duplicates;
      s.gaps += d.counters.gaps;
      s.reports += d.counters.reports;
    }
    for (const [n, v] of this.nodes) s.nodes[n] = { ...v };
    return s;
  }

  /** A JSON-able snapshot (for the optional file); pending documents are not kept. */
  snapshot(): unknown {
    return this.all().map((d) => ({ ...d, pending: undefined, queued: undefined, history: [] }));
  }

  /** Restores a {@link snapshot}. */
  restore(data: unknown): void {
    if (!Array.isArray(data)) return;
    for (const raw of data as CloudDevice[]) {
      if (typeof raw?.node !== 'string' || typeof raw.device !== 'string') continue;
      this.devices.set(key(raw.node, raw.device), { ...emptyDevice(raw.node, raw.device), ...raw, pending: undefined, queued: undefined, history: [] });
    }
  }

  private onAck(d: CloudDevice, a: AckContent): void {
    d.counters.acks++;
    d.answers.push(a);
    if (d.answers.length > 100) d.answers.shift();
    d.edgeDesireVersion = a.desireVersion;
    if (a.status === 'acknowledged') {
      for (const [k, v] of Object.entries(a.acknowledged ?? {})) if (stringifyJson(d.desired[k]) === stringifyJson(v)) delete d.desired[k];
      return;
    }
    if (d.pending === undefined || a.clientToken !== d.pending.clientToken) return;
    if (a.status === 'stale' || a.status === 'conflict') {
      // Rebase on the edge's version and try again, a bounded number of times.
      if (d.pending.retries++ < MAX_RETRIES) this.sendPending(d);
      else d.pending = undefined;
      return;
    }
    for (const r of a.rejected as Rejection[]) {
      d.rejected[r.property] = r.reason;
      delete d.desired[r.property];
    }
    d.pending = undefined;
    this.next(d);
  }

  private next(d: CloudDevice): void {
    if (d.pending !== undefined || d.queued === undefined) return;
    d.pending = { clientToken: randomUUID(), patch: d.queued, retries: 0 };
    d.queued = undefined;
    this.sendPending(d);
  }

  private sendPending(d: CloudDevice): void {
    const p = d.pending;
    if (p === undefined) return;
    d.counters.desiredSent++;
    const doc = desiredMessage(makeMeta(d.node, d.device), p.patch, {
      ts: this.now(),
      clientToken: p.clientToken,
      ...(d.edgeDesireVersion !== undefined ? { version: d.edgeDesireVersion } : {}),
    });
    this.send(deviceTopic(d.node, d.device, 'desired'), serialize(doc));
  }

  private device(node: string, device: string, create: true): CloudDevice {
    const k = key(node, device);
    let d = this.devices.get(k);
    if (d === undefined && create) {
      d = emptyDevice(node, device);
      this.devices.set(k, d);
    }
    return d as CloudDevice;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

function key(node: string, device: string): string {
  return `${node}\u0000${device}`;
}

function emptyDevice(node: string, device: string): CloudDevice {
  return {
    node,
    device,
    reported: {},
    metadata: {},
    reportVersion: 0,
    edgeDesireVersion: undefined,
    desired: {},
    online: undefined,
    last: undefined,
    counters: { messages: 0, duplicates: 0, gaps: 0, reports: 0, fullReports: 0, lifecycle: 0, acks: 0, desiredSent: 0 },
    answers: [],
    rejected: {},
    history: [],
    pending: undefined,
    queued: undefined,
  };
}
