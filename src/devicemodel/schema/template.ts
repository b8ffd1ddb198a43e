/**
 * `access_template.yml`: `{ <template>: {properties, mappings} }` with exactly Baetyl's keys
 * (`baetyl-go dmcontext/access.go AccessTemplate`, `ModelMapping`; properties are the same
 * `DeviceProperty` struct as models.yml) plus fieldgate's optional `deadband`.
 * `visitor.<driver>` is kept as-is here and parsed by the driver's `addressSchema` at compile.
 */
import { z } from 'zod';
import { POINT_TYPES } from '../types.ts';
import { idString, ignored, looseInt, looseNumber } from './common.ts';

/** One point of the point table. */
export const templatePropertySchema = z.strictObject({
  name: z.string().min(1),
  id: idString(),
  type: z.enum(POINT_TYPES),
  mode: z.enum(['ro', 'rw']).optional(),
  unit: z.string().optional(),
  /** `{ <driverId>: address }`; `custom` is a JSON string in Baetyl. */
  visitor: z.record(z.string(), z.unknown()),
  // The other DeviceProperty keys, which Baetyl's cloud may serialize (unused for points).
  format: z.string().optional(),
  enumType: z.unknown().optional(),
  arrayType: z.unknown().optional(),
  objectType: z.unknown().optional(),
  objectRequired: z.unknown().optional(),
  current: ignored,
  expect: ignored,
});
export type TemplatePropertyInput = z.output<typeof templatePropertySchema>;

/** One mapping from points to a model attribute. */
export const mappingSchema = z.strictObject({
  attribute: z.string().min(1),
  type: z.enum(['none', 'value', 'calculate']).default('none'),
  expression: z.string().optional(),
  /** Decimal places; <= 0 = no rounding. */
  precision: looseInt().pipe(z.number().int().max(15)).optional(),
  /** Percent of the last reported value. */
  deviation: looseNumber().pipe(z.number().min(0)).optional(),
  /** Seconds. */
  silentWin: looseInt().pipe(z.number().int().min(0)).optional(),
  // fieldgate's addition
  /** Absolute change that triggers a report (0 = off). */
  deadband: looseNumber().pipe(z.number().min(0)).optional(),
});
export type MappingInput = z.output<typeof mappingSchema>;

/** One access template. */
export const templateSchema = z.strictObject({
  name: z.string().optional(),
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  properties: z.array(templatePropertySchema).nullish().transform((v) => v ?? []),
  mappings: z.array(mappingSchema).nullish().transform((v) => v ?? []),
});
export type TemplateInput = z.output<typeof templateSchema>;

/** The whole file: template name → template. */
export const templateFileSchema = z.record(z.string(), z.unknown());
