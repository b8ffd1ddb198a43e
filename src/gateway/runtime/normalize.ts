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

const BAD_INPUT = { quality: 'bad', value: 0 } as const;

interface PointState {
  quality: Quality;
  value: PointValue | undefined;
  error: PointError | undefined;
}

export class Normalizer {
  private readonly points = new Map<string, PointState>();
  /** point id → indexes of the mappings that read it. */
  private readonly readers = new Map<string, number[]>();
  /** The first bad input's error of the mapping being computed. */
  private firstError: PointError | undefined;
  /** Made once: a closure per call would cost an allocation per sample on the hot path. */
  private readonly lookup = (id: string): { quality: Quality; value: PointValue } | undefined => {
    const p = this.points.get(id);
    if (p === undefined) return undefined;
    if (p.quality === 'bad') {
      this.firstError ??= p.error;
      return BAD_INPUT;
    }
    return p as { quality: Quality; value: PointValue };
  };

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
      // Update in place: no allocation per sample once the point has been seen.
      let p = this.points.get(r.id);
      if (p === undefined) {
        p = { quality: 'bad', value: undefined, error: undefined };
        this.points.set(r.id, p);
      }
      if (r.quality === 'bad') {
        p.quality = 'bad';
        p.value = undefined;
        p.error = r.error;
      } else {
        p.quality = r.quality;
        p.value = r.value;
        p.error = undefined;
      }
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
    this.firstError = undefined;
    const mapped = applyMapping(m, this.lookup);
    const firstError = this.firstError as PointError | undefined;
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
