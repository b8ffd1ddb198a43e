/**
 * The shadow card of the device page: reported, desired and delta per property, the versions,
 * and a form that writes new values through POST /api/v1/devices/:name/properties (validated
 * by the gateway like a desired value from the cloud). A rejected property shows its error
 * next to its field; nothing is written when any property is rejected.
 */
import { api, ApiError } from '../api.ts';
import { fill, h, setText } from '../dom.ts';
import { value as fmt } from '../format.ts';
import type { ModelProperty, Shadow } from '../types.ts';

const INT = new Set(['int16', 'int32', 'int64', 'uint16', 'uint32', 'uint64']);
const FLOAT = new Set(['float32', 'float64']);

interface Row {
  readonly reported: HTMLElement;
  readonly desired: HTMLElement;
  readonly delta: HTMLElement;
  readonly input?: HTMLInputElement | HTMLSelectElement;
  readonly error?: HTMLElement;
}

function inputFor(p: ModelProperty): HTMLInputElement | HTMLSelectElement {
  const common = { name: p.name, id: `set-${p.name}`, 'aria-describedby': `err-${p.name}` };
  if (p.type === 'bool') return h('select', { ...common, class: 'field' }, h('option', { value: '' }, 'unchanged'), h('option', { value: 'true' }, 'On'), h('option', { value: 'false' }, 'Off'));
  const range = p.min !== undefined || p.max !== undefined ? `${p.min ?? '−∞'} … ${p.max ?? '∞'}` : INT.has(p.type) ? 'integer' : FLOAT.has(p.type) ? 'number' : p.type;
  return h('input', {
    ...common,
    class: 'field',
    type: INT.has(p.type) || FLOAT.has(p.type) ? 'number' : 'text',
    step: INT.has(p.type) ? '1' : 'any',
    placeholder: range,
    autocomplete: 'off',
  });
}

/** The value to send for a field, or undefined when the field is empty. */
function parse(p: ModelProperty, raw: string): number | boolean | string | undefined {
  if (raw.trim() === '') return undefined;
  if (p.type === 'bool') return raw === 'true';
  if (INT.has(p.type) || FLOAT.has(p.type)) return Number(raw);
  return raw;
}

export class ShadowCard {
  readonly el: HTMLElement;
  private readonly rows = new Map<string, Row>();
  private readonly versions = h('div', { class: 'versions' });
  private readonly status = h('div', { class: 'form-status', role: 'status' });

  constructor(
    private readonly device: string,
    private readonly model: readonly ModelProperty[],
    private readonly onWritten: () => void,
  ) {
    const body = model.map((p) => {
      const row: Row = {
        reported: h('td', { class: 'mono' }),
        desired: h('td', { class: 'mono' }),
        delta: h('td', { class: 'mono' }),
        ...(p.mode === 'rw' ? { input: inputFor(p), error: h('div', { class: 'field-error', id: `err-${p.name}` }) } : {}),
      };
      this.rows.set(p.name, row);
      return h(
        'tr',
        { dataset: { prop: p.name } },
        h('th', { scope: 'row' }, h('label', { for: `set-${p.name}` }, p.name), h('div', { class: 'muted small' }, `${p.type}${p.unit ? ` · ${p.unit}` : ''}`)),
        row.reported,
        row.desired,
        row.delta,
        h('td', { class: 'set-cell' }, row.input ? [row.input, row.error] : h('span', { class: 'muted small' }, 'read-only')),
      );
    });
    const writable = model.some((p) => p.mode === 'rw');
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', disabled: !writable }, 'Apply');
    const form = h(
      'form',
      { class: 'shadow-form', id: 'desired-form', novalidate: true, onsubmit: (e: Event) => (e.preventDefault(), void this.submit(submit)) },
      h(
        'table',
        { class: 'table table-compact' },
        h('thead', null, h('tr', null, h('th', null, 'Property'), h('th', null, 'Reported'), h('th', null, 'Desired'), h('th', null, 'Delta'), h('th', null, 'Set desired value'))),
        h('tbody', null, body),
      ),
      h(
        'div',
        { class: 'form-foot' },
        h('p', { class: 'muted small' }, writable ? 'Values are validated (mode, type, range) and written to the device at once; nothing is written if any value is refused.' : 'This model has no writable property.'),
        this.status,
        submit,
      ),
    );
    this.el = h('div', null, this.versions, form);
  }

  show(s: Shadow): void {
    fill(
      this.versions,
      h('span', { class: 'chip' }, `reported v${s.reportVersion}`),
      h('span', { class: 'chip' }, `desired v${s.desireVersion}`),
      h('span', { class: `chip ${Object.keys(s.delta).length > 0 ? 'chip-warn' : ''}` }, `${Object.keys(s.delta).length} in delta`),
    );
    for (const [name, row] of this.rows) {
      setText(row.reported, name in s.report ? fmt(s.report[name]) : '—');
      setText(row.desired, name in s.desire ? fmt(s.desire[name]) : '—');
      setText(row.delta, name in s.delta && s.delta[name] !== null ? fmt(s.delta[name]) : '—');
    }
  }

  private async submit(button: HTMLButtonElement): Promise<void> {
    const properties: Record<string, number | boolean | string> = {};
    for (const p of this.model) {
      const row = this.rows.get(p.name)!;
      row.error && setText(row.error, '');
      row.input?.classList.remove('field-invalid');
      if (!row.input) continue;
      const v = parse(p, row.input.value);
      if (v !== undefined) properties[p.name] = v;
    }
    this.status.className = 'form-status';
    if (Object.keys(properties).length === 0) {
      setText(this.status, 'Enter a value to set.');
      return;
    }
    button.disabled = true;
    setText(this.status, 'Writing…');
    try {
      await api('POST', `/api/v1/devices/${encodeURIComponent(this.device)}/properties`, { properties });
      this.status.className = 'form-status text-ok';
      setText(this.status, `Written: ${Object.entries(properties).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ')}`);
      for (const row of this.rows.values()) if (row.input) row.input.value = '';
      this.onWritten();
    } catch (e) {
      this.status.className = 'form-status text-bad';
      const errors = e instanceof ApiError ? (e.body?.error.errors ?? []) : [];
      const field = e instanceof ApiError ? e.body?.error.field?.replace(/^properties\./, '') : undefined;
      let placed = 0;
      for (const err of errors.length > 0 ? errors : field ? [{ property: field, message: e instanceof Error ? e.message : String(e) }] : []) {
        const row = this.rows.get(err.property);
        if (row?.error && row.input) {
          setText(row.error, err.message);
          row.input.classList.add('field-invalid');
          placed++;
        }
      }
      setText(this.status, placed > 0 ? 'Nothing was written: fix the marked field.' : e instanceof Error ? e.message : String(e));
    } finally {
      button.disabled = false;
    }
  }
}
