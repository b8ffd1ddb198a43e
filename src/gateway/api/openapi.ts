/** The OpenAPI 3.1 document of the REST API, generated from the zod schemas in schemas.ts. */
import { z } from 'zod';
import { deviceDetail, deviceSummary, driverInfo, errorBody, linkInfo, logLevelBody, propertyValue, shadowBody, validateResult, writeRequest } from './schemas.ts';

interface Route {
  readonly method: 'get' | 'post' | 'put';
  readonly path: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly ok: z.ZodType | 'text';
  readonly errors?: readonly number[];
}

const props = z.record(z.string(), propertyValue);

/** Every route; app.ts implements exactly these (a test checks both agree). */
export const ROUTES: readonly Route[] = [
  { method: 'get', path: '/health', summary: 'Liveness: broker state, device counts, whether the shadow store persists (no token needed)', ok: z.object({ status: z.string() }) },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', ok: 'text' },
  { method: 'get', path: '/api/v1/openapi.json', summary: 'This document', ok: z.object({}) },
  { method: 'get', path: '/api/v1/devices', summary: 'All devices with state, driver, link, last poll and counters', ok: z.array(deviceSummary) },
  { method: 'get', path: '/api/v1/devices/{name}', summary: 'One device with its model and current property values', ok: deviceDetail, errors: [404] },
  { method: 'get', path: '/api/v1/devices/{name}/properties', summary: 'Current value, quality and time of every property', ok: props, errors: [404] },
  { method: 'get', path: '/api/v1/devices/{name}/shadow', summary: 'The shadow: reported, desired, delta, versions, per-property metadata', ok: shadowBody, errors: [404] },
  { method: 'post', path: '/api/v1/devices/{name}/read', summary: 'Read the device now (through the same path as polls) and return its properties', ok: props, errors: [404] },
  {
    method: 'post',
    path: '/api/v1/devices/{name}/properties',
    summary: 'Write properties, validated like a desired value from the cloud (mode rw, type, range, invertible mapping); nothing is written when any is invalid',
    body: writeRequest,
    ok: z.object({ written: z.array(z.string()), properties: props }),
    errors: [400, 404, 422, 503],
  },
  { method: 'get', path: '/api/v1/devices/{name}/history', summary: 'Sparkline samples (last minutes) and online/offline history, kept while the console is in use', ok: z.object({}), errors: [404] },
  { method: 'get', path: '/api/v1/events', summary: 'Server-sent events: values, lifecycle and status changes (query: device, types)', ok: 'text', errors: [404] },
  { method: 'get', path: '/api/v1/drivers', summary: 'Drivers in use with version, SDK range and capabilities', ok: z.array(driverInfo) },
  { method: 'get', path: '/api/v1/links', summary: 'Links (shared connections) with state machine state and counters', ok: z.array(linkInfo) },
  { method: 'get', path: '/api/v1/outbox', summary: 'Shadow store and cloud outbox statistics (depth, dropped, persisting)', ok: z.object({}) },
  { method: 'get', path: '/api/v1/log/level', summary: 'Current log level', ok: logLevelBody },
  { method: 'put', path: '/api/v1/log/level', summary: 'Change the log level at run time', body: logLevelBody, ok: logLevelBody, errors: [400] },
  {
    method: 'post',
    path: '/api/v1/config/plan',
    summary: 'What a reload would change now (devices added, removed, changed, unchanged), without applying it',
    ok: z.object({ ok: z.literal(true), added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()), unchanged: z.array(z.string()) }),
    errors: [422],
  },
  {
    method: 'post',
    path: '/api/v1/config/reload',
    summary: 'Apply the configuration on disk: only changed devices restart; an invalid one is refused as a whole and the running one stays',
    ok: z.object({ ok: z.literal(true), added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()), unchanged: z.array(z.string()) }),
    errors: [422],
  },
  { method: 'post', path: '/api/v1/config/validate', summary: 'Load and check the configuration on disk without applying it', ok: validateResult, errors: [422] },
];

function schema(s: z.ZodType): unknown {
  return z.toJSONSchema(s, { unrepresentable: 'any', io: 'output' });
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const responses: Record<string, unknown> = {
      200: {
        description: 'OK',
        content: r.ok === 'text' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: schema(r.ok) } },
      },
    };
    for (const code of [...(r.errors ?? []), ...(r.path === '/health' ? [] : [401])]) {
      responses[code] = { description: 'Error', content: { 'application/json': { schema: schema(errorBody) } } };
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      ...(r.path.includes('{name}') ? { parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'Device name' }] } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body) } } } } : {}),
      responses,
      ...(r.path === '/health' ? {} : { security: [{ bearer: [] }] }),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'fieldgate REST API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
