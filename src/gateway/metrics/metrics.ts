/**
 * Prometheus metrics. Counters live in the runtime objects (devices, links, MQTT link, store) and
 * are read at scrape time, so the poll path pays nothing for them; only the poll latency histogram
 * is observed per poll.
 */
import client from 'prom-client';
import type { BaseConnection } from '../../drivers/sdk/index.ts';
import type { DeviceRuntime } from '../runtime/device.ts';
import type { Link } from '../runtime/link.ts';
import type { BrokerLink } from '../mqtt/connection.ts';
import type { ShadowStore } from '../../shadow/store-api.ts';

/** What the collectors read. */
export interface MetricsSource {
  readonly devices: ReadonlyMap<string, DeviceRuntime>;
  readonly links: ReadonlyMap<string, Link<BaseConnection>>;
  readonly broker: BrokerLink;
  readonly store: ShadowStore;
}

export interface GatewayMetrics {
  readonly registry: client.Registry;
  /** Records one poll of a device. */
  observePoll(device: DeviceRuntime, seconds: number): void;
  /** Starts reading the gateway's counters at scrape time. */
  bind(source: MetricsSource): void;
  /** Prometheus text. */
  text(): Promise<string>;
  stop(): void;
}

const LINK_STATES = ['idle', 'connecting', 'online', 'backoff', 'closing', 'closed'] as const;

export function createMetrics(): GatewayMetrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({});
  // Process CPU, RSS, event-loop lag (nodejs_eventloop_lag_*), GC, handles.
  client.collectDefaultMetrics({ register: registry, prefix: 'fieldgate_', eventLoopMonitoringPrecision: 20 });
  const pollSeconds = new client.Histogram({
    name: 'fieldgate_poll_duration_seconds',
    help: 'Time of one device poll (all its requests), by driver and device',
    labelNames: ['driver', 'device'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let source: MetricsSource | undefined;

  const perDevice = (name: string, help: string, pick: (d: DeviceRuntime) => number, type: 'counter' | 'gauge' = 'counter') => {
    const Ctor = type === 'counter' ? client.Counter : client.Gauge;
    new Ctor({
      name,
      help,
      labelNames: ['driver', 'device'],
      registers: [registry],
      collect(this: client.Counter | client.Gauge) {
        this.reset();
        for (const d of source?.devices.values() ?? []) {
          const labels = { driver: d.device.driver, device: d.name };
          if (this instanceof client.Counter) this.inc(labels, pick(d));
          else (this as client.Gauge).set(labels, pick(d));
        }
      },
    });
  };
  perDevice('fieldgate_polls_total', 'Polls started', (d) => d.counters.polls);
  perDevice('fieldgate_polls_failed_total', 'Polls in which every request failed', (d) => d.counters.failedPolls);
  perDevice('fieldgate_poll_overruns_total', 'Poll ticks skipped because the previous poll was still running', (d) => d.counters.overruns);
  perDevice('fieldgate_points_read_total', 'Point results read (good and bad)', (d) => d.counters.pointsRead);
  perDevice('fieldgate_points_bad_total', 'Point results with bad quality', (d) => d.counters.badPoints);
  perDevice('fieldgate_points_published_total', 'Attribute values published', (d) => d.counters.published);
  perDevice('fieldgate_writes_total', 'Write commands sent to the device', (d) => d.counters.writes);
  perDevice('fieldgate_device_online', '1 when the device is online', (d) => (d.isOnline ? 1 : 0), 'gauge');

  new client.Counter({
    name: 'fieldgate_point_errors_total',
    help: 'Bad point results by error code',
    labelNames: ['driver', 'device', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of source?.devices.values() ?? []) {
        for (const [code, n] of d.errorsByCode) this.inc({ driver: d.device.driver, device: d.name, code }, n);
      }
    },
  });
  new client.Gauge({
    name: 'fieldgate_outbox_oldest_age_seconds',
    help: 'Age of the oldest cloud outbox message waiting for an acknowledgement (0 when empty)',
    registers: [registry],
    collect() {
      const oldest = source?.store.peek(1)[0];
      this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest.createdAt) / 1000));
    },
  });
  new client.Gauge({
    name: 'fieldgate_link_state',
    help: 'Link state machine: 1 for the current state',
    labelNames: ['link', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of source?.links.values() ?? []) for (const s of LINK_STATES) this.set({ link: l.key, state: s }, l.state === s ? 1 : 0);
    },
  });
  new client.Counter({
    name: 'fieldgate_link_reconnects_total',
    help: 'Reconnect attempts of a link',
    labelNames: ['link'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of source?.links.values() ?? []) this.inc({ link: l.key }, l.stats.reconnects);
    },
  });
  new client.Counter({
    name: 'fieldgate_link_failures_total',
    help: 'Connect failures and lost sessions of a link',
    labelNames: ['link'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of source?.links.values() ?? []) this.inc({ link: l.key }, l.stats.failures);
    },
  });
  new client.Gauge({
    name: 'fieldgate_mqtt',
    help: 'Broker link counters (published, dropped, reconnects, queued, inflight)',
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      this.reset();
      const c = source?.broker.counters;
      if (c === undefined) return;
      for (const [k, v] of Object.entries(c)) if (typeof v === 'number') this.set({ counter: k }, v);
    },
  });
  new client.Gauge({
    name: 'fieldgate_mqtt_online',
    help: '1 while the broker link is online',
    registers: [registry],
    collect() {
      this.set(source?.broker.state === 'online' ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'fieldgate_outbox_depth',
    help: 'Cloud outbox messages waiting for an acknowledgement',
    registers: [registry],
    collect() {
      this.set(source?.store.stats().outbox.size ?? 0);
    },
  });
  new client.Gauge({
    name: 'fieldgate_shadow',
    help: 'Shadow store (devices, dirty, updates, flushes, lastFlushMs, maxFlushMs, persisting)',
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      this.reset();
      const s = source?.store.stats();
      if (s === undefined) return;
      for (const k of ['devices', 'dirty', 'updates', 'flushes', 'lastFlushMs', 'maxFlushMs'] as const) this.set({ counter: k }, s[k]);
      this.set({ counter: 'persisting' }, s.persisting ? 1 : 0);
    },
  });

  return {
    registry,
    observePoll(device, seconds) {
      pollSeconds.observe({ driver: device.device.driver, device: device.name }, seconds);
    },
    bind(s) {
      source = s;
    },
    text: () => registry.metrics(),
    stop() {
      registry.clear();
    },
  };
}
