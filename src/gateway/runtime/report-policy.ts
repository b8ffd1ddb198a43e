/**
 * Which attribute values to publish: report by exception with Baetyl's knobs, in the semantics
 * Baetyl intended (its own filter is one-sided and, in baetyl-gateway, never suppresses anything):
 * - `deviation` (percent): publish when |new - last| >= deviation% of |last| (both directions);
 * - `deadband` (fieldgate, absolute): publish when |new - last| >= deadband;
 *   with both set, either one firing publishes; with neither set, every sample is published
 *   (Baetyl's `deviation: 0`), unless the gateway runs with `onChangeOnly`;
 * - `silentWin` (ms): publish when the attribute has not been published for that long;
 * - the gateway-wide heartbeat (ms): publish every attribute at least that often;
 * - a change of quality (good ↔ bad/uncertain) is always published.
 */
import type { AttributeValue, Quality } from '../../devicemodel/types.ts';

/** The knobs of one attribute. */
export interface AttributeRule {
  readonly deviation: number;
  readonly deadband: number;
  readonly silentWin: number;
}

export interface PolicyOptions {
  /** Gateway-wide: publish each attribute at least this often (ms); 0 = off. */
  readonly heartbeat: number;
  /** Gateway-wide: with no deviation/deadband set, publish only values that changed. */
  readonly onChangeOnly: boolean;
}

interface Last {
  value: AttributeValue;
  quality: Quality;
  at: number;
  /** The attribute's rule, looked up once (rules do not change). */
  readonly rule: AttributeRule;
}

export interface Sample {
  readonly value: AttributeValue;
  readonly quality: Quality;
}

const NO_RULE: AttributeRule = { deviation: 0, deadband: 0, silentWin: 0 };

/** Report-by-exception state of one device. */
export class ReportPolicy {
  private readonly last = new Map<string, Last>();

  /** `rules` must not change afterwards: each attribute's rule is looked up once and kept. */
  constructor(
    private readonly rules: ReadonlyMap<string, AttributeRule>,
    private readonly options: PolicyOptions,
  ) {}

  /** Decides for one attribute, and records it as published when it passes. */
  admit(attribute: string, sample: Sample, now: number): boolean {
    const last = this.last.get(attribute);
    if (last === undefined) {
      this.last.set(attribute, { value: sample.value, quality: sample.quality, at: now, rule: this.rules.get(attribute) ?? NO_RULE });
      return true;
    }
    if (this.due(sample, last, now)) {
      last.value = sample.value;
      last.quality = sample.quality;
      last.at = now;
      return true;
    }
    return false;
  }

  /** Forgets what was published (e.g. after the device came back online: resend everything). */
  reset(): void {
    this.last.clear();
  }

  private due(sample: Sample, last: Last, now: number): boolean {
    if (sample.quality !== last.quality) return true;
    const rule = last.rule;
    const age = now - last.at;
    if (rule.silentWin > 0 && age >= rule.silentWin) return true;
    if (this.options.heartbeat > 0 && age >= this.options.heartbeat) return true;
    const a = toNumber(sample.value);
    const b = toNumber(last.value);
    if (a !== undefined && b !== undefined) {
      const delta = Math.abs(a - b);
      if (rule.deviation > 0 || rule.deadband > 0) {
        if (delta === 0) return false;
        if (rule.deviation > 0 && delta >= (Math.abs(b) * rule.deviation) / 100) return true;
        if (rule.deadband > 0 && delta >= rule.deadband) return true;
        return false;
      }
      return this.options.onChangeOnly ? delta !== 0 : true;
    }
    // Non-numeric values: a deviation/deadband rule means "on change" for them.
    const byChange = this.options.onChangeOnly || rule.deviation > 0 || rule.deadband > 0;
    return byChange ? !sameValue(sample.value, last.value) : true;
  }
}

function toNumber(v: AttributeValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}
