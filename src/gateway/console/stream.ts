/**
 * The live-values stream: server-sent events (`text/event-stream`) fed by the {@link LiveHub}.
 * Events: `ready` once, then `values`, `lifecycle` and `status` as the hub sees changes, and a
 * comment line every 15 s so that proxies keep the connection open. The console reads it with
 * fetch() rather than EventSource, because EventSource cannot send the bearer token.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { HubEvent, LiveHub } from './hub.ts';

/** Events queued for one slow client beyond which its stream is closed (it reconnects and resyncs). */
const MAX_QUEUE = 5000;
const KEEPALIVE_MS = 15_000;

/** Open streams, so that they can all be ended when the gateway stops. */
export class StreamSet {
  private readonly enders = new Set<() => void>();

  add(end: () => void): () => void {
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  get size(): number {
    return this.enders.size;
  }

  /** Ends every open stream (the HTTP server can only close once they are gone). */
  endAll(): void {
    for (const end of [...this.enders]) end();
  }
}

/**
 * Answers `c` with an event stream of `device` (or of every device when undefined), limited to
 * the event `types` when given (the device list needs `status` and `lifecycle`, not every value).
 */
export function eventStream(
  c: Context,
  hub: LiveHub,
  streams: StreamSet,
  filter: { device: string | undefined; types: ReadonlySet<string> | undefined },
  intervalMs: number,
): Response {
  const { device, types } = filter;
  c.header('X-Accel-Buffering', 'no');
  // @hono/node-server passes the Node request as `env.incoming`.
  const socket = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket;
  const res = streamSSE(c, async (stream) => {
    const queue: HubEvent[] = [];
    let closed = false;
    let wake: (() => void) | undefined;
    const end = () => {
      closed = true;
      wake?.();
    };
    const unsubscribe = hub.subscribe(device, (e) => {
      if (types !== undefined && !types.has(e.type)) return;
      queue.push(e);
      if (queue.length > MAX_QUEUE) end();
      wake?.();
    });
    const forget = streams.add(end);
    stream.onAbort(() => {
      end();
      // The client is gone, but Node keeps the server side of its socket open and out of the
      // idle list, so a closing server would wait for it until the keep-alive timeout.
      setImmediate(() => socket?.destroy());
    });
    try {
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ device: device ?? null, intervalMs }) });
      while (!closed && !hub.isStopped) {
        if (queue.length === 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, KEEPALIVE_MS);
          });
          clearTimeout(timer);
          wake = undefined;
          if (closed) break;
          if (queue.length === 0) {
            await stream.write(': keep-alive\n\n');
            continue;
          }
        }
        for (const e of queue.splice(0)) await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
      }
    } finally {
      unsubscribe();
      forget();
    }
  });
  // The socket must not outlive the stream: a closing HTTP server waits for kept-alive sockets
  // it saw busy until their idle timeout (5 s), which would delay every gateway stop.
  res.headers.set('Connection', 'close');
  return res;
}
