/**
 * The cloud simulator's HTTP API (hono): set desired values, read a device's shadow, read totals.
 *   POST /devices/:device/desired  JSON object of properties  → 202 {node, device, desired}
 *   GET  /devices/:device          the device as the cloud sees it (reported, desired, delta, versions, counters)
 *   GET  /stats                    totals and per-node status
 * `?node=` picks the node when several nodes have a device of that name.
 */
import { Hono } from 'hono';
import type { AttributeValue } from '../../src/devicemodel/types.ts';
import { parseJsonExact } from '../../src/gateway/mqtt/jsonparse.ts';
import { stringifyJson } from '../../src/devicemodel/json.ts';
import type { CloudDevice, CloudShadows } from './shadows.ts';

/** The JSON view of a device (what `GET /devices/:device` answers). */
export function deviceView(shadows: CloudShadows, d: CloudDevice): Record<string, unknown> {
  return {
    node: d.node,
    device: d.device,
    online: d.online,
    reported: d.reported,
    metadata: d.metadata,
    reportVersion: d.reportVersion,
    desired: d.desired,
    delta: shadows.delta(d),
    edgeDesireVersion: d.edgeDesireVersion,
    rejected: d.rejected,
    pending: d.pending === undefined ? undefined : { clientToken: d.pending.clientToken, patch: d.pending.patch },
    lastAnswer: d.answers.at(-1),
    last: d.last,
    counters: d.counters,
  };
}

function json(body: unknown, status = 200): Response {
  // stringifyJson keeps 64-bit integers exact.
  return new Response(stringifyJson(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Builds the app over the simulator's state. */
export function cloudApp(shadows: CloudShadows): Hono {
  const app = new Hono();
  const resolveNode = (device: string, node: string | undefined): string | undefined => node ?? shadows.nodeOf(device);

  app.post('/devices/:device/desired', async (c) => {
    const device = c.req.param('device');
    const parsed = parseJsonExact(await c.req.text());
    if (parsed.kind === 'error') return json({ error: `body is not JSON: ${parsed.error}` }, 400);
    const body = parsed.value;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) {
      return json({ error: 'body must be a non-empty JSON object of properties' }, 400);
    }
    const node = resolveNode(device, c.req.query('node'));
    if (node === undefined) return json({ error: `unknown device ${device} (or several nodes have it: add ?node=)` }, 404);
    shadows.setDesired(node, device, body as Record<string, AttributeValue>);
    return json({ node, device, desired: shadows.get(node, device)?.desired }, 202);
  });

  app.get('/devices/:device', (c) => {
    const device = c.req.param('device');
    const node = resolveNode(device, c.req.query('node'));
    const d = node === undefined ? undefined : shadows.get(node, device);
    if (d === undefined) return json({ error: `unknown device ${device}` }, 404);
    return json(deviceView(shadows, d));
  });

  app.get('/devices', (c) => json(shadows.all().map((d) => ({ node: d.node, device: d.device, online: d.online, reportVersion: d.reportVersion }))));
  app.get('/stats', (c) => json(shadows.stats()));
  return app;
}
