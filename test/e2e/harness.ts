/**
 * End-to-end harness: writes a configuration into a temp folder, starts Modbus simulators and the
 * gateway (embedded aedes on a free port), and a real MQTT subscriber that records every message.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import type { CompiledInstance } from '../../src/devicemodel/compiled.ts';
import type { GatewayConfig } from '../../src/gateway/config/gateway-schema.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Writes gateway.yaml and one driver instance folder (default `modbus`); returns the folder. */
export function writeConf(
  files: { gateway: string; models: string; template: string; devices: string },
  folder = 'modbus',
): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-e2e-'));
  mkdirSync(path.join(dir, folder));
  // Tests run in parallel: the REST API takes any free port unless the test sets one.
  writeFileSync(path.join(dir, 'gateway.yaml'), /^api:/m.test(files.gateway) ? files.gateway : `${files.gateway}api: {port: 0}\n`);
  writeFileSync(path.join(dir, folder, 'models.yml'), files.models);
  writeFileSync(path.join(dir, folder, 'access_template.yml'), files.template);
  writeFileSync(path.join(dir, folder, 'sub_devices.yml'), files.devices);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function load(dir: string): Promise<{ config: GatewayConfig; instances: CompiledInstance[] }> {
  const r = await loadConfig(dir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  return { config: r.config, instances: r.instances };
}

export interface Message {
  topic: string;
  json: any;
  at: number;
}

/** A subscriber that keeps every message and can wait for one that matches. */
export class Recorder {
  readonly messages: Message[] = [];
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly client: mqtt.MqttClient) {
    client.on('message', (topic, payload) => {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        json = payload.toString('utf8');
      }
      const m = { topic, json, at: Date.now() };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(m)) {
          w.resolve(m);
          return false;
        }
        return true;
      });
    });
  }

  /** `session`: a fixed client id with a persistent session (clean: false), resumed after reconnects. */
  static async connect(url: string, topics: string[], session?: { clientId: string }): Promise<Recorder> {
    const client = mqtt.connect(url, {
      clientId: session?.clientId ?? `rec-${Math.random().toString(16).slice(2)}`,
      clean: session === undefined,
      reconnectPeriod: 200,
    });
    await new Promise<void>((res, rej) => {
      client.once('connect', () => res());
      client.once('error', rej);
    });
    await client.subscribeAsync(topics.map((t) => ({ topic: t, qos: 1 as const })).reduce((o, t) => ({ ...o, [t.topic]: { qos: t.qos } }), {}));
    return new Recorder(client);
  }

  /** Resolves with the first message (already received after `since`, or coming) that matches. */
  waitFor(pred: (m: Message) => boolean, timeoutMs: number, what: string, since = 0): Promise<Message> {
    const seen = this.messages.find((m) => m.at >= since && pred(m));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.messages.length} messages, last: ${JSON.stringify(this.messages.slice(-3))}`));
      }, timeoutMs);
      const done = (m: Message) => {
        clearTimeout(t);
        resolve(m);
      };
      this.waiters.push({ pred: (m) => m.at >= since && pred(m), resolve: done });
    });
  }

  publish(topic: string, payload: unknown): Promise<unknown> {
    return this.client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export async function startTestGateway(dir: string): Promise<{ gateway: Gateway; lines: Line[] }> {
  const { config, instances } = await load(dir);
  const lines: Line[] = [];
  const gateway = await startGateway({ config, instances, registry: createRegistry(), log: memoryLogger(lines) });
  return { gateway, lines };
}

/** A Baetyl delta envelope as baetyl-core sends it. */
export function delta(device: string, properties: Record<string, unknown>, reqId = 'req-1'): unknown {
  return {
    kind: 'deviceDelta',
    meta: { device },
    content: { blink: { reqId, method: 'thing.property.invoke', version: '1.0', timestamp: Date.now(), properties } },
  };
}

/** Polls `check` until it returns true or the time is up. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
