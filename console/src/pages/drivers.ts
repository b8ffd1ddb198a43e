/** Drivers in use (version, SDK range, capabilities, instances) and the links with their state. */
import { api } from '../api.ts';
import { fill, h } from '../dom.ts';
import { count } from '../format.ts';
import type { DriverInfo, LinkInfo } from '../types.ts';
import { badge, card, empty, errorBox, linkTone, pageHead } from '../ui.ts';

function capabilities(c: Record<string, boolean | number>): HTMLElement {
  return h(
    'div',
    { class: 'chips' },
    Object.entries(c).map(([k, v]) => (typeof v === 'boolean' ? h('span', { class: `chip ${v ? 'chip-ok' : 'chip-off'}` }, v ? '✓ ' : '✗ ', k) : h('span', { class: 'chip' }, `${k}: ${v}`))),
  );
}

export function driversPage(root: HTMLElement, _params: Record<string, string>, signal: AbortSignal): void {
  const driversBody = h('div', null, h('div', { class: 'loading' }, 'Loading…'));
  const linksBody = h('div', { class: 'flush-table' }, h('div', { class: 'loading' }, 'Loading…'));
  fill(root, pageHead('Drivers & links', 'Protocol drivers in use, and the shared connections (links) they poll through.'), card('Drivers', driversBody), card('Links', linksBody));

  const load = async () => {
    try {
      const [drivers, links] = await Promise.all([api<DriverInfo[]>('GET', '/api/v1/drivers', undefined, signal), api<LinkInfo[]>('GET', '/api/v1/links', undefined, signal)]);
      fill(
        driversBody,
        drivers.length === 0
          ? empty('No driver is in use.')
          : h(
              'div',
              { class: 'driver-grid' },
              drivers.map((d) =>
                h(
                  'article',
                  { class: 'driver', dataset: { driver: d.id } },
                  h('header', null, h('h3', null, d.title), h('span', { class: 'chip mono' }, `${d.id} ${d.version}`)),
                  h('dl', { class: 'facts' }, h('dt', null, 'SDK'), h('dd', { class: 'mono' }, d.sdkVersion), h('dt', null, 'Instances'), h('dd', null, d.instances.join(', ')), h('dt', null, 'Devices'), h('dd', null, count(d.devices))),
                  capabilities(d.capabilities),
                ),
              ),
            ),
      );
      fill(
        linksBody,
        links.length === 0
          ? empty('No link is open.')
          : h(
              'table',
              { class: 'table', id: 'link-table' },
              h('thead', null, h('tr', null, ['Link', 'State', 'Connects', 'Failures', 'Reconnects', 'Calls', 'Error'].map((t, i) => h('th', { class: i >= 2 && i <= 5 ? 'num' : '' }, t)))),
              h(
                'tbody',
                null,
                links.map((l) =>
                  h(
                    'tr',
                    null,
                    h('td', { class: 'mono' }, l.key),
                    h('td', null, badge(l.state, linkTone(l.state))),
                    h('td', { class: 'num' }, count(l.stats.connects)),
                    h('td', { class: 'num' }, count(l.stats.failures)),
                    h('td', { class: 'num' }, count(l.stats.reconnects)),
                    h('td', { class: 'num' }, count(l.stats.calls)),
                    h('td', { class: 'error-cell' }, l.error ? h('span', { class: 'text-bad small' }, l.error) : h('span', { class: 'muted' }, '—')),
                  ),
                ),
              ),
            ),
      );
    } catch (e) {
      if (!signal.aborted) fill(driversBody, errorBox(e));
    }
  };
  void load();
  const timer = window.setInterval(() => void load(), 3000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
