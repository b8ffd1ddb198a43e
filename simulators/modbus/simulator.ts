/**
 * The Modbus device simulator: serves compiled devices (the gateway's own model + template) on
 * the endpoints their connections name. Devices whose `accessConfig.modbus.tcp` gives the same
 * address:port share one server and are told apart by unit id (`tcp.framing: rtu` serves RTU
 * frames over TCP); `rtu` devices share one serial server per port path.
 */
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import { ModbusSimDevice } from './device.ts';
import type { Endpoint, EndpointInfo } from './endpoints/endpoint.ts';
import { TcpEndpoint } from './endpoints/tcp.ts';
import { RtuOverTcpEndpoint } from './endpoints/rtu-over-tcp.ts';
import { SerialEndpoint } from './endpoints/serial.ts';
import type { ModbusFaultsInput } from './faults.ts';
import { createVector } from './vector.ts';

/** Options of {@link startModbusSimulator}. */
export interface ModbusSimulatorOptions {
  /** Modbus devices to serve (driver `modbus`; others are rejected). */
  readonly devices: readonly CompiledDevice[];
  /** Bind address for every TCP endpoint instead of each connection's `tcp.address`. */
  readonly host?: string;
  /** Seed of every random generator and of the drop fault (default 1). */
  readonly seed?: number;
  /** Generator period in ms (default 1000); 0 = no automatic ticks (call `tick`). */
  readonly tickMs?: number;
  /** Generators by device name, then by attribute name (or point name/id for unmapped points). */
  readonly generators?: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  /** Initial faults by device name. */
  readonly faults?: Readonly<Record<string, ModbusFaultsInput>>;
  /** Serial paths to open instead of the configured `rtu.port` (e.g. the `.sim` end of a pty pair). */
  readonly serialPaths?: Readonly<Record<string, string>>;
  /** Folder that relative replay files are resolved against. */
  readonly baseDir?: string;
}

interface TcpConn {
  readonly address: string;
  readonly port: number;
  readonly framing?: 'mbap' | 'rtu';
}
interface RtuConn {
  readonly port: string;
  readonly baudrate?: number;
  readonly parity?: 'E' | 'N' | 'O';
  readonly databit?: 5 | 6 | 7 | 8;
  readonly stopbit?: 1 | 2;
}
interface Group {
  readonly key: string;
  readonly make: (devices: Map<number, ModbusSimDevice>) => Endpoint;
  readonly devices: Map<number, ModbusSimDevice>;
}

/** A running simulator; see {@link startModbusSimulator}. */
export class ModbusSimulator {
  private readonly endpointList: Endpoint[] = [];
  private readonly byName = new Map<string, ModbusSimDevice>();
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  private running = false;

  /** @internal use {@link startModbusSimulator}. */
  constructor(
    groups: readonly Group[],
    private readonly tickMs: number,
  ) {
    for (const g of groups) {
      const ep = g.make(g.devices);
      this.endpointList.push(ep);
      for (const d of g.devices.values()) {
        this.byName.set(d.name, d);
        d.disconnectFn = (refuseMs) => ep.disconnect(refuseMs);
      }
    }
  }

  /** What is served where (real ports once started). */
  get endpoints(): EndpointInfo[] {
    return this.endpointList.map((e) => e.info());
  }

  /** The simulated device `name`; throws when there is none. */
  device(name: string): ModbusSimDevice {
    const d = this.byName.get(name);
    if (d === undefined) throw new Error(`no simulated device "${name}" (have: ${[...this.byName.keys()].join(', ')})`);
    return d;
  }

  /** All simulated devices. */
  devices(): ModbusSimDevice[] {
    return [...this.byName.values()];
  }

  /** Moves every device to its generators' values at `tMs` (default: ms since start). */
  tick(tMs = Date.now() - this.t0): void {
    for (const d of this.byName.values()) d.tick(tMs);
  }

  /** Opens every endpoint and starts ticking. */
  async start(): Promise<void> {
    try {
      for (const e of this.endpointList) await e.start();
    } catch (err) {
      await Promise.all(this.endpointList.map((e) => e.stop()));
      throw err;
    }
    this.running = true;
    if (this.tickMs > 0 && this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // The servers keep the process alive while they run; the ticker alone should not.
      this.timer.unref();
    }
  }

  private halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.running = false;
  }

  /** Closes every endpoint and client connection. Idempotent. */
  async stop(): Promise<void> {
    this.halt();
    await Promise.all(this.endpointList.map((e) => e.stop()));
  }

  /** Stops abruptly: TCP clients get a reset, delayed replies are discarded. */
  async kill(): Promise<void> {
    this.halt();
    await Promise.all(this.endpointList.map((e) => e.kill()));
  }

  /** Stops (if running) and starts again on the same ports; registers and held values are kept. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start();
  }
}

function groupsOf(opts: ModbusSimulatorOptions, seed: number): Group[] {
  const groups = new Map<string, Group>();
  for (const dev of opts.devices) {
    if (dev.driver !== 'modbus') throw new Error(`${dev.name}: driver ${dev.driver} is not modbus`);
    const conn = dev.connection as { tcp?: TcpConn; rtu?: RtuConn; id?: number };
    let key: string;
    let make: Group['make'];
    if (conn.tcp !== undefined) {
      const host = opts.host ?? conn.tcp.address;
      const framing = conn.tcp.framing ?? 'mbap';
      const port = conn.tcp.port;
      key = `tcp:${host}:${port}`;
      make = (devices) =>
        framing === 'rtu'
          ? new RtuOverTcpEndpoint({ host, port, vector: createVector(devices), devices })
          : new TcpEndpoint({ host, port, vector: createVector(devices), devices });
      const framingKey = `${key}#${framing}`;
      const other = `${key}#${framing === 'rtu' ? 'mbap' : 'rtu'}`;
      // Port 0 means "any free port": the two framings then get ports of their own.
      if (port !== 0 && groups.has(other)) throw new Error(`${dev.name}: ${host}:${port} is served with both MBAP and RTU framing`);
      key = framingKey;
    } else if (conn.rtu !== undefined) {
      const rtu = conn.rtu;
      const path = opts.serialPaths?.[rtu.port] ?? rtu.port;
      key = `rtu:${path}`;
      make = (devices) =>
        new SerialEndpoint({
          path,
          baudRate: rtu.baudrate ?? 19200,
          parity: rtu.parity ?? 'E',
          dataBits: rtu.databit ?? 8,
          stopBits: rtu.stopbit ?? 1,
          vector: createVector(devices),
          devices,
        });
    } else {
      throw new Error(`${dev.name}: accessConfig.modbus has neither tcp nor rtu`);
    }
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, make, devices: new Map() };
      groups.set(key, g);
    }
    const sim = new ModbusSimDevice(dev, {
      seed,
      ...(opts.generators?.[dev.name] !== undefined ? { generators: opts.generators[dev.name] } : {}),
      ...(opts.faults?.[dev.name] !== undefined ? { faults: opts.faults[dev.name] } : {}),
      ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
    });
    const clash = g.devices.get(sim.unitId);
    if (clash !== undefined) throw new Error(`${dev.name}: unit id ${sim.unitId} is already used by ${clash.name} on ${key.replace(/#.*$/, '')}`);
    g.devices.set(sim.unitId, sim);
  }
  return [...groups.values()];
}

/**
 * Starts serving `opts.devices`. TCP endpoints bind each connection's address and port (port 0 =
 * any free port; `.endpoints` tells which). Rejects when a port cannot be bound or opened, or
 * when two devices on one endpoint share a unit id.
 */
export async function startModbusSimulator(opts: ModbusSimulatorOptions): Promise<ModbusSimulator> {
  const sim = new ModbusSimulator(groupsOf(opts, opts.seed ?? 1), opts.tickMs ?? 1000);
  await sim.start();
  return sim;
}
