/**
 * The generator a simulated attribute or point gets when none is configured: bools toggle,
 * numbers walk randomly inside the property's range (or a modest default range that every
 * numeric type can hold), enums cycle through their values, strings stay constant.
 */
import type { ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { ModelType } from '../../src/devicemodel/types.ts';
import type { GeneratorSpec } from './generators.ts';

const INTEGER_TYPES: ReadonlySet<ModelType> = new Set(['int', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/** True for model/point types whose values are whole numbers. */
export function isIntegerType(type: ModelType): boolean {
  return INTEGER_TYPES.has(type);
}

/**
 * A sensible generator for a property. `name` seeds the constant of string properties.
 * Returns `undefined` for types nothing is generated for (time, date, array, object).
 */
export function defaultGeneratorSpec(
  prop: Pick<ModelProperty, 'type' | 'min' | 'max' | 'enumValues'>,
  name: string,
): GeneratorSpec | undefined {
  switch (prop.type) {
    case 'bool':
      return { kind: 'toggle', every: 5000, start: false };
    case 'string':
      return { kind: 'constant', value: `sim-${name}` };
    case 'enum':
      return prop.enumValues !== undefined && prop.enumValues.length > 0
        ? { kind: 'cycle', values: [...prop.enumValues], every: 10_000 }
        : undefined;
    case 'time':
    case 'date':
    case 'array':
    case 'object':
      return undefined;
    default: {
      const integer = isIntegerType(prop.type);
      // Without a configured range: 0..100 fits every numeric type, scaled or not.
      const below = prop.max !== undefined ? prop.max - 100 : 0;
      const min = prop.min ?? (prop.type.startsWith('uint') ? Math.max(0, below) : below);
      const max = prop.max ?? min + 100;
      const span = max - min;
      const step = integer ? Math.max(1, Math.round(span / 50)) : span > 0 ? span / 50 : 1;
      return { kind: 'randomWalk', start: integer ? Math.round((min + max) / 2) : (min + max) / 2, step, min, max, every: 1000, integer };
    }
  }
}
