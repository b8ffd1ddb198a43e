/**
 * One sub-device's shadow (影子), pure: Baetyl's `report` and `desire` plus what Baetyl lacks,
 * a version for each half and per-attribute timestamps and quality. Every function returns a new
 * shadow and leaves its input untouched, so a shadow can be handed out and kept without copying.
 *
 * Semantics follow baetyl-core (`baetyl-go spec/v1/node.go`): report merge = `Report.Merge`,
 * desire = RFC 7386 merge patch, delta = `Desire.Diff`. Versions follow AWS IoT device shadows:
 * a desired update may name the version it expects and fails with a conflict if it is stale.
 */
import type { AttributeValue, Quality } from '../devicemodel/types.ts';
import { ShadowError } from './errors.ts';
import { diffDocs, isDoc, mergePatch, mergeValue, valueEqual, type ShadowDoc } from './json.ts';

/** When and how well an attribute was last reported. */
export interface ReportMeta {
  /** Epoch ms of the sample (from the driver, not from the store). */
  readonly ts: number;
  readonly quality: Quality;
}

/** When a desired attribute was last set. */
export interface DesireMeta {
  readonly ts: number;
}

/** A sub-device shadow. */
export interface Shadow {
  /** The sub-device name (`sub_devices.yml` `devices[].name`). */
  readonly name: string;
  /** Merged from every report (Baetyl `Report`). */
  readonly report: ShadowDoc;
  /** What the cloud asked for (Baetyl `Desire`). */
  readonly desire: ShadowDoc;
  /** Bumped by one on every report that changed a value or a quality; 0 = never reported. */
  readonly reportVersion: number;
  /** Bumped by one on every accepted desired change; 0 = never desired. */
  readonly desireVersion: number;
  /** Per top-level attribute: timestamp and quality of the report, timestamp of the desire. */
  readonly meta: {
    readonly report: Readonly<Record<string, ReportMeta>>;
    readonly desire: Readonly<Record<string, DesireMeta>>;
  };
}

/** One attribute's new sample. `value` absent = keep the last value, update ts and quality only (a failed read). */
export interface PropertyUpdate {
  readonly value?: AttributeValue;
  readonly ts: number;
  readonly quality: Quality;
}

/** Outcome of {@link mergeReport}. */
export interface ReportOutcome {
  readonly shadow: Shadow;
  /** Top-level attributes whose value or quality changed (the version moved iff this is non-empty). */
  readonly changed: readonly string[];
  /** True when anything changed, timestamps included: the shadow needs to be written. */
  readonly touched: boolean;
}

/** Outcome of {@link applyDesire} and {@link clearDesired}. */
export interface DesireOutcome {
  readonly shadow: Shadow;
  /** True when `desire` changed (and `desireVersion` moved). */
  readonly changed: boolean;
}

/** The `getResponse` content baetyl-core sends for a `deviceDesire` request (`dmcontext.DeviceShadow`). */
export interface ShadowAnswer {
  readonly name: string;
  readonly report: ShadowDoc;
  readonly desire: ShadowDoc;
}

/** A shadow that has never been reported nor desired. */
export function emptyShadow(name: string): Shadow {
  return { name, report: {}, desire: {}, reportVersion: 0, desireVersion: 0, meta: { report: {}, desire: {} } };
}

/**
 * Merges reported samples into the shadow like Baetyl's `Report.Merge` (maps merge recursively up
 * to {@link MAX_JSON_LEVEL}, anything else overwrites). `reportVersion` moves by one if any value
 * or quality changed; a newer timestamp alone is recorded but is not a new version.
 * @throws ShadowError `TooDeep`; the shadow is then unchanged.
 */
export function mergeReport(shadow: Shadow, props: Readonly<Record<string, PropertyUpdate>>): ReportOutcome {
  let report: Record<string, AttributeValue> | undefined;
  let metaReport: Record<string, ReportMeta> | undefined;
  const changed: string[] = [];
  for (const key of Object.keys(props)) {
    const upd = props[key] as PropertyUpdate;
    const hadValue = Object.hasOwn(shadow.report, key);
    const old = hadValue ? shadow.report[key] : undefined;
    let valueChanged = false;
    if (upd.value !== undefined) {
      // Level 2: the attribute sits in the document, which is level 1.
      const next = mergeValue(old, upd.value, 2);
      if (!hadValue || (next !== old && !valueEqual(old, next))) {
        report ??= { ...shadow.report };
        define(report, key, next);
        valueChanged = true;
      }
    }
    const oldMeta = Object.hasOwn(shadow.meta.report, key) ? shadow.meta.report[key] : undefined;
    const qualityChanged = oldMeta !== undefined && oldMeta.quality !== upd.quality;
    const metaChanged = oldMeta === undefined || oldMeta.ts !== upd.ts || qualityChanged;
    if (metaChanged) {
      metaReport ??= { ...shadow.meta.report };
      define(metaReport, key, { ts: upd.ts, quality: upd.quality });
    }
    // A first sample without a value (the first read failed) is a quality change worth a version.
    if (valueChanged || qualityChanged || (oldMeta === undefined && upd.value === undefined)) changed.push(key);
  }
  if (report === undefined && metaReport === undefined) return { shadow, changed, touched: false };
  return {
    shadow: {
      ...shadow,
      report: report ?? shadow.report,
      reportVersion: changed.length > 0 ? shadow.reportVersion + 1 : shadow.reportVersion,
      meta: { report: metaReport ?? shadow.meta.report, desire: shadow.meta.desire },
    },
    changed,
    touched: true,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * {@link mergeReport} for the store's own shadows, changing `shadow` in place: the same result,
 * without copying the report and metadata maps on every sample (the hot path of every poll).
 * All new values are computed before anything is changed, so a `TooDeep` error leaves the
 * shadow as it was. Returns what changed; the shadow object stays the same.
 */
export function mergeReportInPlace(shadow: Shadow, props: Readonly<Record<string, PropertyUpdate>>): { changed: string[]; touched: boolean } {
  const report = shadow.report as Record<string, AttributeValue>;
  const metaReport = shadow.meta.report as Record<string, Mutable<ReportMeta>>;
  const keys = Object.keys(props);
  // First pass: merged values of maps (may throw), before any change. Other values are taken as
  // they are, so the common report (numbers, text, bools) needs no array of them.
  let next: (AttributeValue | undefined)[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const upd = props[keys[i]!] as PropertyUpdate;
    if (typeof upd.value !== 'object' || upd.value === null) continue;
    const old = Object.hasOwn(report, keys[i]!) ? report[keys[i]!] : undefined;
    (next ??= new Array(keys.length))[i] = mergeValue(old, upd.value, 2);
  }
  const changed: string[] = [];
  let touched = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const upd = props[key] as PropertyUpdate;
    let valueChanged = false;
    if (upd.value !== undefined) {
      const hadValue = Object.hasOwn(report, key);
      const old = hadValue ? report[key] : undefined;
      const nv = (typeof upd.value === 'object' && upd.value !== null ? next![i] : upd.value) as AttributeValue;
      if (!hadValue || (nv !== old && !valueEqual(old, nv))) {
        define(report, key, nv);
        valueChanged = true;
        touched = true;
      }
    }
    const oldMeta = Object.hasOwn(metaReport, key) ? metaReport[key] : undefined;
    const qualityChanged = oldMeta !== undefined && oldMeta.quality !== upd.quality;
    if (oldMeta === undefined) {
      define(metaReport, key, { ts: upd.ts, quality: upd.quality });
      touched = true;
    } else if (oldMeta.ts !== upd.ts || qualityChanged) {
      oldMeta.ts = upd.ts;
      oldMeta.quality = upd.quality;
      touched = true;
    }
    if (valueChanged || qualityChanged || (oldMeta === undefined && upd.value === undefined)) changed.push(key);
  }
  if (changed.length > 0) (shadow as Mutable<Shadow>).reportVersion = shadow.reportVersion + 1;
  return { changed, touched };
}

/** Options of {@link applyDesire}. */
export interface DesireOptions {
  /** The `desireVersion` the sender based its patch on; a different current version is a conflict. */
  readonly version?: number;
  /** Timestamp recorded for the changed keys; defaults to `Date.now()`. */
  readonly ts?: number;
}

/**
 * Applies an RFC 7386 merge patch to `desire` (`null` deletes a key). With `opts.version`, the
 * patch is accepted only if it equals the current `desireVersion` (AWS IoT shadow semantics);
 * an accepted patch that changes nothing keeps the version.
 * @throws ShadowError `VersionConflict` (detail `current`, `expected`), `BadPatch`, `TooDeep`.
 */
export function applyDesire(shadow: Shadow, patch: unknown, opts: DesireOptions = {}): DesireOutcome {
  if (!isDoc(patch as AttributeValue)) {
    throw new ShadowError('BadPatch', `desired patch for ${shadow.name} must be a JSON object`);
  }
  if (opts.version !== undefined && opts.version !== shadow.desireVersion) {
    throw new ShadowError(
      'VersionConflict',
      `desired version ${opts.version} of ${shadow.name} is not the current version ${shadow.desireVersion}`,
      { detail: { current: shadow.desireVersion, expected: opts.version } },
    );
  }
  const doc = patch as ShadowDoc;
  const desire = mergePatch(shadow.desire, doc) as ShadowDoc;
  if (valueEqual(desire, shadow.desire)) return { shadow, changed: false };
  const ts = opts.ts ?? Date.now();
  const meta: Record<string, DesireMeta> = { ...shadow.meta.desire };
  for (const key of Object.keys(doc)) {
    if (!Object.hasOwn(desire, key)) delete meta[key];
    else if (!Object.hasOwn(shadow.desire, key) || !valueEqual(shadow.desire[key], desire[key])) define(meta, key, { ts });
  }
  return {
    shadow: { ...shadow, desire, desireVersion: shadow.desireVersion + 1, meta: { report: shadow.meta.report, desire: meta } },
    changed: true,
  };
}

/** The delta: desired keys whose value differs from the report (Baetyl `Desire.Diff`, nulls removed). */
export function delta(shadow: Shadow): ShadowDoc {
  return diffDocs(shadow.report, shadow.desire);
}

/**
 * Removes desired keys after a successful write. Given a list of names, removes them outright.
 * Given the written values (`{attr: value}`), removes a key only if its desired value is still the
 * one written: a newer desire that arrived while the write was in flight is kept (prefer this form).
 */
export function clearDesired(shadow: Shadow, keys: readonly string[] | ShadowDoc): DesireOutcome {
  const written = Array.isArray(keys) ? undefined : (keys as ShadowDoc);
  const names = written === undefined ? (keys as readonly string[]) : Object.keys(written);
  let desire: Record<string, AttributeValue> | undefined;
  let meta: Record<string, DesireMeta> | undefined;
  for (const key of names) {
    if (!Object.hasOwn(shadow.desire, key)) continue;
    if (written !== undefined && !valueEqual(shadow.desire[key], written[key])) continue;
    desire ??= { ...shadow.desire };
    meta ??= { ...shadow.meta.desire };
    delete desire[key];
    delete meta[key];
  }
  if (desire === undefined || meta === undefined) return { shadow, changed: false };
  return {
    shadow: { ...shadow, desire, desireVersion: shadow.desireVersion + 1, meta: { report: shadow.meta.report, desire: meta } },
    changed: true,
  };
}

/** The `{name, report, desire}` content of a `getResponse` (baetyl-core `processDownGetMsg`). */
export function shadowAnswer(shadow: Shadow): ShadowAnswer {
  return { name: shadow.name, report: shadow.report, desire: shadow.desire };
}

/** Sets an own key of a plain record, `__proto__` included (as a key, never the prototype). */
export function define<T>(o: Record<string, T>, key: string, value: T): void {
  // Plain assignment is much faster; only `__proto__` would set the prototype instead of a key.
  if (key !== '__proto__') o[key] = value;
  else Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
