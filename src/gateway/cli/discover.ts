/**
 * `fieldgate discover <protocol> [...]`: browses a device and prints (or writes into a folder) the
 * Baetyl files for what it found: `models.yml`, `access_template.yml` and a `sub_devices.yml`
 * with one device on that connection, so that the folder loads as a driver instance as it is.
 *
 * Options are checked with the driver's own connection schema, so a typo is reported the way
 * `fieldgate validate` reports it (the key path and what is allowed). Only OPC UA discovers today;
 * its stack is imported only when this command runs.
 *
 * Exit codes: 0 done, 1 the device could not be reached or browsed, 2 bad options.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { DriverContext, Logger } from '../../drivers/sdk/index.ts';

/** Options of `fieldgate discover opcua` (commander's camel-cased names). */
export interface DiscoverCliOptions {
  /** `opc.tcp://host:port[/path]`. */
  readonly endpoint?: string;
  /** Security policy (None, Basic256Sha256, Aes128_Sha256_RsaOaep, …); default None. */
  readonly policy?: string;
  /** Security mode (None, Sign, SignAndEncrypt); default None, or SignAndEncrypt when a policy is given. */
  readonly mode?: string;
  readonly username?: string;
  readonly password?: string;
  /** Server certificate trust: `tofu` (default) or `list` with `trustCert` entries. */
  readonly trust?: string;
  /** Thumbprints or certificate files trusted under `trust: list`. */
  readonly trustCert?: readonly string[];
  /** Connect and request timeout, a duration such as `10s`. */
  readonly timeout?: string;
  /** Levels below the Objects folder to browse (default 4). */
  readonly depth?: number | string;
  /** Stop after this many variables (default 1000). */
  readonly limit?: number | string;
  /** Names written into the files. */
  readonly product?: string;
  readonly template?: string;
  readonly device?: string;
  /** Folder to write the three files into (created when missing); stdout when absent. */
  readonly out?: string;
  /** Overwrite files that exist in `out`. */
  readonly force?: boolean;
  /**
   * Where the gateway's OPC UA application certificate and the trust-on-first-use pins live
   * (default `data/drivers/opcua`, what a gateway with `dataDir: ./data` uses for an instance
   * named `opcua`, so that discovery and the gateway present the same certificate).
   */
  readonly dataDir?: string;
}

/** Where the command writes (the process's streams by default; tests capture them). */
export interface DiscoverIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

/** Protocols that can discover. */
export const DISCOVER_PROTOCOLS = ['opcua'] as const;

/** Logs to stderr (stdout carries the YAML). */
function stderrLogger(): Logger {
  return pino({ level: 'warn', base: undefined }, pino.destination(2)) as unknown as Logger;
}

function context(dataDir: string, log: Logger): DriverContext {
  return {
    log,
    clock: {
      now: () => Date.now(),
      monotonic: () => performance.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    metrics: { count: () => undefined },
    signal: new AbortController().signal,
    dataDir,
  };
}

function positiveInt(name: string, v: number | string | undefined, fallback: number): number | string {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n > 0 ? n : `--${name}: expected a positive integer, got ${String(v)}`;
}

/**
 * Runs `fieldgate discover <protocol>`; resolves with the exit code. Writes the YAML to stdout
 * (three documents, each headed by its file name) or, with `out`, the three files.
 */
export async function discoverCommand(protocol: string, options: DiscoverCliOptions, io: DiscoverIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  if (protocol !== 'opcua') {
    err(`discover: no discovery for "${protocol}" (available: ${DISCOVER_PROTOCOLS.join(', ')})\n`);
    return 2;
  }
  const { opcuaConnectionSchema } = await import('../../drivers/opcua/address.ts');
  const depth = positiveInt('depth', options.depth, 4);
  const limit = positiveInt('limit', options.limit, 1000);
  for (const v of [depth, limit]) {
    if (typeof v === 'string') {
      err(`discover: ${v}\n`);
      return 2;
    }
  }
  // Baetyl's accessConfig.opcua keys, only those given, so the schema's defaults apply.
  const policy = options.policy ?? 'None';
  const raw: Record<string, unknown> = {
    endpoint: options.endpoint,
    security: { policy, mode: options.mode ?? (policy === 'None' ? 'None' : 'SignAndEncrypt') },
    ...(options.username !== undefined || options.password !== undefined ? { auth: { username: options.username, password: options.password } } : {}),
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    // Certificates alone mean a trust list; commander gives an empty list when none is given.
    ...(options.trust !== undefined || (options.trustCert ?? []).length > 0 ? { trust: { policy: options.trust ?? 'list', certificates: [...(options.trustCert ?? [])] } } : {}),
  };
  if (raw.auth !== undefined) raw.auth = Object.fromEntries(Object.entries(raw.auth as object).filter(([, v]) => v !== undefined));
  const parsed = opcuaConnectionSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.length > 0 ? i.path.join('.') : '(options)'}: ${i.path[0] === 'endpoint' && options.endpoint === undefined ? 'give --endpoint opc.tcp://host:port' : i.message}`);
    err(`discover opcua: bad options\n${lines.join('\n')}\n`);
    return 2;
  }
  const connection = parsed.data;
  const product = options.product ?? 'opcua-product';
  const template = options.template ?? 'opcua-template';
  const device = options.device ?? 'opcua-device-1';
  if (options.out !== undefined && !options.force) {
    const taken = ['models.yml', 'access_template.yml', 'sub_devices.yml'].filter((f) => existsSync(path.join(options.out!, f)));
    if (taken.length > 0) {
      err(`discover: ${taken.join(', ')} already in ${options.out}; use --force to overwrite\n`);
      return 2;
    }
  }

  const { discoverOpcua } = await import('../../drivers/opcua/discover.ts');
  const dataDir = path.resolve(options.dataDir ?? path.join('data', 'drivers', 'opcua'));
  let found;
  // node-opcua prints its notices ("Creating default certificate", Node version warnings) with
  // console.log, some of them late: keep the process's stdout for the YAML for the rest of the
  // command (restored only when the caller captures the output, as tests do).
  const consoleLog = console.log;
  console.log = console.error;
  try {
    found = await discoverOpcua(connection, context(dataDir, stderrLogger()), { depth: depth as number, limit: limit as number, product, template });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    err(`discover opcua ${connection.endpoint}: ${typeof code === 'string' ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    if (io.stdout !== undefined) console.log = consoleLog;
  }

  // The connection as given, in Baetyl's keys (defaults left out).
  const access: Record<string, unknown> = { endpoint: connection.endpoint, interval: '5s', subscribe: false };
  if (connection.security.mode !== 'None') access.security = { ...connection.security };
  if (connection.auth.username !== undefined) access.auth = { ...connection.auth };
  if (raw.trust !== undefined) access.trust = { ...connection.trust };
  if (options.timeout !== undefined) access.timeout = options.timeout;
  const files: [string, unknown][] = [
    ['models.yml', found.models],
    ['access_template.yml', found.templates],
    ['sub_devices.yml', { devices: [{ name: device, version: '1', deviceModel: product, accessTemplate: template, accessConfig: { opcua: access } }], driver: '' }],
  ];
  const summary = `discover opcua ${connection.endpoint}: ${found.variables.length} variable(s) (${found.variables.filter((v) => v.writable).length} writable)`;
  if (options.out === undefined) {
    out(files.map(([name, doc]) => `# ${name}\n${stringify(doc, { lineWidth: 0 })}`).join('---\n'));
    err(`${summary}\n`);
    return 0;
  }
  mkdirSync(options.out, { recursive: true });
  for (const [name, doc] of files) writeFileSync(path.join(options.out, name), stringify(doc, { lineWidth: 0 }));
  err(`${summary}; wrote ${files.map(([n]) => n).join(', ')} into ${options.out}\n`);
  return 0;
}
