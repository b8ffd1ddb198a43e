/** Serves the API on a TCP port with @hono/node-server. */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export function listenApi(app: Hono, host: string, port: number): Promise<ApiServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const h = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${h}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((r) => {
            const srv = server as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
            server.close(() => r());
            // Idle keep-alive sockets would hold close() for seconds; open event streams get a
            // moment to end cleanly (the console ends them when the gateway stops), then go.
            srv.closeIdleConnections?.();
            setTimeout(() => srv.closeAllConnections?.(), 1000).unref();
          }),
      });
    });
    server.once('error', reject);
  });
}
