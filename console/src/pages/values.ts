/** The live value tiles of the device page: value, unit, quality, time and a sparkline each. */
import { h, setText } from '../dom.ts';
import { ago, value as fmt } from '../format.ts';
import { Sparkline } from '../sparkline.ts';
import type { ModelProperty, PropertyValue } from '../types.ts';

interface Tile {
  readonly el: HTMLElement;
  readonly value: HTMLElement;
  readonly time: HTMLElement;
  readonly quality: HTMLElement;
  readonly range: HTMLElement;
  readonly spark: Sparkline | undefined;
  last: PropertyValue | undefined;
}

const NUMERIC = new Set(['int16', 'int32', 'int64', 'uint16', 'uint32', 'uint64', 'float32', 'float64']);

export class ValueTiles {
  readonly el: HTMLElement;
  private readonly tiles = new Map<string, Tile>();

  constructor(model: readonly ModelProperty[], initial: Record<string, PropertyValue>, series: Record<string, [number, number][]>, windowMs: number) {
    this.el = h('div', { class: 'tiles', id: 'live-values' });
    for (const p of model) {
      const numeric = NUMERIC.has(p.type);
      const spark = numeric ? new Sparkline(series[p.name] ?? [], windowMs) : undefined;
      const value = h('span', { class: 'tile-value' }, '—');
      const time = h('span', { class: 'tile-time muted small' });
      const quality = h('span', { class: 'quality' });
      const range = h('span', { class: 'tile-range muted small' });
      const el = h(
        'article',
        { class: 'tile', dataset: { prop: p.name } },
        h('header', { class: 'tile-head' }, h('span', { class: 'tile-name' }, p.name), p.mode === 'rw' ? h('span', { class: 'chip', title: 'writable' }, 'rw') : null, quality),
        h('div', { class: 'tile-main' }, value, p.unit ? h('span', { class: 'tile-unit' }, p.unit) : null),
        spark ? h('div', { class: 'tile-spark' }, spark.el) : h('div', { class: 'tile-spark tile-spark-none' }),
        h('footer', { class: 'tile-foot' }, time, range),
      );
      this.tiles.set(p.name, { el, value, time, quality, range, spark, last: undefined });
      this.el.append(el);
    }
    this.update(initial, false);
  }

  /** Applies new samples; changed values flash briefly. */
  update(props: Record<string, PropertyValue>, live = true): void {
    for (const [name, pv] of Object.entries(props)) {
      const t = this.tiles.get(name);
      if (t === undefined) continue;
      const text = pv.quality === 'bad' ? '—' : fmt(pv.value);
      const changed = t.value.textContent !== text;
      setText(t.value, text);
      t.el.classList.toggle('tile-bad', pv.quality === 'bad');
      t.el.classList.toggle('tile-bool-on', pv.value === true);
      t.quality.className = `quality quality-${pv.quality}`;
      t.quality.title = pv.error ? `${pv.error.code}: ${pv.error.message}` : `quality ${pv.quality}`;
      setText(t.quality, pv.quality === 'good' ? '' : pv.error?.code ?? pv.quality);
      t.last = pv;
      if (t.spark && pv.quality !== 'bad' && (typeof pv.value === 'number' || typeof pv.value === 'string') && Number.isFinite(Number(pv.value))) {
        t.spark.push(pv.ts, Number(pv.value));
        const r = t.spark.range();
        setText(t.range, r && r[0] !== r[1] ? `${fmt(r[0])} – ${fmt(r[1])}` : '');
      }
      if (live && changed) {
        t.el.classList.remove('flash');
        void t.el.offsetWidth; // restart the animation
        t.el.classList.add('flash');
      }
    }
    this.tick();
  }

  /** Refreshes the "… ago" labels. */
  tick(): void {
    for (const t of this.tiles.values()) setText(t.time, t.last ? ago(t.last.ts) : 'no sample yet');
  }
}
