/**
 * The embedded broker, started when gateway.yaml names no broker: aedes 1.2 on a plain TCP
 * listener. aedes 1.2 speaks MQTT 3.1.1 only (it refuses v5 CONNECTs; see libraries.md §2.6), the
 * same as baetyl-broker, so clients of the embedded broker must use `protocolVersion: 4`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

/** Where to listen. `port: 0` takes any free port. */
export interface EmbeddedBrokerOptions {
  /** Listen address; default `127.0.0.1` (loopback: the broker has no authentication). */
  readonly host?: string;
  readonly port: number;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` for clients. */
  readonly url: string;
  readonly host: string;
  /** The port actually listened on. */
  readonly port: number;
  /** The port asked for. */
  readonly requestedPort: number;
  /** True when `requestedPort` was busy and a free port was taken instead: log it. */
  readonly fellBack: boolean;
  /** Number of clients connected now. */
  connectedClients(): number;
  /** Stops listening, drops every client and closes aedes. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts aedes on `host:port`. When that port is in use (EADDRINUSE), listens on a free port
 * instead and sets `fellBack`; any other listen error rejects.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    // server.close() waits for open connections; they are tracked to be destroyed on close.
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });

  let fellBack = false;
  try {
    await listen(server, host, opts.port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.port === 0) {
      await closeAedes(broker);
      throw e;
    }
    fellBack = true;
    await listen(server, host, 0);
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;

  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    requestedPort: opts.port,
    fellBack,
    connectedClients: () => broker.connectedClients,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await closeAedes(broker);
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeAedes(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
