/**
 * Composes the gateway: broker link (or an embedded broker), publisher, one Link per shared
 * connection, one DeviceRuntime and poll timer per sub-device, subscriptions, and the downlink
 * router. It never branches on a protocol name, only on declared capabilities.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CompiledDevice, CompiledInstance } from '../../devicemodel/compiled.ts';
import type { BaseConnection, Clock, DriverDescriptor, Logger } from '../../drivers/sdk/index.ts';
import type { GatewayConfig } from '../config/gateway-schema.ts';
import type { DriverRegistry } from '../drivers/registry.ts';
import { startEmbeddedBroker } from '../mqtt/broker.ts';
import { connectBroker } from '../mqtt/connection.ts';
import type { BrokerLink } from '../mqtt/connection.ts';
import { parseDownlink } from '../mqtt/downlink.ts';
import { Publisher, willFor } from '../mqtt/publisher.ts';
import { systemClock } from './clock.ts';
import { CommandRouter, errorText } from './commands.ts';
import type { DeviceRuntime } from './device.ts';
import type { DevicePublisher } from './device.ts';
import type { Link } from './link.ts';
import { Fleet } from './fleet.ts';
import { watchConfig } from './watch.ts';
import { descriptorForInstance } from '../drivers/instance-driver.ts';
import type { ReloadSummary } from './fleet.ts';
import type { ConfigIssue } from '../../devicemodel/schema/issues.ts';
import { openShadowStore } from '../../shadow/store.ts';
import { CloudSync } from '../../shadow/sync/cloud-sync.ts';
import type { ShadowStore } from '../../shadow/store-api.ts';
import type { PollTimer } from './scheduler.ts';
import { createMetrics } from '../metrics/metrics.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { createApi } from '../api/app.ts';
import { listenApi } from '../api/server.ts';
import type { ApiServer } from '../api/server.ts';
import { loadConfig } from '../config/load.ts';

type AnyDescriptor = DriverDescriptor<BaseConnection, unknown>;

export type ReloadResult = ({ ok: true } & ReloadSummary) | { ok: false; issues: readonly ConfigIssue[] };

/** gateway.yaml keys that a reload cannot change. */
function restartNeeded(a: GatewayConfig, b: GatewayConfig): string[] {
  const keys = ['node', 'dataDir', 'broker', 'embeddedBroker', 'maxPayload', 'api', 'cloud', 'heartbeat', 'onChangeOnly', 'offlineAfter', 'reload', 'storage'] as const;
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export interface GatewayInput {
  readonly config: GatewayConfig;
  readonly instances: readonly CompiledInstance[];
  readonly registry: DriverRegistry;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Run-time log level control for the API (pino's `level`). */
  readonly logLevel?: { get(): string; set(level: string): void };
}

export interface Gateway {
  /** Where the broker is (the embedded one's URL when none is configured). */
  readonly brokerUrl: string;
  readonly embedded: boolean;
  readonly devices: ReadonlyMap<string, DeviceRuntime>;
  readonly links: ReadonlyMap<string, Link<BaseConnection>>;
  readonly timers: ReadonlyMap<string, PollTimer>;
  readonly broker: BrokerLink;
  readonly commands: CommandRouter;
  /** Shadows of every device and the cloud outbox (SQLite in the data directory). */
  readonly store: ShadowStore;
  readonly metrics: GatewayMetrics;
  /** The cloud sync, when gateway.yaml has `cloud:`. */
  readonly cloud: CloudSync | undefined;
  /** The REST API / console, when enabled. */
  readonly api: ApiServer | undefined;
  /** The link a device polls through. */
  linkOfDevice(name: string): Link<BaseConnection> | undefined;
  /** Drivers in use, with instances and device counts. */
  drivers(): { descriptor: AnyDescriptor; instances: string[]; devices: number }[];
  /**
   * Re-reads the configuration folder and applies the difference: only changed devices restart.
   * An invalid configuration, or a change of settings that need a restart, is refused as a whole.
   */
  reload(): Promise<ReloadResult>;
  /** What {@link reload} would change now, without changing it. */
  planReload(): Promise<ReloadResult>;
  stop(): Promise<void>;
}

/** Starts everything; resolves once the broker connection is set up (devices connect in the background). */
export async function startGateway(input: GatewayInput): Promise<Gateway> {
  const { config, log } = input;
  const clock = input.clock ?? systemClock;
  const stopping = new AbortController();
  mkdirSync(config.dataDir, { recursive: true });
  const store = openShadowStore(path.join(config.dataDir, 'fieldgate.db'), {
    // The cloud sync enforces its own bounds below this one (see CloudSync limits).
    outboxMax: Math.max(1_000_000, (config.cloud?.outbox.maxRows ?? 0) * 2),
    ...(config.storage.maxBytes !== undefined ? { maxDbBytes: config.storage.maxBytes } : {}),
    onError: (e) => log.error({ code: e.code, err: e.message }, 'shadow store is not persisting; live data continues'),
    onRecovered: () => log.warn('shadow store is persisting again; what it held in memory is written'),
  });
  let sync: CloudSync | undefined;
  const shadowSink = {
    reported: (device: string, props: Parameters<ShadowStore['report']>[1]) => {
      const outcome = store.report(device, props);
      if (sync !== undefined && outcome.changed.length > 0) {
        const changed: Record<string, (typeof props)[string]> = {};
        for (const k of outcome.changed) changed[k] = props[k]!;
        sync.reported(device, changed);
      }
    },
  };

  // Broker: configured, or embedded.
  let embeddedClose: (() => Promise<void>) | undefined;
  let url: string;
  if (config.broker === undefined) {
    const b = await startEmbeddedBroker({ host: config.embeddedBroker.host, port: config.embeddedBroker.port });
    embeddedClose = b.close;
    url = b.url;
    log.info({ url, fellBack: b.fellBack ?? false }, 'embedded MQTT broker started');
  } else {
    url = config.broker.url;
  }
  const node = config.node;
  const b = config.broker;
  const readOpt = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const link = connectBroker(
    {
      url,
      clientId: b?.clientId ?? `fieldgate-${node}`,
      ...(b?.username !== undefined ? { username: b.username } : {}),
      ...(b?.password !== undefined ? { password: b.password } : {}),
      ...(b?.ca !== undefined ? { ca: readOpt(b.ca) } : {}),
      ...(b?.cert !== undefined ? { cert: readOpt(b.cert) } : {}),
      ...(b?.key !== undefined ? { key: readOpt(b.key) } : {}),
      rejectUnauthorized: b?.rejectUnauthorized ?? true,
      protocolVersion: b?.protocolVersion ?? 4,
      ...(b?.keepalive !== undefined ? { keepalive: Math.round(b.keepalive / 1000) } : {}),
      will: willFor(node),
    },
    log.child({ component: 'mqtt' }),
  );
  const publisher = new Publisher(link, { node, maxPayload: config.maxPayload, log: log.child({ component: 'publisher' }) });

  // Drivers, links, devices.
  const metrics = createMetrics();
  const devicePublisher: DevicePublisher = {
    report: (d, props, ts) => publisher.report(d, props, ts),
    lifecycle: (d, online, ts) => {
      sync?.lifecycle(d.name, online, ts);
      return publisher.lifecycle(d, online, ts);
    },
    getReport: (d, props, ts) => publisher.getReport(d, props, ts),
    event: (d, events, ts) => publisher.event(d, events, ts),
  };
  const fleet = new Fleet({
    registry: input.registry,
    // A driver's raw bytes obey maxPayload like every message (baetyl-broker drops the whole
    // connection on a larger packet); the driver gets the refusal, nothing is sent.
    publish: (topic, payload, o) => {
      const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      if (bytes.length + Buffer.byteLength(topic) > config.maxPayload) {
        return Promise.reject(new Error(`${bytes.length} bytes on ${topic} exceed maxPayload ${config.maxPayload} (gateway.yaml); raise it if the broker accepts more`));
      }
      return link.publish(topic, bytes, { qos: o?.qos ?? 0, retain: o?.retain ?? false });
    },
    descriptorFor: (inst) => {
      const cfg = config.drivers.find((d) => d.name === inst.name);
      return cfg ? descriptorForInstance(cfg, input.registry) : input.registry.get(inst.driver);
    },
    clock,
    log,
    dataDir: config.dataDir,
    signal: stopping.signal,
    publisher: devicePublisher,
    policy: { heartbeat: config.heartbeat ?? 0, onChangeOnly: config.onChangeOnly ?? false },
    offlineAfter: config.offlineAfter ?? 1,
    shadow: shadowSink,
    onPolled: (d, ms) => metrics.observePoll(d, ms / 1000),
    // Desired values stored while the device was away are written when it is back.
    onOnline: (d) => void applyDesired(d.name),
  });
  const devices = fleet.devices;

  /** Writes the device's pending delta (desired values not yet reported) when it is online. */
  const applyDesired = async (name: string): Promise<void> => {
    const d = fleet.devices.get(name);
    if (d === undefined || d.isOnline !== true) return;
    const delta = store.delta(name) as Record<string, unknown>;
    if (Object.keys(delta).length === 0) return;
    const errors = await d.write(delta);
    if (errors.length > 0) log.warn({ device: name, errors }, 'desired values not written; they stay desired');
    // The read-back report answers the cloud: write its batch now rather than in up to 50 ms.
    store.flush();
  };

  if (config.cloud !== undefined) {
    const c = config.cloud;
    sync = new CloudSync({
      link: {
        url: c.url,
        clientId: c.clientId ?? `fieldgate-${node}-cloud`,
        ...(c.username !== undefined ? { username: c.username } : {}),
        ...(c.password !== undefined ? { password: c.password } : {}),
        ...(c.ca !== undefined ? { ca: readOpt(c.ca) } : {}),
        ...(c.cert !== undefined ? { cert: readOpt(c.cert) } : {}),
        ...(c.key !== undefined ? { key: readOpt(c.key) } : {}),
        rejectUnauthorized: c.rejectUnauthorized,
        protocolVersion: c.protocolVersion,
        keepalive: Math.round(c.keepalive / 1000),
      },
      node,
      store,
      log: log.child({ component: 'cloud' }),
      clock,
      drainRatePerSec: c.drainRate,
      maxInFlight: c.maxInFlight,
      limits: { maxBytes: c.outbox.maxBytes, maxAgeMs: c.outbox.maxAge, maxRows: c.outbox.maxRows },
      describe: (name) => {
        const d = fleet.devices.get(name);
        return d ? { deviceProduct: d.device.product, accessTemplate: d.device.accessTemplate } : undefined;
      },
    });
    // Validate only: the store keeps what is accepted, then onDesiredApplied writes it.
    sync.onDesired(async (name, patch) => {
      const d = fleet.devices.get(name);
      const keys = Object.keys(patch);
      if (d === undefined) return { accepted: [], rejected: keys.map((property) => ({ property, reason: `UnknownDevice: no device ${name} on node ${node}` })) };
      const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
      const { errors } = d.validate(values);
      const bad = new Set(errors.map((e) => e.property));
      return { accepted: keys.filter((k) => !bad.has(k)), rejected: errors.map((e) => ({ property: e.property, reason: `${e.code}: ${e.message}` })) };
    });
    sync.onDesiredApplied((name) => void applyDesired(name));
    sync.start();
  }

  // Downlink.
  const commands = new CommandRouter(
    devices,
    {
      rejected: (dev, reqId, errors) => {
        const first = errors[0];
        return publisher.error(
          dev.device,
          {
            ...(reqId !== undefined ? { reqId } : {}),
            code: first?.code ?? 'BadValue',
            message: errorText(errors),
            ...(first?.property ? { property: first.property } : {}),
          },
          clock.now(),
        );
      },
      shadowRequested: (dev) => {
        const a = store.shadowAnswer(dev.name);
        return publisher.shadowResponse(dev.device, { report: a.report as Record<string, unknown>, desire: a.desire as Record<string, unknown> });
      },
    },
    log.child({ component: 'commands' }),
  );
  link.onMessage((topic, payload) => void commands.handle(parseDownlink(topic, payload)));
  const subscribed = new Set<string>();
  const subscribeDownlink = (list: Iterable<CompiledDevice>) => {
    const subs = new Map<string, 0 | 1>();
    for (const d of list) {
      const t = d.topics;
      for (const q of [t.delta, t.event, t.propertyGet, t.getResponse, t.get]) {
        if (!subscribed.has(q.topic)) subs.set(q.topic, Math.max(subs.get(q.topic) ?? 0, q.qos) as 0 | 1);
      }
    }
    for (const t of subs.keys()) subscribed.add(t);
    // subscribe() resolves on SUBACK, which while the broker is down means at the next connect:
    // do not block on it. Topics of removed devices stay subscribed: their messages are ignored.
    if (subs.size > 0) void link.subscribe([...subs].map(([topic, qos]) => ({ topic, qos }))).catch((e: unknown) => log.warn({ err: String(e) }, 'subscribe failed'));
  };
  // The retained status goes out on every (re)connect; the Will replaces it when the link dies.
  link.onState((state, previous) => {
    if (state !== 'online') return;
    void publisher.gatewayStatus(true).catch(() => undefined);
    // After a reconnect (a broker restart loses what it held), say again where every device
    // stands, so that baetyl-core and the cloud converge without waiting for a change.
    if (previous === 'offline') {
      const now = clock.now();
      for (const d of fleet.devices.values()) {
        if (d.isOnline !== undefined) void publisher.lifecycle(d.device, d.isOnline, now).catch(() => undefined);
      }
    }
  });
  if (link.state === 'online') void publisher.gatewayStatus(true).catch(() => undefined);

  // Heavy driver stacks load now, before any device polls, rather than stalling the event loop
  // at a first connect while other devices run.
  const used = new Set(input.instances.map((i) => i.name));
  await Promise.all(
    config.drivers
      .filter((d) => used.has(d.name))
      .map(async (cfg) => {
        try {
          await (await descriptorForInstance(cfg, input.registry))?.prepare?.();
        } catch (e) {
          log.warn({ driver: cfg.driver, err: e instanceof Error ? e.message : String(e) }, 'driver could not prepare; its first connect will say why');
        }
      }),
  );

  // Start: links connect, timers tick (staggered per interval group).
  await fleet.start(input.instances);
  subscribeDownlink(input.instances.flatMap((i) => i.devices));
  const links = fleet.links;
  metrics.bind({ devices, links, broker: link, store });
  let reloading: Promise<unknown> = Promise.resolve();

  let stopped = false;
  const handle: Omit<Gateway, 'api'> = {
    linkOfDevice: (name) => fleet.linkOf(name),
    drivers: () => fleet.drivers(),
    async planReload() {
      const r = await loadConfig(config.dir, input.registry);
      if (!r.ok) return { ok: false, issues: r.issues };
      const fixed = restartNeeded(config, r.config);
      if (fixed.length > 0) return { ok: false, issues: fixed.map((k) => ({ file: r.config.file, path: [k], message: `${k} changed: restart the gateway to apply it (reload applies devices only)` })) };
      return { ok: true, ...fleet.plan(r.instances) };
    },
    async reload() {
      const r = await loadConfig(config.dir, input.registry);
      if (!r.ok) {
        log.warn({ issues: r.issues.length }, 'reload refused: the configuration has errors; the running one stays');
        return { ok: false, issues: r.issues };
      }
      const fixed = restartNeeded(config, r.config);
      if (fixed.length > 0) {
        const issues = fixed.map((k) => ({ file: r.config.file, path: [k], message: `${k} changed: restart the gateway to apply it (reload applies devices only)` }));
        log.warn({ keys: fixed }, 'reload refused: settings that need a restart changed');
        return { ok: false, issues };
      }
      const summary = await fleet.apply(r.instances);
      subscribeDownlink(r.instances.flatMap((i) => i.devices));
      log.info({ added: summary.added.length, removed: summary.removed.length, changed: summary.changed.length, unchanged: summary.unchanged.length }, 'configuration reloaded');
      return { ok: true, ...summary };
    },
    metrics,
    brokerUrl: url,
    embedded: embeddedClose !== undefined,
    devices,
    links,
    timers: fleet.timers,
    broker: link,
    commands,
    store,
    get cloud() {
      return sync;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of fleet.timers.values()) t.stop();
      stopping.abort();
      const now = clock.now();
      await Promise.allSettled([...devices.values()].filter((d) => d.isOnline).map((d) => publisher.lifecycle(d.device, false, now)));
      await fleet.stop();
      await api?.close();
      await sync?.stop();
      metrics.stop();
      await publisher.gatewayStatus(false).catch(() => undefined);
      await link.close();
      await embeddedClose?.();
      try {
        store.close();
      } catch (e) {
        // The last batch could not be written (disk full): what was committed before stays.
        log.error({ err: e instanceof Error ? e.message : String(e) }, 'shadow store: last batch not written at stop');
      }
      log.info('gateway stopped');
    },
  };

  // REST API, metrics and console: on 127.0.0.1 unless configured otherwise (then with a token).
  let api: ApiServer | undefined;
  // `api` is set below, after the object exists (the API serves the gateway itself).
  const gateway = Object.defineProperty(handle, 'api', { get: () => api, enumerable: true }) as Gateway;
  if (config.api.enabled) {
    let level = 'info';
    const app = createApi({
      gateway,
      metrics,
      signal: stopping.signal,
      ...(config.api.token !== undefined ? { token: config.api.token } : {}),
      drivers: () => fleet.drivers(),
      reload: () => gateway.reload(),
      planReload: () => gateway.planReload(),
      logLevel: input.logLevel ?? { get: () => level, set: (l) => void (level = l) },
      validate: async () => {
        const r = await loadConfig(config.dir, input.registry);
        return r.ok ? { ok: true, devices: r.instances.reduce((n, i) => n + i.devices.length, 0) } : { ok: false, issues: r.issues };
      },
    });
    try {
      api = await listenApi(app, config.api.host, config.api.port);
      log.info({ url: api.url, auth: config.api.token !== undefined }, 'REST API listening');
    } catch (e) {
      log.error({ err: String(e), host: config.api.host, port: config.api.port }, 'REST API not started (port in use?); the gateway runs without it');
    }
  }
  if (config.reload.watch) {
    const w = watchConfig(config.dir, config.reload.debounce, (files) => {
      log.info({ files }, 'configuration files changed; reloading');
      // One reload at a time, in order.
      reloading = reloading.then(() => gateway.reload()).catch((e: unknown) => log.error({ err: String(e) }, 'reload failed'));
    });
    stopping.signal.addEventListener('abort', () => w.close(), { once: true });
  }
  log.info({ devices: devices.size, links: links.size, broker: url }, 'gateway started');
  return gateway;
}

export type { CompiledDevice };
