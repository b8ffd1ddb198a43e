/**
 * `gateway.yaml`: the gateway's own settings (Baetyl has no such file for fieldgate; the keys are
 * ours). Paths are relative to the file's folder; durations are Go-style strings (`30s`).
 */
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../../devicemodel/duration.ts';

/** A Go-style duration (`30s`, `500ms`) or a number of ms; produces ms. */
const duration = () =>
  z
    .union([z.number().nonnegative(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration; write e.g. 500ms, 30s, 1m` });
        return z.NEVER;
      }
      return ms;
    })
    .describe('a duration such as 30s or 500ms');

const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const brokerSchema = z.strictObject({
  /** `mqtt://host:1883`, `mqtts://host:8883`; Baetyl's `tcp://` and `ssl://` are accepted too. */
  url: z
    .string()
    .regex(/^(mqtt|mqtts|tcp|ssl):\/\/[^\s/]+/, { error: 'expected a broker URL such as mqtt://127.0.0.1:1883 or mqtts://host:8883 (tcp:// and ssl:// also accepted)' })
    .describe('a broker URL (mqtt://, mqtts://, tcp://, ssl://)'),
  clientId: z.string().min(1).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** PEM files, relative to gateway.yaml. */
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().default(true),
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  /** MQTT keepalive (ms after parsing). */
  keepalive: duration().default(60_000),
});

const embeddedBrokerSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(1883),
});

const cloudSchema = brokerSchema.extend({
  /** Outbox rows sent per second at most while draining a backlog. */
  drainRate: z.number().int().min(1).default(5000),
  /** QoS 1 messages awaiting PUBACK at most. */
  maxInFlight: z.number().int().min(1).max(65535).default(100),
  /** Bounds of the store-and-forward outbox; beyond them the oldest telemetry is dropped (never the latest shadow state). */
  outbox: z
    .strictObject({
      maxBytes: z.number().int().positive().default(512 * 1024 * 1024),
      maxAge: duration().default(7 * 24 * 3_600_000),
      maxRows: z.number().int().positive().default(2_000_000),
    })
    .default({ maxBytes: 512 * 1024 * 1024, maxAge: 7 * 24 * 3_600_000, maxRows: 2_000_000 }),
});

const apiSchema = z.strictObject({
  /** Serve the REST API, metrics and the web console. */
  enabled: z.boolean().default(true),
  /** Listen address; anything but loopback needs a token. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(8088),
  /** Bearer token; FIELDGATE_API_TOKEN in the environment also sets it. No default. */
  token: z.string().min(16, { error: 'a token of at least 16 characters' }).optional(),
});

export const driverInstanceSchema = z.strictObject({
  /** Instance name: unique, used in logs and as the default folder. */
  name: z.string().regex(INSTANCE_NAME, { error: 'an instance name: letters, digits, "_", "." and "-", starting with a letter or digit' }),
  /** Driver id (e.g. modbus). */
  driver: z.string().min(1),
  /** Folder of models.yml, access_template.yml, sub_devices.yml (default ./<name>). */
  path: z.string().min(1).optional(),
  /** Start the built-in simulator for this instance's devices (demo and tests). */
  simulate: z.boolean().default(false),
  /**
   * The folder is a Baetyl process-mode driver (program.yml + its executable): fieldgate hosts it
   * over the go-plugin gRPC protocol; `driver` is then the key its files use (`custom`, …).
   */
  baetyl: z
    .strictObject({
      entry: z.string().min(1).optional(),
      driverName: z.string().min(1).optional(),
      startTimeout: duration().optional(),
    })
    .optional(),
});

/**
 * One `plugins:` entry: a driver plugin by npm package name or by path (file or package folder,
 * relative to gateway.yaml), run `isolated` in a worker thread (the default) or `inProcess`.
 */
export const pluginEntrySchema = z.strictObject({
  package: z.string().min(1).optional().describe('an npm package name, installed next to gateway.yaml or above'),
  path: z.string().min(1).optional().describe('a module file or a package folder, relative to gateway.yaml'),
  /** Named export holding the descriptor (default: the default export, then `descriptor`). */
  export: z.string().min(1).optional(),
  /** The driver id the plugin must declare. */
  id: z.string().min(1).optional(),
  mode: z.enum(['isolated', 'inProcess']).default('isolated'),
  /** isolated only: the worker's heap limit in MB (exceeding it restarts the worker). */
  maxMemoryMb: z.number().int().min(16).max(65_536).optional(),
  /** isolated only: a worker that does not answer a ping this long is restarted. */
  hangTimeout: duration().optional(),
  /** isolated only: calls in a row left unanswered past their timeout before the worker is restarted. */
  maxHungCalls: z.number().int().min(1).max(100).optional(),
});

/** The raw file schema (before paths are made absolute). */
export const gatewayFileSchema = z
  .strictObject({
    node: z.string().min(1).default('fieldgate'),
    dataDir: z.string().min(1).default('./data'),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .default({ level: 'info' }),
    broker: brokerSchema.optional(),
    embeddedBroker: embeddedBrokerSchema.optional(),
    /** Largest MQTT payload in bytes (baetyl-broker's default limit is 32 KB); bigger reports are split. */
    maxPayload: z.number().int().min(1024).max(268_435_455).default(32_768),
    /** Re-report every attribute at least this often, even unchanged (ms after parsing). */
    heartbeat: duration().optional(),
    /** Report only attributes whose value changed (deviation/deadband/silentWin still apply). */
    onChangeOnly: z.boolean().optional(),
    /** Consecutive failed polls before a device is reported offline. */
    offlineAfter: z.number().int().min(1).max(100).optional(),
    drivers: z.array(driverInstanceSchema).default([]),
    api: apiSchema.optional(),
    /** The SQLite file in dataDir: an optional size cap (bytes) for small disks; past it the gateway keeps serving live data and says it is not persisting. */
    storage: z.strictObject({ maxBytes: z.number().int().min(65_536).optional() }).optional(),
    /** Reload the configuration when its YAML files change (besides SIGHUP and the API). */
    reload: z
      .strictObject({ watch: z.boolean().default(false), debounce: duration().default(1000) })
      .optional(),
    /** The cloud hub: shadows and lifecycle go up through the durable outbox; desired values come down. */
    cloud: cloudSchema.optional(),
    /** Driver plugins (absent = none); see docs/plugins.md. */
    plugins: z.array(pluginEntrySchema).optional(),
  });

/**
 * Checks across keys, run on the raw data so that they are reported even when other keys are
 * invalid (zod skips refinements of an object whose fields failed).
 */
export function crossCheckGateway(data: unknown): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  if (data === null || typeof data !== 'object') return out;
  const v = data as Record<string, unknown>;
  if (v.broker != null && v.embeddedBroker != null) {
    out.push({ path: ['embeddedBroker'], message: 'give either broker (an external one) or embeddedBroker, not both' });
  }
  const api = v.api as Record<string, unknown> | null | undefined;
  if (api != null && typeof api === 'object' && typeof api.host === 'string' && !isLoopback(api.host) && api.token === undefined && process.env.FIELDGATE_API_TOKEN === undefined) {
    out.push({ path: ['api', 'host'], message: `the API on ${api.host} (not loopback) needs a token: set api.token or FIELDGATE_API_TOKEN, or listen on 127.0.0.1` });
  }
  if (Array.isArray(v.drivers)) {
    const seen = new Map<string, number>();
    v.drivers.forEach((d: unknown, i) => {
      const name = d !== null && typeof d === 'object' ? (d as Record<string, unknown>).name : undefined;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first !== undefined) out.push({ path: ['drivers', i, 'name'], message: `duplicate instance name ${JSON.stringify(name)} (also drivers[${first}])` });
      else seen.set(name, i);
    });
  }
  if (Array.isArray(v.plugins)) {
    v.plugins.forEach((p: unknown, i) => {
      if (p === null || typeof p !== 'object') return;
      const e = p as Record<string, unknown>;
      if (e.package !== undefined && e.path !== undefined) out.push({ path: ['plugins', i, 'path'], message: 'give either package (an npm package name) or path (a file or folder), not both' });
      else if (e.package === undefined && e.path === undefined) out.push({ path: ['plugins', i], message: 'a plugin needs package: <npm package name> or path: <file or folder relative to gateway.yaml>' });
      if (e.mode === 'inProcess') {
        for (const k of ['maxMemoryMb', 'hangTimeout', 'maxHungCalls']) {
          if (e[k] !== undefined) out.push({ path: ['plugins', i, k], message: `${k} applies to mode: isolated only (this plugin runs inProcess)` });
        }
      }
    });
  }
  return out;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Cloud hub settings; file paths are absolute. */
export type CloudConfig = z.output<typeof cloudSchema>;

/** REST API / console settings. */
export interface ApiConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  readonly token?: string;
}

/** One plugin entry, resolved: `path` absolute. */
export interface PluginConfig {
  /** Index in the `plugins:` list (for messages). */
  readonly index: number;
  readonly package?: string;
  readonly path?: string;
  readonly export?: string;
  readonly id?: string;
  readonly mode: 'isolated' | 'inProcess';
  readonly isolation: { readonly maxMemoryMb?: number; readonly hangTimeout?: number; readonly maxHungCalls?: number };
}

/** Resolves one raw plugin entry against the folder of gateway.yaml. */
export function resolvePluginEntry(p: z.output<typeof pluginEntrySchema>, index: number, dir: string): PluginConfig {
  return {
    index,
    ...(p.package !== undefined ? { package: p.package } : {}),
    ...(p.path !== undefined ? { path: path.resolve(dir, p.path) } : {}),
    ...(p.export !== undefined ? { export: p.export } : {}),
    ...(p.id !== undefined ? { id: p.id } : {}),
    mode: p.mode,
    isolation: {
      ...(p.maxMemoryMb !== undefined ? { maxMemoryMb: p.maxMemoryMb } : {}),
      ...(p.hangTimeout !== undefined ? { hangTimeout: p.hangTimeout } : {}),
      ...(p.maxHungCalls !== undefined ? { maxHungCalls: p.maxHungCalls } : {}),
    },
  };
}

/** External broker settings; file paths are absolute. */
export type BrokerConfig = z.output<typeof brokerSchema>;

/** One driver instance; `path` is the absolute folder of its three files. */
export interface DriverInstanceConfig {
  readonly name: string;
  readonly driver: string;
  readonly path: string;
  readonly simulate: boolean;
  /** Set when the folder is a Baetyl process-mode driver to host (see docs/baetyl-drivers.md). */
  readonly baetyl?: { readonly entry?: string; readonly driverName?: string; readonly startTimeout?: number };
}

/** gateway.yaml, parsed, with defaults applied and paths absolute. */
export interface GatewayConfig {
  /** Absolute path of gateway.yaml and of its folder. */
  readonly file: string;
  readonly dir: string;
  /** Node name (`meta.node` of messages). Default `fieldgate`. */
  readonly node: string;
  /** Absolute data directory (SQLite, driver caches). Default `<dir>/data`. */
  readonly dataDir: string;
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  /** External broker; absent = the gateway embeds one (see `embeddedBroker`). */
  readonly broker?: BrokerConfig;
  /** Where the embedded broker listens (default 127.0.0.1:1883); used only when `broker` is absent. */
  readonly embeddedBroker: { readonly host: string; readonly port: number };
  /** Bytes. Default 32768. */
  readonly maxPayload: number;
  /** ms; absent = no heartbeat. */
  readonly heartbeat?: number;
  readonly onChangeOnly?: boolean;
  readonly offlineAfter?: number;
  readonly drivers: readonly DriverInstanceConfig[];
  /** REST API, metrics and console (default: on, 127.0.0.1:8088, no token). */
  readonly api: ApiConfig;
  /** Cap on the SQLite file (bytes); undefined = the disk is the limit. */
  readonly storage: { readonly maxBytes?: number };
  /** Reload on file change (default: off; SIGHUP and the API always work). */
  readonly reload: { readonly watch: boolean; readonly debounce: number };
  /** The cloud hub; absent = no cloud sync (shadows are still kept). */
  readonly cloud?: CloudConfig;
  /** Driver plugins, in file order (empty when none). */
  readonly plugins: readonly PluginConfig[];
}

/** Resolves the relative paths of a parsed gateway.yaml against its folder. */
export function resolveGatewayConfig(raw: z.output<typeof gatewayFileSchema>, file: string): GatewayConfig {
  const dir = path.dirname(file);
  const abs = (p: string): string => path.resolve(dir, p);
  const b = raw.broker;
  return {
    file,
    dir,
    node: raw.node,
    dataDir: abs(raw.dataDir),
    log: raw.log,
    ...(b !== undefined
      ? {
          broker: {
            ...b,
            ...(b.ca !== undefined ? { ca: abs(b.ca) } : {}),
            ...(b.cert !== undefined ? { cert: abs(b.cert) } : {}),
            ...(b.key !== undefined ? { key: abs(b.key) } : {}),
          },
        }
      : {}),
    embeddedBroker: { host: raw.embeddedBroker?.host ?? '127.0.0.1', port: raw.embeddedBroker?.port ?? 1883 },
    maxPayload: raw.maxPayload,
    ...(raw.heartbeat !== undefined ? { heartbeat: raw.heartbeat } : {}),
    ...(raw.onChangeOnly !== undefined ? { onChangeOnly: raw.onChangeOnly } : {}),
    ...(raw.offlineAfter !== undefined ? { offlineAfter: raw.offlineAfter } : {}),
    ...(raw.cloud !== undefined
      ? {
          cloud: {
            ...raw.cloud,
            ...(raw.cloud.ca !== undefined ? { ca: abs(raw.cloud.ca) } : {}),
            ...(raw.cloud.cert !== undefined ? { cert: abs(raw.cloud.cert) } : {}),
            ...(raw.cloud.key !== undefined ? { key: abs(raw.cloud.key) } : {}),
          },
        }
      : {}),
    reload: { watch: raw.reload?.watch ?? false, debounce: raw.reload?.debounce ?? 1000 },
    storage: raw.storage?.maxBytes !== undefined ? { maxBytes: raw.storage.maxBytes } : {},
    api: {
      enabled: raw.api?.enabled ?? true,
      host: raw.api?.host ?? '127.0.0.1',
      port: raw.api?.port ?? 8088,
      ...(raw.api?.token !== undefined ? { token: raw.api.token } : process.env.FIELDGATE_API_TOKEN ? { token: process.env.FIELDGATE_API_TOKEN } : {}),
    },
    drivers: raw.drivers.map((d) => ({ name: d.name, driver: d.driver, path: abs(d.path ?? `./${d.name}`), simulate: d.simulate, ...(d.baetyl ? { baetyl: d.baetyl } : {}) })),
    plugins: (raw.plugins ?? []).map((p, i) => resolvePluginEntry(p, i, dir)),
  };
}
