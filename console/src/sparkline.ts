/**
 * An inline SVG sparkline of the last minutes of one numeric property. Samples arrive live and
 * are trimmed to the window; the line is scaled to the samples' own time and value range.
 */
import { s } from './dom.ts';

const W = 240;
const H = 48;
const PAD = 4;

export class Sparkline {
  readonly el: SVGSVGElement;
  private readonly line: SVGPathElement;
  private readonly area: SVGPathElement;
  private readonly dot: SVGCircleElement;
  private points: [number, number][];

  constructor(
    initial: readonly [number, number][],
    private readonly windowMs: number,
  ) {
    this.points = [...initial];
    this.area = s('path', { class: 'spark-area' });
    this.line = s('path', { class: 'spark-line' });
    this.dot = s('circle', { class: 'spark-dot', r: '2.5' });
    this.el = s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'trend of the last minutes' }, this.area, this.line, this.dot);
    this.draw();
  }

  /** Adds a sample (ignored when not newer than the last one). */
  push(ts: number, v: number): void {
    const last = this.points[this.points.length - 1];
    if (last !== undefined && ts <= last[0]) return;
    this.points.push([ts, v]);
    const from = ts - this.windowMs;
    while (this.points.length > 2 && this.points[0]![0] < from) this.points.shift();
    if (this.points.length > 600) this.points.splice(0, this.points.length - 600);
    this.draw();
  }

  /** Lowest and highest value shown. */
  range(): [number, number] | undefined {
    if (this.points.length === 0) return undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, v] of this.points) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return [lo, hi];
  }

  private draw(): void {
    const pts = this.points;
    if (pts.length < 2) {
      this.line.setAttribute('d', '');
      this.area.setAttribute('d', '');
      this.dot.setAttribute('visibility', 'hidden');
      return;
    }
    const t0 = pts[0]![0];
    const t1 = pts[pts.length - 1]![0];
    const [lo, hi] = this.range()!;
    const span = hi - lo || Math.abs(hi) || 1;
    const x = (t: number) => PAD + ((t - t0) / (t1 - t0 || 1)) * (W - 2 * PAD);
    const y = (v: number) => (hi === lo ? H / 2 : H - PAD - ((v - lo) / span) * (H - 2 * PAD));
    let d = '';
    for (const [t, v] of pts) d += `${d === '' ? 'M' : 'L'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
    this.line.setAttribute('d', d);
    this.area.setAttribute('d', `${d}L${x(t1).toFixed(1)} ${H}L${x(t0).toFixed(1)} ${H}Z`);
    const [lt, lv] = pts[pts.length - 1]!;
    this.dot.setAttribute('cx', x(lt).toFixed(1));
    this.dot.setAttribute('cy', y(lv).toFixed(1));
    this.dot.setAttribute('visibility', 'visible');
  }
}
