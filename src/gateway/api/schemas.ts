/**
 * Request and response shapes of the REST API, as zod schemas: requests are validated with them,
 * and docs/api.md's OpenAPI document is generated from them (openapi.ts).
 */
import { z } from 'zod';

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe('A stable code: BadRequest, Unauthorized, NotFound, or a command error code'),
      message: z.string(),
      field: z.string().optional().describe('The request field the error is about'),
      errors: z
        .array(z.object({ property: z.string(), code: z.string(), message: z.string() }))
        .optional()
        .describe('Per-property errors of a rejected write'),
    }),
  })
  .meta({ id: 'Error' });

export const propertyValue = z
  .object({
    value: z.unknown().describe('Last value (null when bad)'),
    quality: z.enum(['good', 'bad', 'uncertain']),
    ts: z.number().describe('Epoch ms of the sample'),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'PropertyValue' });

export const deviceSummary = z
  .object({
    name: z.string(),
    product: z.string().describe('deviceModel'),
    accessTemplate: z.string(),
    driver: z.string(),
    instance: z.string(),
    online: z.boolean().nullable().describe('null before the first poll'),
    link: z.object({ key: z.string(), state: z.string(), error: z.string().optional() }),
    interval: z.number().describe('Poll interval, ms'),
    lastPollAt: z.number().nullable(),
    lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
    counters: z.object({
      polls: z.number(),
      failedPolls: z.number(),
      overruns: z.number(),
      pointsRead: z.number(),
      badPoints: z.number(),
      published: z.number(),
      writes: z.number(),
    }),
  })
  .meta({ id: 'DeviceSummary' });

export const deviceDetail = deviceSummary
  .extend({
    properties: z.record(z.string(), propertyValue),
    model: z.array(
      z.object({ name: z.string(), type: z.string(), mode: z.enum(['ro', 'rw']), unit: z.string().optional(), min: z.number().optional(), max: z.number().optional() }),
    ),
  })
  .meta({ id: 'DeviceDetail' });

export const shadowBody = z
  .object({
    name: z.string(),
    report: z.record(z.string(), z.unknown()),
    desire: z.record(z.string(), z.unknown()),
    delta: z.record(z.string(), z.unknown()),
    reportVersion: z.number(),
    desireVersion: z.number(),
    meta: z.unknown(),
  })
  .meta({ id: 'Shadow' });

export const writeRequest = z
  .strictObject({
    properties: z
      .record(z.string(), z.union([z.number(), z.boolean(), z.string()]))
      .refine((r) => Object.keys(r).length > 0, { message: 'give at least one property' })
      .describe('Model attribute → value, validated like a desired value from the cloud'),
  })
  .meta({ id: 'WriteRequest' });

export const logLevelBody = z
  .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) })
  .meta({ id: 'LogLevel' });

export const driverInfo = z
  .object({
    id: z.string(),
    version: z.string(),
    title: z.string(),
    sdkVersion: z.string(),
    capabilities: z.record(z.string(), z.union([z.boolean(), z.number()])),
    instances: z.array(z.string()),
    devices: z.number(),
  })
  .meta({ id: 'Driver' });

export const linkInfo = z
  .object({
    key: z.string(),
    state: z.string(),
    error: z.string().optional(),
    stats: z.object({ connects: z.number(), failures: z.number(), reconnects: z.number(), calls: z.number() }),
  })
  .meta({ id: 'Link' });

export const validateResult = z
  .object({
    ok: z.boolean(),
    issues: z.array(z.object({ file: z.string(), path: z.string(), line: z.number().optional(), column: z.number().optional(), message: z.string() })),
    devices: z.number().optional(),
  })
  .meta({ id: 'ValidateResult' });
