/**
 * The REST API (hono): devices, properties, shadows, read-now, writes (validated exactly like a
 * desired value from the cloud), drivers, links, outbox, log level, configuration check, metrics.
 * Every error is JSON `{error: {code, message, field?}}` with a 4xx/5xx status.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ConfigIssue } from '../../devicemodel/schema/issues.ts';
import { formatPath } from '../../devicemodel/schema/issues.ts';
import type { BaseConnection, DriverDescriptor } from '../../drivers/sdk/index.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { DeviceRuntime } from '../runtime/device.ts';
import type { Gateway } from '../runtime/gateway.ts';
import { logLevelBody, writeRequest } from './schemas.ts';
import { openApiDocument } from './openapi.ts';
import { mountConsole } from '../console/mount.ts';

export interface ApiContext {
  readonly gateway: Gateway;
  readonly metrics: GatewayMetrics;
  /** Aborted when the gateway stops (ends live streams at once). */
  readonly signal?: AbortSignal;
  /** Bearer token required on every route but /health; undefined = none (loopback only). */
  readonly token?: string;
  readonly drivers: () => readonly { descriptor: DriverDescriptor<BaseConnection, unknown>; instances: string[]; devices: number }[];
  readonly logLevel: { get(): string; set(level: string): void };
  /** Loads the configuration on disk and applies the difference (hot reload). */
  readonly reload: () => Promise<{ ok: true; added: string[]; removed: string[]; changed: string[]; unchanged: string[] } | { ok: false; issues: readonly ConfigIssue[] }>;
  /** What a reload would change, without applying it. */
  readonly planReload: ApiContext['reload'];
  /** Loads and compiles the configuration on disk without applying it. */
  readonly validate: () => Promise<{ ok: true; devices: number } | { ok: false; issues: readonly ConfigIssue[] }>;
}

type Status = 400 | 401 | 404 | 409 | 422 | 500 | 503;

function fail(c: Context, status: Status, code: string, message: string, extra: Record<string, unknown> = {}) {
  return c.json({ error: { code, message, ...extra } }, status);
}

/** The zod issue that matters, as `{field, message}`. */
function firstIssue(e: z.ZodError): { field: string; message: string } {
  const i = e.issues[0];
  return { field: i ? formatPath(i.path as (string | number)[]) || '(body)' : '(body)', message: i?.message ?? 'invalid body' };
}

async function body<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; res: Response }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, res: fail(c, 400, 'BadRequest', 'the body is not JSON', { field: '(body)' }) };
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    return { ok: false, res: fail(c, 400, 'BadRequest', `${field}: ${message}`, { field }) };
  }
  return { ok: true, value: r.data };
}

function summary(d: DeviceRuntime, gw: Gateway) {
  const link = gw.linkOfDevice(d.name);
  return {
    name: d.name,
    product: d.device.product,
    accessTemplate: d.device.accessTemplate,
    driver: d.device.driver,
    instance: d.device.instance,
    online: d.isOnline ?? null,
    link: { key: link?.key ?? '', state: link?.state ?? 'idle', ...(link?.error ? { error: link.error.message } : {}) },
    interval: d.ref.connection.interval,
    lastPollAt: d.lastPollAt ?? null,
    lastError: d.lastError ? { code: d.lastError.code, message: d.lastError.message } : null,
    counters: { ...d.counters },
  };
}

function properties(d: DeviceRuntime) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of d.snapshot()) {
    out[k] = {
      value: typeof v.value === 'bigint' ? v.value.toString() : v.value,
      quality: v.quality,
      ts: v.ts,
      ...(v.error ? { error: { code: v.error.code, message: v.error.message } } : {}),
    };
  }
  return out;
}

/** JSON-safe copy (bigint → string). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
}

export function createApi(ctx: ApiContext): Hono {
  const app = new Hono();
  const gw = ctx.gateway;

  app.onError((err, c) => {
    return fail(c, 500, 'Internal', err instanceof Error ? err.message : String(err));
  });
  app.notFound((c) => fail(c, 404, 'NotFound', `no route ${c.req.method} ${c.req.path}`));

  app.get('/health', (c) =>
    c.json({
      status: gw.broker.state === 'online' ? 'ok' : 'degraded',
      broker: gw.broker.state,
      devices: gw.devices.size,
      online: [...gw.devices.values()].filter((d) => d.isOnline).length,
      persisting: gw.store.stats().persisting,
    }),
  );

  mountConsole(app, ctx); // the web console: page before the auth middleware, its data routes check the token themselves

  // Everything else needs the token when one is set.
  app.use('*', async (c, next) => {
    if (ctx.token === undefined || c.req.path === '/health') return next();
    const h = c.req.header('authorization') ?? '';
    if (h !== `Bearer ${ctx.token}`) {
      c.header('WWW-Authenticate', 'Bearer');
      return fail(c, 401, 'Unauthorized', 'send Authorization: Bearer <token> (api.token or FIELDGATE_API_TOKEN)', { field: 'authorization' });
    }
    return next();
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', ctx.metrics.registry.contentType);
    return c.body(await ctx.metrics.text());
  });

  app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument()));

  app.get('/api/v1/devices', (c) => c.json([...gw.devices.values()].map((d) => summary(d, gw))));

  const device = (c: Context): DeviceRuntime | Response => {
    const name = c.req.param('name') ?? '';
    const d = gw.devices.get(name);
    return d ?? fail(c, 404, 'NotFound', `no device "${name}" (have: ${[...gw.devices.keys()].slice(0, 20).join(', ')})`, { field: 'name' });
  };

  app.get('/api/v1/devices/:name', (c) => {
    const d = device(c);
    if (d instanceof Response) return d;
    const model = [...d.device.model.values()].map((p) => ({
      name: p.name,
      type: p.type,
      mode: p.mode,
      ...(p.unit !== undefined ? { unit: p.unit } : {}),
      ...(p.min !== undefined ? { min: p.min } : {}),
      ...(p.max !== undefined ? { max: p.max } : {}),
    }));
    return c.json({ ...summary(d, gw), properties: properties(d), model });
  });

  app.get('/api/v1/devices/:name/properties', (c) => {
    const d = device(c);
    if (d instanceof Response) return d;
    return c.json(properties(d));
  });

  app.get('/api/v1/devices/:name/shadow', (c) => {
    const d = device(c);
    if (d instanceof Response) return d;
    const s = gw.store.get(d.name);
    return c.json(
      plain({
        name: d.name,
        report: s?.report ?? {},
        desire: s?.desire ?? {},
        delta: gw.store.delta(d.name),
        reportVersion: s?.reportVersion ?? 0,
        desireVersion: s?.desireVersion ?? 0,
        meta: s?.meta ?? { report: {}, desire: {} },
      }),
    );
  });

  app.post('/api/v1/devices/:name/read', async (c) => {
    const d = device(c);
    if (d instanceof Response) return d;
    await d.poll();
    return c.json(properties(d));
  });

  app.post('/api/v1/devices/:name/properties', async (c) => {
    const d = device(c);
    if (d instanceof Response) return d;
    const b = await body(c, writeRequest);
    if (!b.ok) return b.res;
    const errors = await d.write(b.value.properties);
    if (errors.length > 0) {
      const failed = errors.some((e) => e.code === 'WriteFailed');
      return fail(c, failed ? 503 : 422, errors[0]!.code, errors.map((e) => `${e.property}: ${e.message}`).join('; '), {
        field: `properties.${errors[0]!.property}`,
        errors,
      });
    }
    return c.json({ written: Object.keys(b.value.properties), properties: properties(d) });
  });

  app.get('/api/v1/drivers', (c) =>
    c.json(
      ctx.drivers().map(({ descriptor: x, instances, devices }) => ({
        id: x.id,
        version: x.version,
        title: x.title,
        sdkVersion: x.sdkVersion,
        capabilities: { ...x.capabilities },
        instances,
        devices,
      })),
    ),
  );

  app.get('/api/v1/links', (c) =>
    c.json([...gw.links.values()].map((l) => ({ key: l.key, state: l.state, ...(l.error ? { error: l.error.message } : {}), stats: { ...l.stats } }))),
  );

  app.get('/api/v1/outbox', (c) => c.json(gw.store.stats()));

  app.get('/api/v1/log/level', (c) => c.json({ level: ctx.logLevel.get() }));
  app.put('/api/v1/log/level', async (c) => {
    const b = await body(c, logLevelBody);
    if (!b.ok) return b.res;
    ctx.logLevel.set(b.value.level);
    return c.json({ level: ctx.logLevel.get() });
  });

  app.post('/api/v1/config/validate', async (c) => {
    const r = await ctx.validate();
    if (r.ok) return c.json({ ok: true, issues: [], devices: r.devices });
    return c.json({ ok: false, issues: r.issues.map(issueJson) }, 422);
  });

  app.post('/api/v1/config/plan', async (c) => {
    const r = await ctx.planReload();
    if (r.ok) return c.json(r);
    return c.json({ ok: false, issues: r.issues.map(issueJson) }, 422);
  });

  app.post('/api/v1/config/reload', async (c) => {
    const r = await ctx.reload();
    if (r.ok) return c.json(r);
    return c.json({ ok: false, issues: r.issues.map(issueJson) }, 422);
  });

  return app;
}

function issueJson(i: ConfigIssue) {
  return {
    file: i.file,
    path: formatPath(i.path as (string | number)[]),
    ...(i.line !== undefined ? { line: i.line } : {}),
    ...(i.column !== undefined ? { column: i.column } : {}),
    message: i.message,
  };
}
