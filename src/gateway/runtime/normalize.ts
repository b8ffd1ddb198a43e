/**
 * Point results → model attributes: apply each mapping (x<id> variables, calculate, precision),
 * then coerce to the model property's type. Pure; one per device, holding the latest point values.
 */
import type { Mapping, ModelProperty } from '../../devicemodel/compiled.ts';
import { applyMapping } from '../../devicemodel/mapping.ts';
import { coerceToModel, keepsValue } from '../../devicemodel/coerce.ts';
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

/** A sample this normalizer owns and rewrites on every ingest. */
interface OwnSample {
  value: AttributeValue;
  quality: Quality;
  error: PointError | undefined;
}

export class Normalizer {
  private readonly points = new Map<string, PointState>();
  /** point id → indexes of the mappings that read it. */
  private readonly readers = new Map<string, number[]>();
  /** One sample per mapping, rewritten in place (no allocation per attribute per poll). */
  private readonly samples: OwnSample[];
  /** Every attribute → its sample, in mapping order: the answer to a full ingest. */
  private readonly all = new Map<string, AttributeSample>();
  /** The answer to a partial ingest, refilled each time. */
  private readonly some = new Map<string, AttributeSample>();
  private readonly touched = new Set<number>();
  /** Per mapping: its model property (the model does not change), and its first point's state once seen. */
  private readonly props: (ModelProperty | undefined)[];
  private readonly inputs: (PointState | undefined)[];
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
    this.samples = mappings.map(() => ({ value: null, quality: 'bad', error: undefined }));
    this.props = mappings.map((m) => model.get(m.attribute));
    this.inputs = new Array<PointState | undefined>(mappings.length).fill(undefined);
    // Same keys, order and winner as setting every computed mapping into a fresh map in order.
    mappings.forEach((m, i) => this.all.set(m.attribute, this.samples[i] as AttributeSample));
  }

  /**
   * Takes new point results and returns the attributes they affect, recomputed.
   * With `all`, returns every mapped attribute (a full poll).
   * The map and its samples belong to the normalizer and are rewritten by the next call: read
   * them before calling again (copy what must be kept).
   */
  ingest(results: readonly ReadResult[], all: boolean): ReadonlyMap<string, AttributeSample> {
    const touched = this.touched;
    touched.clear();
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
      if (!all) {
        const readers = this.readers.get(r.id);
        if (readers !== undefined) for (const i of readers) touched.add(i);
      }
    }
    if (all) {
      for (let i = 0; i < this.mappings.length; i++) this.compute(this.mappings[i]!, i, this.samples[i]!);
      return this.all;
    }
    const out = this.some;
    out.clear();
    for (const i of touched) {
      const sample = this.samples[i]!;
      this.compute(this.mappings[i]!, i, sample);
      out.set(this.mappings[i]!.attribute, sample as AttributeSample);
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

  /** The state of the first point of mapping `i` (states are made once per point and kept). */
  private firstPoint(m: Mapping, i: number): PointState | undefined {
    let p = this.inputs[i];
    if (p === undefined) {
      p = this.points.get(m.pointIds[0]!);
      this.inputs[i] = p;
    }
    return p;
  }

  private compute(m: Mapping, i: number, out: OwnSample): void {
    // The common case, a `value` mapping of a good number or bool into a property of its kind,
    // gives the point's value as is: what applyMapping and coerceToModel would say, without
    // their two result objects per attribute per poll.
    if (m.kind === 'value' && m.precision === undefined && m.pointIds.length > 0) {
      const p = this.firstPoint(m, i);
      if (p !== undefined && p.quality !== 'bad' && (typeof p.value === 'boolean' || (typeof p.value === 'number' && Number.isFinite(p.value)))) {
        const prop = this.props[i];
        if (prop === undefined || keepsValue(prop, p.value)) return set(out, p.value, p.quality === 'uncertain' ? 'uncertain' : 'good', undefined);
      }
    }
    this.firstError = undefined;
    const mapped = applyMapping(m, this.lookup);
    const firstError = this.firstError as PointError | undefined;
    if (mapped.quality === 'bad') {
      const reason = 'reason' in mapped ? mapped.reason : 'bad input';
      return set(out, null, 'bad', firstError ?? { code: 'Protocol', message: reason });
    }
    const prop = this.model.get(m.attribute);
    if (prop === undefined) return set(out, mapped.value, mapped.quality, undefined);
    const coerced = coerceToModel(prop, mapped.value);
    if (!coerced.ok) return set(out, null, 'bad', { code: 'BadValue', message: `${m.attribute}: ${coerced.error}` });
    set(out, coerced.value, mapped.quality, undefined);
  }
}

function set(s: OwnSample, value: AttributeValue, quality: Quality, error: PointError | undefined): void {
  s.value = value;
  s.quality = quality;
  s.error = error;
}
