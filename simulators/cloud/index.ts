/**
 * A small cloud for demos and tests: its own MQTT broker (aedes) that gateways connect to as their
 * cloud hub, the shadows they report (in memory, optionally saved to a JSON file), desired values
 * set through the API or HTTP, and counters of duplicates and gaps. `stop()` then `start()` takes
 * the cloud down and brings it back on the same ports, keeping its state.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { serve, type ServerType } from '@hono/node-server';
import type { AttributeValue } from '../../src/devicemodel/types.ts';
import { TOPIC_ROOT, deviceTopic, getMessage, makeMeta, serialize } from '../../src/shadow/sync/protocol.ts';
import { startCloudBroker, type CloudBroker } from './broker.ts';
import { cloudApp } from './http.ts';
import { CloudShadows, type CloudDevice, type CloudStats } from './shadows.ts';

/** Options of {@link startCloudSimulator}. */
export interface CloudSimulatorOptions {
  /** MQTT port; 0 = any free port (kept across stop/start). */
  readonly port: number;
  /** HTTP port for the API; absent = no HTTP server; 0 = any free port. */
  readonly httpPort?: number;
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** JSON file to load at start and save at stop. */
  readonly file?: string;
  /** Keep every report per device (`CloudDevice.history`), for tests of order. */
  readonly keepHistory?: boolean;
}

/** A running (or stopped) cloud simulator. */
export interface CloudSimulator {
  /** `mqtt://host:port` for the gateway's `cloud.url`. */
  readonly url: string;
  readonly port: number;
  /** `http://host:port` of the API, when it has one. */
  readonly httpUrl: string | undefined;
  readonly running: boolean;
  readonly shadows: CloudShadows;
  /** Sets desired values (merged into what is pending) and sends them to the node. */
  setDesired(node: string, device: string, props: Record<string, AttributeValue>): void;
  /** Sends a raw desired document with an explicit version; returns its clientToken. */
  sendDesired(node: string, device: string, props: Record<string, AttributeValue>, version?: number): string;
  /** Asks the node for the device's full shadow; returns the request's reqId. */
  requestShadow(node: string, device: string): string;
  device(node: string, device: string): CloudDevice | undefined;
  stats(): CloudStats;
  /** Resolves once `pred()` holds (checked every 20 ms), rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Cloud down: closes the broker and HTTP server (clients are cut off), keeps the state. */
  stop(): Promise<void>;
  /** Cloud back on the same ports. */
  start(): Promise<void>;
  /** Stops for good (saves the file). */
  close(): Promise<void>;
}

/** Starts the cloud simulator. */
export async function startCloudSimulator(opts: CloudSimulatorOptions): Promise<CloudSimulator> {
  const host = opts.host ?? '127.0.0.1';
  let broker: CloudBroker | undefined;
  let http: ServerType | undefined;
  let mqttPort = opts.port;
  let httpPort = opts.httpPort;
  const shadows = new CloudShadows(
    (topic, payload) => {
      // Fire and forget: QoS 1 towards a connected gateway; lost if none (re-sent on its status).
      broker?.publish(topic, payload, { qos: 1 }).catch(() => {});
    },
    { keepHistory: opts.keepHistory ?? false },
  );
  if (opts.file !== undefined) {
    try {
      shadows.restore(JSON.parse(readFileSync(opts.file, 'utf8')));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const save = (): void => {
    if (opts.file === undefined) return;
    const tmp = `${opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(shadows.snapshot(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2));
    renameSync(tmp, opts.file);
  };

  const start = async (): Promise<void> => {
    if (broker !== undefined) return;
    const filters = ['status', 'shadow/+/report', 'shadow/+/lifecycle', 'shadow/+/desired/ack'].map(
      (t) => `${TOPIC_ROOT}/+/${t}`,
    );
    broker = await startCloudBroker({ host, port: mqttPort, filters, onMessage: (t, p) => shadows.receive(t, p) });
    mqttPort = broker.port;
    if (httpPort !== undefined) {
      const app = cloudApp(shadows);
      const wanted = httpPort;
      const server = await new Promise<ServerType>((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port: wanted, hostname: host }, () => resolve(s));
        s.once('error', reject);
      });
      const addr = server.address();
      httpPort = typeof addr === 'object' && addr !== null ? addr.port : wanted;
      http = server;
    }
  };
  const stop = async (): Promise<void> => {
    const b = broker;
    const h = http;
    broker = undefined;
    http = undefined;
    await b?.close();
    if (h !== undefined) {
      await new Promise<void>((resolve) => {
        h.close(() => resolve());
        (h as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
  };

  await start();
  return {
    get url() {
      return `mqtt://${host}:${mqttPort}`;
    },
    get port() {
      return mqttPort;
    },
    get httpUrl() {
      return httpPort === undefined ? undefined : `http://${host}:${httpPort}`;
    },
    get running() {
      return broker !== undefined;
    },
    shadows,
    setDesired: (node, device, props) => shadows.setDesired(node, device, props),
    sendDesired: (node, device, props, version) => shadows.sendDesired(node, device, props, version),
    requestShadow(node, device) {
      const reqId = randomUUID();
      broker?.publish(deviceTopic(node, device, 'get'), serialize(getMessage(makeMeta(node, device), reqId)), { qos: 1 }).catch(() => {});
      return reqId;
    },
    device: (node, device) => shadows.get(node, device),
    stats: () => shadows.stats(),
    async waitFor(pred, timeoutMs = 10_000, what = 'condition') {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`cloud simulator: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop,
    start,
    async close() {
      await stop();
      save();
    },
  };
}
