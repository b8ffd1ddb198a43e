/**
 * Modbus/TCP endpoint: one modbus-serial ServerTCP for all devices on one address:port, routed by
 * unit id. Reply faults (delay, drop, truncation) are applied where ServerTCP writes each MBAP
 * reply to its socket; exceptions come from the service vector.
 *
 * modbus-serial does not expose its net.Server, but keeps it in `_server` (servers/servertcp.js);
 * we listen to its `connection` event to see each new socket before it carries data.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { ServerTCP } from 'modbus-serial';
import type { IServiceVector } from 'modbus-serial';
import type { Endpoint, EndpointInfo, UnitMap } from './endpoint.ts';
import { replyPlanFor } from './endpoint.ts';
import { mbapFrameLength, toMbap, truncatePdu } from '../rtu-frame.ts';

/** Options of a Modbus/TCP endpoint. */
export interface TcpEndpointOptions {
  readonly host: string;
  /** 0 = any free port (see `info().port` after start). */
  readonly port: number;
  readonly vector: IServiceVector;
  readonly devices: UnitMap;
  /** Reported kind; `rtu-over-tcp` when this serves the RTU adapter internally. */
  readonly kind?: 'tcp' | 'rtu-over-tcp';
}

/** See the file comment. */
export class TcpEndpoint implements Endpoint {
  private server: ServerTCP | undefined;
  private port: number;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: TcpEndpointOptions) {
    this.port = opts.port;
  }

  /** The bound port (the OS's choice when 0 was asked for), once started. */
  get boundPort(): number {
    return this.port;
  }

  info(): EndpointInfo {
    const units = [...this.opts.devices.keys()];
    return { kind: this.opts.kind ?? 'tcp', host: this.opts.host, port: this.port, units, devices: units.map((u) => this.opts.devices.get(u)!.name) };
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    // ServerTCP listens on `options.port || 502`, so it cannot be asked for port 0: for "any free
    // port" we ask the OS for one first, and try again if someone takes it in between.
    const tries = this.port === 0 ? 5 : 1;
    for (let i = 1; ; i++) {
      const port = this.port === 0 ? await freePort(this.opts.host) : this.port;
      try {
        await this.listen(port);
        this.port = port;
        return;
      } catch (e) {
        if (i >= tries || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
  }

  private async listen(port: number): Promise<void> {
    const server = new ServerTCP(this.opts.vector, { host: this.opts.host, port, unitID: 255 });
    // Without listeners these would be unhandled 'error' events; a client resetting is normal.
    server.on('error', () => {});
    server.on('socketError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (e) => reject(e instanceof Error ? e : new Error(String(e))));
    });
    const net = (server as unknown as { _server: Server })._server;
    net.on('connection', (sock: Socket) => this.adopt(sock));
    this.server = server;
  }

  private adopt(sock: Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    const write = sock.write.bind(sock) as (b: Uint8Array) => boolean;
    // ServerTCP writes exactly one complete MBAP reply per call.
    (sock as unknown as { write: (b: Buffer) => boolean }).write = (reply: Buffer) => {
      this.reply(sock, reply, write);
      return true;
    };
  }

  private reply(sock: Socket, reply: Buffer, write: (b: Uint8Array) => boolean): void {
    const plan = replyPlanFor(this.opts.devices, reply[6]);
    if (plan.drop) return;
    let out: Uint8Array = reply;
    if (plan.truncate && mbapFrameLength(reply) === reply.length) {
      out = toMbap(reply.readUInt16BE(0), truncatePdu(reply.subarray(6)));
    }
    if (plan.delayMs <= 0) {
      write(out);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!sock.destroyed) write(out);
    }, plan.delayMs);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
  }

  private close(reset: boolean): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) {
      if (reset) s.resetAndDestroy();
      else s.destroy();
    }
    this.sockets.clear();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    this.clearTimers();
    await this.close(false);
  }

  async kill(): Promise<void> {
    this.clearTimers();
    await this.close(true);
  }

  async disconnect(refuseMs: number): Promise<void> {
    if (refuseMs <= 0) {
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      return;
    }
    this.clearTimers();
    await this.close(false);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      // The port was free a moment ago; if someone took it, the endpoint stays closed.
      this.start().catch(() => {});
    }, refuseMs);
  }
}

/** A port the OS considers free on `host` right now. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const a = probe.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
