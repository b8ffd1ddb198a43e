/**
 * ISO 8601 durations as ONVIF uses them (`PT1M`, `PT0.5S`, `PT2M`; XML Schema `xs:duration`
 * without years or months, which have no fixed length) and the `InitialTerminationTime` /
 * `TerminationTime` values of WS-BaseNotification (a duration or an absolute `xs:dateTime`).
 */

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an `xs:duration`, or undefined when it is not one we accept. */
export function parseIsoDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  if (m === null || s.trim() === 'P' || s.trim().endsWith('T')) return undefined;
  const [, d, h, min, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(sec ?? 0) * 1000);
}

/** A termination time given as a duration from `now` or an absolute date; undefined when neither. */
export function parseTerminationTime(s: string, now: number): number | undefined {
  const d = parseIsoDuration(s);
  if (d !== undefined) return now + d;
  const t = Date.parse(s.trim());
  return /^\d{4}-\d{2}-\d{2}T/.test(s.trim()) && Number.isFinite(t) ? t : undefined;
}
