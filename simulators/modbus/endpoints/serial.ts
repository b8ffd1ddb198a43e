/**
 * RTU on a serial port (a real one, or the simulator's end of a socat pty pair): one
 * modbus-serial ServerSerial per port path, answering for every unit id of its devices.
 * ServerSerial accepts a `portResponse` stream for its replies (servers/serverserial.js, not in
 * its d.ts); we pass our own writer there to apply reply faults, to stay silent for unit ids
 * that have no device (a bus has no one to answer), and to go silent after `disconnect`.
 */
import { ServerSerial } from 'modbus-serial';
import type { IServiceVector } from 'modbus-serial';
import type { Endpoint, EndpointInfo, UnitMap } from './endpoint.ts';
import { replyPlanFor } from './endpoint.ts';
import { toRtu, truncatePdu } from '../rtu-frame.ts';

/** Options of a serial endpoint (line settings as in `accessConfig.modbus.rtu`). */
export interface SerialEndpointOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: 'E' | 'N' | 'O';
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly stopBits: 1 | 2;
  readonly vector: IServiceVector;
  readonly devices: UnitMap;
}

const PARITY = { E: 'even', N: 'none', O: 'odd' } as const;

/** See the file comment. */
export class SerialEndpoint implements Endpoint {
  private server: ServerSerial | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private silentUntil = 0;

  constructor(private readonly opts: SerialEndpointOptions) {}

  info(): EndpointInfo {
    const units = [...this.opts.devices.keys()];
    return { kind: 'serial', path: this.opts.path, units, devices: units.map((u) => this.opts.devices.get(u)!.name) };
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const o = this.opts;
    const portResponse = { write: (reply: Buffer) => this.reply(reply) };
    let server: ServerSerial | undefined;
    await new Promise<void>((resolve, reject) => {
      const options = {
        path: o.path,
        baudRate: o.baudRate,
        parity: PARITY[o.parity],
        unitID: 255,
        portResponse,
        openCallback: (err: Error | null) => (err ? reject(err) : resolve()),
      };
      // The third argument (extra serialport options) is in serverserial.js but not in its d.ts.
      const Ctor = ServerSerial as unknown as new (v: IServiceVector, opts: object, serial: object) => ServerSerial;
      server = new Ctor(o.vector, options, { dataBits: o.dataBits, stopBits: o.stopBits });
      server.on('error', () => {});
      server.on('socketError', () => {});
    });
    this.server = server;
  }

  private port(): { write(b: Uint8Array): unknown } | undefined {
    return (this.server as unknown as { getPort?: () => { write(b: Uint8Array): unknown } } | undefined)?.getPort?.();
  }

  private reply(reply: Buffer): void {
    const unit = reply[0];
    if (unit === undefined || !this.opts.devices.has(unit)) return;
    if (Date.now() < this.silentUntil) return;
    const plan = replyPlanFor(this.opts.devices, unit);
    if (plan.drop) return;
    const out = plan.truncate ? toRtu(truncatePdu(reply.subarray(0, reply.length - 2))) : reply;
    if (plan.delayMs <= 0) {
      this.port()?.write(out);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.port()?.write(out);
    }, plan.delayMs);
    this.timers.add(t);
  }

  private async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      // A port whose other end is gone may never call back.
      const t = setTimeout(resolve, 500);
      server.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    return this.close();
  }

  kill(): Promise<void> {
    return this.close();
  }

  async disconnect(refuseMs: number): Promise<void> {
    // A serial line has no connection to drop: the closest thing is a device that stops answering.
    this.silentUntil = Date.now() + Math.max(0, refuseMs);
  }
}
