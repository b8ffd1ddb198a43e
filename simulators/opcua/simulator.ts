/**
 * The OPC UA device simulator: a node-opcua-server that serves compiled devices (the gateway's
 * own model + template) as variables at the node ids their templates name, with the DataType of
 * each point's type. Values come from the common generators (device.ts); writable variables keep
 * what clients write. Security modes, policies and users are configurable to match the driver's
 * tests; `stop`/`start`/`restart` keep the port, the certificate and the values, so recovery can
 * be tested. The server counts requests by type (`requests('ReadRequest')`).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import serverPkg from 'node-opcua-server';
import clientPkg from 'node-opcua-client';
import certificatePkg from 'node-opcua-certificate-manager';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import type { PointType, PointValue } from '../../src/devicemodel/types.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import { OpcuaSimDevice, toPointValue } from './device.ts';
import type { SimVariable } from './device.ts';

const { OPCUAServer } = serverPkg;
const { Variant, DataType, VariantArrayType, StatusCodes, MessageSecurityMode, SecurityPolicy } = clientPkg;
const { OPCUACertificateManager } = certificatePkg;

type Server = InstanceType<typeof OPCUAServer>;
type VariantT = InstanceType<typeof Variant>;

/** Security modes and policies the simulator can offer. */
export type SimSecurityMode = 'None' | 'Sign' | 'SignAndEncrypt';
export type SimSecurityPolicy = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

/** Options of {@link startOpcuaSimulator}. */
export interface OpcuaSimulatorOptions {
  /** OPC UA devices to serve (driver `opcua`). */
  readonly devices: readonly CompiledDevice[];
  /** TCP port; 0 (default) = a free port, kept across restarts. */
  readonly port?: number;
  /** Bind and advertise address (default 127.0.0.1). */
  readonly host?: string;
  /** Modes offered (default all three); None is offered only with policy None. */
  readonly securityModes?: readonly SimSecurityMode[];
  /** Policies offered besides None (default Basic256Sha256 and Aes128_Sha256_RsaOaep). */
  readonly securityPolicies?: readonly SimSecurityPolicy[];
  /** Username → password; when given, anonymous access is off unless `allowAnonymous`. */
  readonly users?: Readonly<Record<string, string>>;
  readonly allowAnonymous?: boolean;
  /** Server operation limits (Part 5 OperationLimits); 0 = no limit. */
  readonly maxNodesPerRead?: number;
  readonly maxNodesPerWrite?: number;
  /**
   * Connections (secure channels) and sessions the server accepts; node-opcua's default is 10
   * connections per endpoint, too few for the benchmark's 100 sessions (default 100).
   */
  readonly maxConnections?: number;
  /** URIs of namespaces 2, 3, … (ns=1 is the server's own); missing ones get `urn:fieldgate:simulator:ns<n>`. */
  readonly namespaceUris?: readonly string[];
  /** PKI folder (server certificate, trusted clients); a temp dir when absent. */
  readonly pkiDir?: string;
  /** Accept any client application / user certificate (default true). */
  readonly trustAllClients?: boolean;
  readonly seed?: number;
  /** Generator period in ms (default 1000); 0 = no automatic ticks (call `tick`). */
  readonly tickMs?: number;
  /** Generators by device name, then by attribute name (or point name/id). */
  readonly generators?: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  readonly baseDir?: string;
}

const DATA_TYPES: Readonly<Record<PointType, number>> = {
  bool: DataType.Boolean,
  int16: DataType.Int16,
  uint16: DataType.UInt16,
  int32: DataType.Int32,
  uint32: DataType.UInt32,
  int64: DataType.Int64,
  uint64: DataType.UInt64,
  float32: DataType.Float,
  float64: DataType.Double,
  string: DataType.String,
};

/** The variant of a simulated value (64-bit integers as node-opcua's [high, low] words). */
function variantOf(type: PointType, value: PointValue): VariantT {
  let v: unknown = value;
  if (type === 'int64' || type === 'uint64') {
    const u = BigInt.asUintN(64, BigInt(value as bigint));
    v = [Number(u >> 32n), Number(u & 0xffffffffn)];
  }
  return new Variant({ dataType: DATA_TYPES[type], arrayType: VariantArrayType.Scalar, value: v });
}

/** The point value a client wrote, or undefined when the variant does not fit the type. */
function valueOfVariant(type: PointType, variant: VariantT): PointValue | undefined {
  if (variant.dataType !== DATA_TYPES[type]) return undefined;
  const raw: unknown = variant.value;
  if (type === 'int64' || type === 'uint64') {
    if (!Array.isArray(raw)) return undefined;
    const u = (BigInt(raw[0] >>> 0) << 32n) | BigInt(raw[1] >>> 0);
    return type === 'int64' ? BigInt.asIntN(64, u) : u;
  }
  return toPointValue(type, raw as PointValue);
}

/** A running simulator; see {@link startOpcuaSimulator}. */
export class OpcuaSimulator {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  private readonly byName = new Map<string, OpcuaSimDevice>();
  private readonly counts = new Map<string, number>();
  private boundPort: number;
  readonly pkiDir: string;

  /** @internal use {@link startOpcuaSimulator}. */
  constructor(private readonly opts: OpcuaSimulatorOptions) {
    this.boundPort = opts.port ?? 0;
    this.pkiDir = opts.pkiDir ?? mkdtempSync(path.join(os.tmpdir(), 'fieldgate-opcua-sim-'));
    for (const d of opts.devices) {
      if (this.byName.has(d.name)) throw new Error(`device ${d.name} is given twice`);
      this.byName.set(
        d.name,
        new OpcuaSimDevice(d, {
          seed: opts.seed ?? 1,
          ...(opts.generators?.[d.name] !== undefined ? { generators: opts.generators[d.name] } : {}),
          ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
        }),
      );
    }
  }

  /** The TCP port served (known once started; kept across restarts). */
  get port(): number {
    return this.boundPort;
  }

  /** `opc.tcp://host:port` of the running server. */
  get endpoint(): string {
    return `opc.tcp://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** True while the server accepts connections. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** The simulated device `name`; throws when there is none. */
  device(name: string): OpcuaSimDevice {
    const d = this.byName.get(name);
    if (d === undefined) throw new Error(`no simulated device "${name}" (have: ${[...this.byName.keys()].join(', ')})`);
    return d;
  }

  /** Requests of a type received since start or the last `resetCounts` (e.g. `ReadRequest`). */
  requests(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  /** Moves every device to its generators' values at `tMs` (default: ms since start). */
  tick(tMs = Date.now() - this.t0): void {
    for (const d of this.byName.values()) d.tick(tMs);
  }

  /** Builds the address space and listens. Rejects when the port cannot be bound. */
  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const o = this.opts;
    const host = o.host ?? '127.0.0.1';
    const trustAll = o.trustAllClients ?? true;
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: path.join(this.pkiDir, 'server'), automaticallyAcceptUnknownCertificate: trustAll });
    const userCertificateManager = new OPCUACertificateManager({ rootFolder: path.join(this.pkiDir, 'users'), automaticallyAcceptUnknownCertificate: trustAll });
    const modes = o.securityModes ?? ['None', 'Sign', 'SignAndEncrypt'];
    const policies = o.securityPolicies ?? ['Basic256Sha256', 'Aes128_Sha256_RsaOaep'];
    const users = o.users;
    const server = new OPCUAServer({
      port: this.boundPort,
      hostname: host,
      alternateHostname: [host],
      serverCertificateManager,
      userCertificateManager,
      securityModes: modes.map((m) => MessageSecurityMode[m]),
      securityPolicies: [...(modes.includes('None') ? ['None' as const] : []), ...policies].map((p) => SecurityPolicy[p]),
      allowAnonymous: o.allowAnonymous ?? users === undefined,
      ...(users !== undefined ? { userManager: { isValidUser: (u: string, p: string) => Object.hasOwn(users, u) && users[u] === p } } : {}),
      maxConnectionsPerEndpoint: o.maxConnections ?? 100,
      serverCapabilities: { maxSessions: o.maxConnections ?? 100, operationLimits: { maxNodesPerRead: o.maxNodesPerRead ?? 0, maxNodesPerWrite: o.maxNodesPerWrite ?? 0 } },
      buildInfo: { productName: 'fieldgate OPC UA simulator', manufacturerName: 'fieldgate' },
      disableDiscovery: true,
    });
    await server.initialize();
    this.buildAddressSpace(server);
    server.on('request', (req: object) => {
      const name = req.constructor.name;
      this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    });
    try {
      await server.start();
    } catch (e) {
      await server.shutdown(0).catch(() => undefined);
      throw e;
    }
    this.server = server;
    this.boundPort = server.endpoints[0]?.port ?? this.boundPort;
    const tickMs = o.tickMs ?? 1000;
    if (tickMs > 0 && this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
  }

  /** Shuts the server down (clients lose their channel); values and the port are kept. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) await s.shutdown(0);
  }

  /** Stops and starts again on the same port with the same certificate and values. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private buildAddressSpace(server: Server): void {
    const addressSpace = server.engine.addressSpace!;
    const own = addressSpace.getOwnNamespace();
    const all = [...this.byName.values()].flatMap((d) => d.variables.map((v) => ({ d, v })));
    const maxNs = Math.max(1, ...all.map(({ v }) => Number(/^ns=(\d+);/.exec(v.nodeId)?.[1] ?? 1)));
    for (let k = 2; k <= maxNs; k++) addressSpace.registerNamespace(this.opts.namespaceUris?.[k - 2] ?? `urn:fieldgate:simulator:ns${k}`);
    for (const { v } of all) {
      const uri = /^nsu=([^;]+);/.exec(v.nodeId)?.[1];
      if (uri !== undefined && addressSpace.getNamespaceIndex(uri) < 0) addressSpace.registerNamespace(uri);
    }
    const objects = addressSpace.rootFolder.objects;
    for (const d of this.byName.values()) {
      const folder = own.addFolder(objects, { browseName: d.name });
      for (const v of d.variables) this.addVariable(addressSpace, folder, d, v);
    }
  }

  private addVariable(addressSpace: NonNullable<Server['engine']['addressSpace']>, folder: object, d: OpcuaSimDevice, v: SimVariable): void {
    const m = /^(?:ns=(\d+)|nsu=([^;]+));(.*)$/s.exec(v.nodeId);
    if (m === null) throw new Error(`${d.name}/${v.point.name}: node id ${v.nodeId} has no namespace; the simulator serves ns >= 1 only`);
    const index = m[1] !== undefined ? Number(m[1]) : addressSpace.getNamespaceIndex(m[2]!);
    if (index < 1) throw new Error(`${d.name}/${v.point.name}: node id ${v.nodeId} is in namespace 0 (the OPC UA standard's)`);
    const ns = addressSpace.getNamespace(index);
    const type = v.point.type;
    const access = v.writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead';
    ns.addVariable({
      organizedBy: folder as never,
      browseName: v.point.name,
      nodeId: `ns=${index};${m[3]!}`,
      dataType: DataType[DATA_TYPES[type]] as string,
      accessLevel: access,
      userAccessLevel: access,
      minimumSamplingInterval: 20,
      value: {
        get: () => (v.status !== undefined ? ((StatusCodes as unknown as Record<string, never>)[v.status] ?? StatusCodes.BadInternalError) : variantOf(type, v.value)),
        set: (variant: VariantT) => {
          const value = valueOfVariant(type, variant);
          if (value === undefined) return StatusCodes.BadTypeMismatch;
          v.value = value;
          v.held = true;
          return StatusCodes.Good;
        },
      },
    });
  }
}

/**
 * Starts serving `opts.devices` (port 0 = any free port; `.endpoint` tells which). Rejects when
 * the port cannot be bound or a node id cannot be served.
 */
export async function startOpcuaSimulator(opts: OpcuaSimulatorOptions): Promise<OpcuaSimulator> {
  const sim = new OpcuaSimulator(opts);
  await sim.start();
  return sim;
}
