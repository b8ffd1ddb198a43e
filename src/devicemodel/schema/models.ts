/**
 * `models.yml`: device models (products), `{ <product>: [ DeviceProperty ] }`, with exactly
 * Baetyl's keys (`baetyl-go dmcontext/device.go DeviceProperty`) plus fieldgate's optional
 * `min`, `max` and `description`.
 */
import { z } from 'zod';
import { MODEL_TYPES } from '../types.ts';
import { idString, ignored, looseInt, looseNumber } from './common.ts';

const enumTypeSchema = z.strictObject({
  type: z.string().optional(),
  values: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        value: z.union([z.string(), z.number()]),
        displayName: z.string().optional(),
      }),
    )
    .nullish(),
});

const arrayTypeSchema = z.strictObject({
  type: z.enum(MODEL_TYPES).or(z.literal('')).optional(),
  min: looseInt().optional(),
  max: looseInt().optional(),
  format: z.string().optional(),
});

const objectFieldSchema = z.strictObject({
  displayName: z.string().optional(),
  type: z.string().optional(),
  format: z.string().optional(),
});

/** One property of a product. */
export const modelPropertySchema = z.strictObject({
  name: z.string().min(1),
  id: idString().optional(),
  type: z.enum(MODEL_TYPES),
  mode: z.enum(['ro', 'rw']).default('ro'),
  unit: z.string().optional(),
  format: z.string().optional(),
  enumType: enumTypeSchema.nullish(),
  arrayType: arrayTypeSchema.nullish(),
  objectType: z.record(z.string(), objectFieldSchema).nullish(),
  objectRequired: z.array(z.string()).nullish(),
  current: ignored,
  expect: ignored,
  // fieldgate's additions
  /** Inclusive range checked for desired values. */
  min: looseNumber().optional(),
  max: looseNumber().optional(),
  description: z.string().optional(),
});
export type ModelPropertyInput = z.output<typeof modelPropertySchema>;

/** The property list of one product (`null` = no properties). */
export const productSchema = z.array(modelPropertySchema).nullable();

/** The whole file: product name → properties. */
export const modelsFileSchema = z.record(z.string(), z.unknown());
