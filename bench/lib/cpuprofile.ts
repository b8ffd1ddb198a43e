/**
 * Summarizes a V8 `.cpuprofile` (written by `node --cpu-prof`): self time per function, as
 * `file:function` with its share of all samples and of the non-idle ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** One row of the summary. */
export interface Hotspot {
  readonly where: string;
  readonly selfMs: number;
  /** Percent of all sampled time. */
  readonly pct: number;
  /** Percent of the sampled time that was not idle (or garbage collection, program, root). */
  readonly pctBusy: number;
}

const IDLE = new Set(['(idle)', '(root)', '(program)']);

/** Shortens a script URL to a path relative to `root` (or to node_modules/<pkg>/…). */
function shortUrl(url: string, root: string): string {
  if (url === '') return '(native)';
  const p = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  return p.startsWith(root) ? path.relative(root, p) : p;
}

/** Where a frame's code lives, coarsely: our source file, or an npm package, or node itself. */
function groupOf(url: string, root: string): string | undefined {
  if (url === '') return undefined;
  const p = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (p.startsWith('node:')) return undefined;
  return p.startsWith(root) ? path.relative(root, p) : undefined;
}

/**
 * The `top` functions by self time, and the `top` files/packages by inclusive time (a sample
 * counts for every file or package on its stack, once), from a profile file.
 */
export function summarizeProfile(file: string, root: string, top = 20): { totalMs: number; busyMs: number; rows: Hotspot[]; inclusive: { group: string; ms: number; pctBusy: number }[] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  // A sample's time is the delta to the next one.
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const agg = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    total += us;
    if (!IDLE.has(name)) busy += us;
    const where = IDLE.has(name) || name === '(garbage collector)' ? name : `${shortUrl(n.callFrame.url, root)}:${name}${n.callFrame.lineNumber > 0 ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    agg.set(where, (agg.get(where) ?? 0) + us);
  }
  // Inclusive time by file or package.
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const g = groupOf(byId.get(cur)?.callFrame.url ?? '', root);
      if (g !== undefined) seen.add(g);
    }
    for (const g of seen) incl.set(g, (incl.get(g) ?? 0) + us);
  }
  const inclusive = [...incl]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([group, us]) => ({ group, ms: us / 1000, pctBusy: (100 * us) / Math.max(1, busy) }));
  const rows = [...agg]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({ where, selfMs: us / 1000, pct: (100 * us) / Math.max(1, total), pctBusy: IDLE.has(where) ? 0 : (100 * us) / Math.max(1, busy) }));
  return { totalMs: total / 1000, busyMs: busy / 1000, rows, inclusive };
}
