/** The device list: state, driver, link, last poll and counters of every device, kept live. */
import { api } from '../api.ts';
import { fill, h, setText } from '../dom.ts';
import { ago, count, duration } from '../format.ts';
import { liveStream } from '../live.ts';
import type { DeviceSummary } from '../types.ts';
import { badge, empty, errorBox, linkTone, onlineBadge, pageHead, stat } from '../ui.ts';

/** An error badge when the device has failed: red while offline (unless it only says so), amber once it recovered. */
function errorBadge(d: DeviceSummary): HTMLElement | null {
  if (d.lastError === null) return null;
  if (d.online === false) return d.lastError.code === 'Offline' ? null : badge(d.lastError.code, 'bad', { title: d.lastError.message, 'data-error': d.lastError.code });
  return d.online === null
    ? badge(d.lastError.code, 'warn', { title: d.lastError.message, 'data-error': d.lastError.code })
    : badge(`${d.lastError.code} · recovered`, 'warn', { title: `last error: ${d.lastError.message}`, 'data-error': d.lastError.code });
}

export function devicesPage(root: HTMLElement, _params: Record<string, string>, signal: AbortSignal): void {
  const stats = h('div', { class: 'stats' });
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Filter by name, model or driver', 'aria-label': 'Filter devices' });
  const body = h('div', { class: 'card-body flush' }, h('div', { class: 'loading' }, 'Loading devices…'));
  fill(
    root,
    pageHead('Devices', 'Every sub-device this gateway polls, with its link and counters. Updates live.', search),
    stats,
    h('section', { class: 'card' }, body),
  );
  let devices: DeviceSummary[] = [];
  const pollCells = new Map<string, HTMLElement>();

  const render = () => {
    const online = devices.filter((d) => d.online === true).length;
    const offline = devices.filter((d) => d.online === false).length;
    const erroring = devices.filter((d) => d.lastError !== null).length;
    fill(
      stats,
      stat('Devices', count(devices.length)),
      stat('Online', count(online), 'ok'),
      stat('Offline', count(offline), offline > 0 ? 'bad' : undefined),
      stat('Had errors', count(erroring), erroring > 0 ? 'warn' : undefined),
    );
    const q = search.value.trim().toLowerCase();
    const shown = devices.filter((d) => q === '' || [d.name, d.product, d.driver, d.instance].some((x) => x.toLowerCase().includes(q)));
    pollCells.clear();
    if (devices.length === 0) return fill(body, empty('No devices are configured.'));
    if (shown.length === 0) return fill(body, empty(`No device matches “${search.value}”.`));
    const rows = shown.map((d) => {
      const last = h('span', { class: 'muted', title: d.lastPollAt ? new Date(d.lastPollAt).toLocaleString() : '' }, ago(d.lastPollAt));
      pollCells.set(d.name, last);
      const href = `#/devices/${encodeURIComponent(d.name)}`;
      const c = d.counters;
      return h(
        'tr',
        { class: 'row-link', dataset: { device: d.name }, onclick: (e: MouseEvent) => (e.target as Element).closest('a') === null && (location.hash = href) },
        h('td', null, h('a', { href, class: 'device-name' }, d.name), h('div', { class: 'muted small' }, `${d.product} · ${d.accessTemplate}`)),
        h('td', null, h('div', { class: 'badges' }, onlineBadge(d.online), errorBadge(d))),
        h('td', null, h('span', { class: 'mono' }, d.driver), h('div', { class: 'muted small' }, d.instance)),
        h('td', null, badge(d.link.state, linkTone(d.link.state)), h('div', { class: 'muted small mono ellipsis', title: d.link.key }, d.link.key.split('/').slice(1).join('/').replace(/^tcp:/, ''))),
        h('td', { class: 'nowrap' }, last, h('div', { class: 'muted small' }, `every ${duration(d.interval)}`)),
        h('td', { class: 'num' }, count(c.polls), c.failedPolls > 0 ? h('div', { class: 'small text-bad' }, `${count(c.failedPolls)} failed`) : null),
        h('td', { class: 'num' }, count(c.pointsRead), c.badPoints > 0 ? h('div', { class: 'small text-bad' }, `${count(c.badPoints)} bad`) : null),
        h('td', { class: 'num' }, count(c.published)),
        h(
          'td',
          { class: 'error-cell' },
          d.lastError
            ? h('div', { class: `error-text ${d.online === false ? 'text-bad' : 'muted'}`, title: d.lastError.message }, d.lastError.message)
            : h('span', { class: 'muted' }, '—'),
        ),
      );
    });
    fill(
      body,
      h(
        'div',
        { class: 'scroll-x' },
          h(
          'table',
          { class: 'table', id: 'device-table' },
          h('thead', null, h('tr', null, ['Device', 'State', 'Driver', 'Link', 'Last poll', 'Polls', 'Points read', 'Published', 'Last error'].map((t, i) => h('th', { class: i >= 5 && i <= 7 ? 'num' : '' }, t)))),
          h('tbody', null, rows),
        ),
      ),
    );
  };

  const load = async () => {
    try {
      devices = await api<DeviceSummary[]>('GET', '/api/v1/devices', undefined, signal);
      render();
    } catch (e) {
      if (!signal.aborted) fill(body, errorBox(e));
    }
  };
  // Status events arrive on every poll of any device: refresh at most once a second.
  let timer: number | undefined;
  const refresh = () => {
    if (timer !== undefined) return;
    timer = window.setTimeout(() => {
      timer = undefined;
      void load();
    }, 1000);
  };
  search.addEventListener('input', render);
  const ticker = window.setInterval(() => {
    for (const d of devices) {
      const cell = pollCells.get(d.name);
      if (cell) setText(cell, ago(d.lastPollAt));
    }
  }, 1000);
  signal.addEventListener('abort', () => {
    clearInterval(ticker);
    if (timer !== undefined) clearTimeout(timer);
  });
  void load();
  liveStream(undefined, { onEvent: (e) => (e.type === 'status' || e.type === 'lifecycle' ? refresh() : undefined), onOpen: () => void load() }, signal, ['status', 'lifecycle']);
}
