/** How values, times and durations read in the console. */

/** "just now", "12 s ago", "3 min ago", or a clock time for older moments. */
export function ago(ts: number | null | undefined, now = Date.now()): string {
  if (ts === null || ts === undefined) return 'never';
  const s = Math.round((now - ts) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ts).toLocaleString();
}

/** A clock time with seconds, and the date when not today. */
export function clock(ts: number): string {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return today ? t : `${d.toLocaleDateString()} ${t}`;
}

/** A poll interval: "200 ms", "5 s", "1 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)} s`;
  return `${+(ms / 60_000).toFixed(1)} min`;
}

/** A number with at most 3 decimals and thousands separators; other values as text. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return v.toLocaleString(undefined, { maximumFractionDigits: Math.abs(v) >= 1000 ? 1 : 3 });
  }
  if (typeof v === 'boolean') return v ? 'On' : 'Off';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function count(n: number): string {
  return n.toLocaleString();
}
