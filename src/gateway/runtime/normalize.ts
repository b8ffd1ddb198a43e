/**
 * Point results → model attributes: apply each mapping (x<id> variables, calculate, precision),
 * then coerce to the model property's type. Pure; one per device, holding the latest point values.
 */
import type { Mapping, ModelProperty } from '../../devicemodel/compiled.ts';
import { applyMapping } from '../../devicemodel/mapping.ts';
import { coerceToModel } from '../../devicemodel/coerce.ts';
import type { AttributeValue, PointValue, Quality } from '../../devicemodel/types.ts';
import type { PointError, ReadResult } from '../../drivers/sdk/index.ts';

/** One attribute's current value. */
export interface AttributeSample {
  readonly value: AttributeValue;
  readonly quality: Quality;
  /** Why the attribute is bad, when it is. */
  readonly error?: PointError;
}

interface PointState {
  quality: Quality;
  value: PointValue | undefined;
  error: PointError | undefined;
}

export class Normalizer {
  private readonly points = new Map<string, PointState>();
  /** point id → indexes of the mappings that read it. */
  private readonly readers = new Map<string, number[]>();

  constructor(
    private readonly mappings: readonly Mapping[],
    private readonly model: ReadonlyMap<string, ModelProperty>,
  ) {
    mappings.forEach((m, i) => {
      for (const id of m.pointIds) {
        const list = this.readers.get(id);
        if (list) list.push(i);
        else this.readers.set(id, [i]);
      }
    });
  }

  /**
   * Takes new point results and returns the attributes they affect, recomputed.
   * With `all`, returns every mapped attribute (a full poll).
   */
  ingest(results: readonly ReadResult[], all: boolean): Map<string, AttributeSample> {
    const touched = new Set<number>();
    for (const r of results) {
      this.points.set(
        r.id,
        r.quality === 'bad'
          ? { quality: 'bad', value: undefined, error: r.error }
          : { quality: r.quality, value: r.value, error: undefined },
      );
      if (!all) for (const i of this.readers.get(r.id) ?? []) touched.add(i);
    }
    const out = new Map<string, AttributeSample>();
    const indexes = all ? this.mappings.map((_, i) => i) : [...touched];
    for (const i of indexes) {
      const m = this.mappings[i]!;
      out.set(m.attribute, this.compute(m));
    }
    return out;
  }

  /** Marks every point bad (link down), without recomputing. */
  invalidate(error: PointError): void {
    for (const p of this.points.values()) {
      p.quality = 'bad';
      p.value = undefined;
      p.error = error;
    }
  }

  private compute(m: Mapping): AttributeSample {
    let firstError: PointError | undefined;
    const mapped = applyMapping(m, (id) => {
      const p = this.points.get(id);
      if (p === undefined) return undefined;
      if (p.quality === 'bad') {
        firstError ??= p.error;
        return { quality: 'bad', value: 0 };
      }
      return { quality: p.quality, value: p.value! };
    });
    if (mapped.quality === 'bad') {
      const reason = 'reason' in mapped ? mapped.reason : 'bad input';
      return { value: null, quality: 'bad', error: firstError ?? { code: 'Protocol', message: reason } };
    }
    const prop = this.model.get(m.attribute);
    if (prop === undefined) return { value: mapped.value, quality: mapped.quality };
    const coerced = coerceToModel(prop, mapped.value);
    if (!coerced.ok) return { value: null, quality: 'bad', error: { code: 'BadValue', message: `${m.attribute}: ${coerced.error}` } };
    return { value: coerced.value, quality: mapped.quality };
  }
}
