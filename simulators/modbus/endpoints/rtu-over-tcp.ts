/**
 * RTU frames over TCP, as a transparent serial-to-Ethernet converter presents a serial bus: the
 * client sends RTU requests (with CRC) on a plain socket. modbus-serial has no server for this,
 * so this endpoint is a small adapter in front of an internal Modbus/TCP endpoint on 127.0.0.1
 * (port chosen by the OS): each RTU request becomes an MBAP request on a private connection, and
 * each MBAP reply goes back as an RTU frame with a fresh CRC. Faults therefore behave exactly as
 * on Modbus/TCP. Requests with a bad CRC are ignored, as a device on a bus would.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { IServiceVector } from 'modbus-serial';
import type { Endpoint, EndpointInfo, UnitMap } from './endpoint.ts';
import { TcpEndpoint } from './tcp.ts';
import { crcOk, mbapFrameLength, rtuRequestLength, toMbap, toRtu } from '../rtu-frame.ts';

/** Options of an RTU-over-TCP endpoint. */
export interface RtuOverTcpOptions {
  readonly host: string;
  readonly port: number;
  readonly vector: IServiceVector;
  readonly devices: UnitMap;
}

/** See the file comment. */
export class RtuOverTcpEndpoint implements Endpoint {
  private readonly inner: TcpEndpoint;
  private server: Server | undefined;
  private port: number;
  private readonly pairs = new Map<Socket, Socket>();
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RtuOverTcpOptions) {
    this.port = opts.port;
    this.inner = new TcpEndpoint({ host: '127.0.0.1', port: 0, vector: opts.vector, devices: opts.devices, kind: 'rtu-over-tcp' });
  }

  info(): EndpointInfo {
    const units = [...this.opts.devices.keys()];
    return { kind: 'rtu-over-tcp', host: this.opts.host, port: this.port, units, devices: units.map((u) => this.opts.devices.get(u)!.name) };
  }

  async start(): Promise<void> {
    await this.inner.start();
    if (this.server !== undefined) return;
    const server = createServer((front) => this.accept(front));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    const addr = server.address();
    if (addr !== null && typeof addr === 'object') this.port = addr.port;
    this.server = server;
  }

  private accept(front: Socket): void {
    const back = connect({ host: '127.0.0.1', port: this.inner.boundPort });
    this.pairs.set(front, back);
    const closeBoth = () => {
      this.pairs.delete(front);
      front.destroy();
      back.destroy();
    };
    front.on('error', closeBoth);
    back.on('error', closeBoth);
    front.on('close', closeBoth);
    back.on('close', closeBoth);

    let tid = 0;
    let rx = Buffer.alloc(0);
    front.on('data', (chunk: Buffer) => {
      rx = Buffer.concat([rx, chunk]);
      // Bounded: each pass consumes at least one byte or stops.
      while (rx.length > 0) {
        const n = rtuRequestLength(rx);
        if (n === undefined) break;
        const frame = rx.subarray(0, n);
        rx = rx.subarray(n);
        if (!crcOk(frame)) {
          // Lost sync or line noise: drop what we have, as a slave waits for the next silence.
          rx = Buffer.alloc(0);
          break;
        }
        tid = (tid + 1) & 0xffff;
        back.write(toMbap(tid, frame.subarray(0, n - 2)));
      }
    });

    let tx = Buffer.alloc(0);
    back.on('data', (chunk: Buffer) => {
      tx = Buffer.concat([tx, chunk]);
      for (let n = mbapFrameLength(tx); n !== undefined; n = mbapFrameLength(tx)) {
        front.write(toRtu(tx.subarray(6, n)));
        tx = tx.subarray(n);
      }
    });
  }

  private dropClients(reset: boolean): void {
    for (const [front, back] of this.pairs) {
      if (reset) front.resetAndDestroy();
      else front.destroy();
      back.destroy();
    }
    this.pairs.clear();
  }

  private closeFront(reset: boolean): Promise<void> {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.dropClients(reset);
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.closeFront(false);
    await this.inner.stop();
  }

  async kill(): Promise<void> {
    await this.closeFront(true);
    await this.inner.kill();
  }

  async disconnect(refuseMs: number): Promise<void> {
    if (refuseMs <= 0) {
      this.dropClients(false);
      return;
    }
    await this.closeFront(false);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.start().catch(() => {});
    }, refuseMs);
  }
}
