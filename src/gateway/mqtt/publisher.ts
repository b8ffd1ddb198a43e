/**
 * Publishes the gateway's uplink messages on each device's configured topics (`deviceTopic` of
 * sub_devices.yml, with Baetyl's defaults) and QoS, splitting property maps that would pass the
 * broker's payload limit. Also the gateway's own retained status and its Last Will.
 * docs/topics.md lists every topic and payload.
 */
import type { CompiledDevice, QosTopic } from '../../devicemodel/compiled.ts';
import type { Logger } from '../../drivers/sdk/types.ts';
import type { BrokerLink, WillSpec } from './connection.ts';
import {
  errorMessage,
  eventMessage,
  getReportMessage,
  lifecycleMessage,
  metaOf,
  reportMessage,
  serialize,
  shadowResponseMessage,
  type ErrorInfo,
  type Meta,
} from './envelope.ts';
import { byteLength, splitPropertyMap } from './split.ts';

/** baetyl-broker's default `maxMessagePayloadSize` (bytes). */
export const DEFAULT_MAX_PAYLOAD = 32768;

/** Publisher settings. */
export interface PublisherOptions {
  /** Edge node name (`meta.node`; Baetyl's `BAETYL_NODE_NAME`), `''` if none. */
  readonly node: string;
  /** Largest payload in bytes (default 32768, baetyl-broker's default). */
  readonly maxPayload?: number;
  readonly log?: Logger;
  /** Epoch ms for the gateway status (default `Date.now`). */
  readonly now?: () => number;
}

/** `fieldgate/<node>/status`: fieldgate's own topic; `/`, `+`, `#` and an empty name become `_`. */
export function statusTopic(node: string): string {
  const safe = node === '' ? '_' : node.replace(/[/+#]/g, '_');
  return `fieldgate/${safe}/status`;
}

/** The retained gateway status payload `{"online":bool,"node":…,"ts":…}`. */
export function statusPayload(node: string, online: boolean, ts: number): string {
  return serialize({ online, node, ts });
}

/**
 * The Last Will for connectBroker: retained `{"online":false,…}` on {@link statusTopic}, QoS 1.
 * The broker publishes it when the gateway's connection dies without DISCONNECT; its `ts` is the
 * time the Will was made (the connect time), since the broker cannot stamp it.
 */
export function willFor(node: string, ts: number = Date.now()): WillSpec {
  return { topic: statusTopic(node), payload: statusPayload(node, false, ts), qos: 1, retain: true };
}

/** Counters of the Publisher. */
export interface PublisherCounters {
  /** Messages not sent because one property alone passed `maxPayload`. */
  oversized: number;
  /** Messages split from a larger report (parts beyond the first). */
  extraParts: number;
}

/**
 * Builds and publishes messages. Each method resolves when the broker took every message it
 * made (QoS 1: PUBACK) or they were written (QoS 0), and rejects with the link's error otherwise.
 */
export class Publisher {
  readonly maxPayload: number;
  readonly counters: PublisherCounters = { oversized: 0, extraParts: 0 };
  private readonly metas = new Map<CompiledDevice, Meta>();
  private readonly node: string;
  private readonly now: () => number;

  constructor(
    private readonly link: BrokerLink,
    private readonly opts: PublisherOptions,
  ) {
    this.node = opts.node;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.now = opts.now ?? Date.now;
  }

  /** `deviceReport` on `topics.report`, split over several messages if needed. */
  report(device: CompiledDevice, properties: Record<string, unknown>, ts: number): Promise<void> {
    const meta = this.meta(device);
    return this.sendSplit(device, device.topics.report, (p) => reportMessage(meta, p, ts), properties);
  }

  /** `thing.lifecycle.post` on `topics.lifecycleReport` (Baetyl configures it QoS 1). */
  lifecycle(device: CompiledDevice, online: boolean, ts: number): Promise<void> {
    return this.send(device.topics.lifecycleReport, serialize(lifecycleMessage(this.meta(device), online, ts)));
  }

  /** `thing.event.post` on `topics.eventReport`; a large events map is split like a report. */
  event(device: CompiledDevice, events: Record<string, unknown>, ts: number): Promise<void> {
    const meta = this.meta(device);
    return this.sendSplit(device, device.topics.eventReport, (e) => eventMessage(meta, e, ts), events);
  }

  /**
   * The answer to a read-now (`thing.property.get`, `deviceEvent` report) on `topics.get`: a
   * `deviceReport`, carrying the request's `reqId` when given; split like a report.
   */
  getReport(device: CompiledDevice, properties: Record<string, unknown>, ts: number, reqId?: string): Promise<void> {
    const meta = this.meta(device);
    return this.sendSplit(device, device.topics.get, (p) => getReportMessage(meta, p, ts, reqId), properties);
  }

  /**
   * `response` `{name, report, desire}` on `topics.getResponse`: what Baetyl core sends a driver;
   * fieldgate sends it when it stands in for core (embedded broker, no Baetyl) or in tests.
   */
  shadowResponse(device: CompiledDevice, shadow: { report: Record<string, unknown>; desire: Record<string, unknown> }): Promise<void> {
    const msg = shadowResponseMessage(this.meta(device), { name: device.name, ...shadow });
    return this.send(device.topics.getResponse, serialize(msg));
  }

  /**
   * fieldgate's `error` message for a rejected or failed command, on `topics.get`: the topic where
   * the answers to commands go, and one that Baetyl core already subscribes (it ignores the kind).
   */
  error(device: CompiledDevice, err: ErrorInfo, ts: number): Promise<void> {
    return this.send(device.topics.get, serialize(errorMessage(this.meta(device), err, ts)));
  }

  /** Retained `{"online","node","ts"}` on `fieldgate/<node>/status`, QoS 1. */
  gatewayStatus(online: boolean): Promise<void> {
    return this.link.publish(statusTopic(this.node), statusPayload(this.node, online, this.now()), { qos: 1, retain: true });
  }

  /** The Last Will matching {@link gatewayStatus}, for connectBroker. */
  willFor(): WillSpec {
    return willFor(this.node, this.now());
  }

  private meta(device: CompiledDevice): Meta {
    let m = this.metas.get(device);
    if (!m) {
      m = metaOf(device, this.node);
      this.metas.set(device, m);
    }
    return m;
  }

  private fits(payload: string): boolean {
    // A payload has at least one byte per char and at most three (UTF-8 of UTF-16 code units).
    return payload.length * 3 <= this.maxPayload || byteLength(payload) <= this.maxPayload;
  }

  private send(t: QosTopic, payload: string): Promise<void> {
    return this.link.publish(t.topic, payload, { qos: t.qos });
  }

  private async sendSplit(
    device: CompiledDevice,
    t: QosTopic,
    build: (map: Record<string, unknown>) => object,
    map: Record<string, unknown>,
  ): Promise<void> {
    const { payloads, oversized } = splitPropertyMap(build, map, this.maxPayload);
    // The common case, one payload that splitPropertyMap found to fit: send it as is (the
    // filter, the second byte count and Promise.all below change nothing for it).
    if (payloads.length === 1 && oversized.length === 0 && this.fits(payloads[0]!)) return this.send(t, payloads[0]!);
    // baetyl-broker closes the connection on a packet over its limit, and a QoS 1 message would
    // be resent after every reconnect: an oversized message is logged and not sent.
    const sendable = payloads.filter((p) => byteLength(p) <= this.maxPayload);
    if (oversized.length > 0) {
      this.counters.oversized += payloads.length - sendable.length;
      this.opts.log?.error(
        { device: device.name, topic: t.topic, properties: oversized, maxPayload: this.maxPayload },
        'property too large for one message; not published',
      );
    }
    this.counters.extraParts += Math.max(0, sendable.length - 1);
    await Promise.all(sendable.map((p) => this.send(t, p)));
  }
}
