/**
 * Mounts the web console on the API's hono app: the page and its assets at `/` and `/console/*`
 * (no token: they hold no data, and a browser cannot send a bearer header when it opens a page),
 * the live stream at `/api/v1/events[?device=<name>][&types=values,lifecycle,status]` and the history at `/api/v1/devices/:name/history`
 * (token-checked here, so they stay protected wherever the call sits in createApi).
 *
 * Call it before the API's auth middleware is registered, so that the page loads without the
 * token and then asks for it when the API answers 401.
 */
import type { Context, Hono } from 'hono';
import type { ApiContext } from '../api/app.ts';
import { buildAssets } from './build.ts';
import type { AssetTable } from './build.ts';
import { LiveHub } from './hub.ts';
import { eventStream, StreamSet } from './stream.ts';

/** What mountConsole needs: the API's context, optionally with the gateway's stop signal. */
export type ConsoleContext = ApiContext & {
  /** Aborted when the gateway stops; ends the live streams so the HTTP server can close at once. */
  readonly signal?: AbortSignal;
};

/** Options of {@link mountConsole}; the defaults suit a running gateway. */
export interface ConsoleOptions {
  /** How often the hub looks at the devices, ms (default 500). */
  readonly intervalMs?: number;
  /** Sparkline window, ms (default 5 minutes). */
  readonly windowMs?: number;
}

/** The mounted console: its hub (for tests) and a stop function (idempotent). */
export interface ConsoleHandle {
  readonly hub: LiveHub;
  /** Live streams open now. */
  readonly streams: () => number;
  stop(): void;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Adds the console's routes to `app` and starts its live hub. */
export function mountConsole(app: Hono, ctx: ConsoleContext, opts: ConsoleOptions = {}): ConsoleHandle {
  const gw = ctx.gateway;
  const intervalMs = opts.intervalMs ?? 500;
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const streams = new StreamSet();
  const hub = new LiveHub({
    devices: () => gw.devices,
    intervalMs,
    windowMs,
    // Without the stop signal, a gateway whose links are all closed is taken as stopping: its
    // HTTP server waits for open streams, so they must end without a client's help.
    stopWhen: () => ctx.signal?.aborted === true || (gw.links.size > 0 && [...gw.links.values()].every((l) => l.state === 'closed')),
    onStop: () => streams.endAll(),
    // The console costs nothing while nobody looks: it samples only after a page or stream asked.
    idleMs: 10 * 60_000,
  });
  ctx.signal?.addEventListener('abort', () => hub.stop(), { once: true });

  // Built on the first request and kept; a failed build is retried on the next request.
  let assets: Promise<AssetTable> | undefined;
  const load = () => {
    assets ??= buildAssets().catch((e: unknown) => {
      assets = undefined;
      throw e;
    });
    return assets;
  };

  const serve = async (c: Context, url: string) => {
    let table: AssetTable;
    try {
      table = await load();
    } catch (e) {
      return c.json({ error: { code: 'ConsoleBuild', message: `the console could not be built: ${e instanceof Error ? e.message : String(e)}` } }, 500);
    }
    const a = table.get(url);
    if (a === undefined) return c.json({ error: { code: 'NotFound', message: `no console file ${url}` } }, 404);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    c.header('Cache-Control', 'no-cache');
    c.header('ETag', a.etag);
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304);
    c.header('Content-Type', a.type);
    return c.body(a.body as Uint8Array<ArrayBuffer>);
  };

  const authorized = (c: Context): Response | undefined => {
    if (ctx.token === undefined || c.req.header('authorization') === `Bearer ${ctx.token}`) return undefined;
    c.header('WWW-Authenticate', 'Bearer');
    return c.json({ error: { code: 'Unauthorized', message: 'send Authorization: Bearer <token> (api.token or FIELDGATE_API_TOKEN)', field: 'authorization' } }, 401);
  };

  app.get('/', (c) => {
    hub.touch();
    return serve(c, '/');
  });
  app.get('/console', (c) => c.redirect('/', 301));
  app.get('/console/:file', (c) => serve(c, `/console/${c.req.param('file')}`));

  app.get('/api/v1/events', (c) => {
    const denied = authorized(c);
    if (denied) return denied;
    const device = c.req.query('device') || undefined;
    if (device !== undefined && !gw.devices.has(device)) return c.json({ error: { code: 'NotFound', message: `no device "${device}"`, field: 'device' } }, 404);
    const types = c.req.query('types');
    hub.touch();
    return eventStream(c, hub, streams, { device, types: types ? new Set(types.split(',')) : undefined }, intervalMs);
  });

  app.get('/api/v1/devices/:name/history', (c) => {
    const denied = authorized(c);
    if (denied) return denied;
    const name = c.req.param('name');
    hub.touch();
    const h = hub.history(name);
    if (h === undefined) return c.json({ error: { code: 'NotFound', message: `no device "${name}"`, field: 'name' } }, 404);
    return c.json({ name, windowMs, intervalMs, ...h });
  });

  return { hub, streams: () => streams.size, stop: () => hub.stop() };
}
