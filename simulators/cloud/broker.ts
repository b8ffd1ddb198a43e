/**
 * The cloud simulator's MQTT broker: aedes 1.2 (MQTT 3.1.1) on a TCP port, like the gateway's
 * embedded broker (src/gateway/mqtt/broker.ts), with one difference that matters for "never lost"
 * tests: the simulator subscribes inside the broker process *before* the port opens. With an MQTT
 * client as the subscriber, a gateway that reconnects first would get PUBACKs for messages that no
 * subscriber saw yet. Restarting on the same port refuses to fall back to another one.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

/** A running cloud broker. */
export interface CloudBroker {
  readonly url: string;
  readonly port: number;
  /** Publishes from inside the broker (QoS 1 to subscribers). */
  publish(topic: string, payload: string, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  connectedClients(): number;
  close(): Promise<void>;
}

/** Starts aedes on `host:port` (port 0 = any free one) with `onMessage` subscribed to `filters` first. */
export async function startCloudBroker(opts: {
  host?: string;
  port: number;
  filters: readonly string[];
  onMessage: (topic: string, payload: Buffer) => void;
}): Promise<CloudBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const deliver = (packet: { topic: string; payload: string | Buffer }, cb: () => void): void => {
    try {
      opts.onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    } finally {
      cb();
    }
  };
  for (const filter of opts.filters) await new Promise<void>((resolve) => broker.subscribe(filter, deliver, resolve));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw e;
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    publish: (topic, payload, o = {}) =>
      new Promise<void>((resolve, reject) =>
        broker.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: o.qos ?? 1, retain: o.retain ?? false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      ),
    connectedClients: () => broker.connectedClients,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await new Promise<void>((r) => broker.close(() => r()));
      })();
      return closing;
    },
  };
}
