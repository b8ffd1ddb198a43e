/** One device: live values with sparklines, the shadow with the write form, lifecycle, counters. */
import { api } from '../api.ts';
import { fill, h, setText } from '../dom.ts';
import { ago, clock, count, duration } from '../format.ts';
import { liveStream } from '../live.ts';
import type { DeviceDetail, History, LifecycleEntry, Shadow } from '../types.ts';
import { badge, card, errorBox, linkTone, onlineBadge, pageHead, stat } from '../ui.ts';
import { ShadowCard } from './shadow.ts';
import { ValueTiles } from './values.ts';

function lifecycleItem(e: LifecycleEntry): HTMLElement {
  return h(
    'li',
    { class: `timeline-item ${e.online ? 'is-online' : 'is-offline'}` },
    h('span', { class: 'timeline-dot' }),
    h('div', null, h('div', null, h('b', null, e.online ? 'Online' : 'Offline'), h('span', { class: 'muted small' }, ` · ${clock(e.at)}`)), e.error ? h('div', { class: 'small text-bad' }, `${e.error.code}: ${e.error.message}`) : null),
  );
}

export function devicePage(root: HTMLElement, params: Record<string, string>, signal: AbortSignal): void {
  const name = params.name ?? '';
  const enc = encodeURIComponent(name);
  fill(root, h('div', { class: 'loading' }, `Loading ${name}…`));

  const start = async () => {
    let detail: DeviceDetail;
    let history: History;
    let shadow: Shadow;
    try {
      [detail, history, shadow] = await Promise.all([
        api<DeviceDetail>('GET', `/api/v1/devices/${enc}`, undefined, signal),
        api<History>('GET', `/api/v1/devices/${enc}/history`, undefined, signal),
        api<Shadow>('GET', `/api/v1/devices/${enc}/shadow`, undefined, signal),
      ]);
    } catch (e) {
      if (!signal.aborted) fill(root, h('a', { href: '#/devices', class: 'back' }, '← Devices'), errorBox(e));
      return;
    }

    const stateSlot = h('span', { class: 'state-slot' });
    const stats = h('div', { class: 'stats' });
    const tiles = new ValueTiles(detail.model, detail.properties, history.series, history.windowMs);
    const timeline = h('ol', { class: 'timeline', id: 'lifecycle' });
    const refreshShadow = async () => {
      try {
        shadowCard.show(await api<Shadow>('GET', `/api/v1/devices/${enc}/shadow`, undefined, signal));
      } catch {
        // The next live event retries.
      }
    };
    const shadowCard = new ShadowCard(name, detail.model, () => void refreshShadow());
    const readNow = h('button', { class: 'btn', type: 'button' }, 'Read now');
    const connection = h('span', { class: 'live-state', title: 'live stream' }, 'connecting…');

    const showSummary = (d: DeviceDetail) => {
      fill(stateSlot, onlineBadge(d.online));
      const c = d.counters;
      fill(
        stats,
        stat('Last poll', h('span', { class: 'js-last-poll', dataset: { ts: String(d.lastPollAt ?? '') } }, ago(d.lastPollAt))),
        stat('Link', badge(d.link.state, linkTone(d.link.state))),
        stat('Polls', count(c.polls)),
        stat('Failed polls', count(c.failedPolls), c.failedPolls > 0 ? 'bad' : undefined),
        stat('Bad points', count(c.badPoints), c.badPoints > 0 ? 'warn' : undefined),
        stat('Published', count(c.published)),
        stat('Writes', count(c.writes)),
        stat('Overruns', count(c.overruns), c.overruns > 0 ? 'warn' : undefined),
      );
      // The API keeps the last error after recovery: loud while offline, a footnote once online.
      lastError.replaceChildren(
        ...(d.lastError === null
          ? []
          : d.online === false
            ? [h('div', { class: 'alert alert-bad' }, h('b', null, d.lastError.code), ` ${d.lastError.message}`)]
            : [h('div', { class: 'note' }, h('b', null, 'Last error '), `(recovered): ${d.lastError.code} — ${d.lastError.message}`)]),
      );
    };
    const lastError = h('div');
    const showLifecycle = (entries: readonly LifecycleEntry[]) => {
      fill(timeline, entries.length === 0 ? h('li', { class: 'muted' }, 'No change since the gateway started.') : [...entries].reverse().map(lifecycleItem));
    };

    fill(
      root,
      h('a', { href: '#/devices', class: 'back' }, '← Devices'),
      pageHead(
        h('span', { class: 'title-row' }, name, stateSlot),
        h('span', null, `${detail.product} · ${detail.accessTemplate} · `, h('span', { class: 'mono' }, `${detail.driver}/${detail.instance}`), ` · every ${duration(detail.interval)}`),
        h('div', { class: 'actions' }, connection, readNow),
      ),
      lastError,
      stats,
      card('Live values', tiles.el, h('span', { class: 'muted small' }, `trend of the last ${Math.round(history.windowMs / 60000)} min`)),
      h('div', { class: 'columns' }, card('Shadow', shadowCard.el), card('Lifecycle', timeline, h('span', { class: 'muted small' }, 'last 100 changes'))),
    );
    showSummary(detail);
    showLifecycle(history.lifecycle);
    shadowCard.show(shadow);
    let lifecycle = [...history.lifecycle];

    readNow.addEventListener('click', async () => {
      readNow.disabled = true;
      try {
        tiles.update(await api('POST', `/api/v1/devices/${enc}/read`, undefined, signal));
        void refreshShadow();
      } catch (e) {
        lastError.replaceChildren(errorBox(e));
      } finally {
        readNow.disabled = false;
      }
    });

    // Summary and shadow change with every poll: refetch them at most once a second.
    let pending: number | undefined;
    const refresh = () => {
      if (pending !== undefined) return;
      pending = window.setTimeout(async () => {
        pending = undefined;
        try {
          detail = await api<DeviceDetail>('GET', `/api/v1/devices/${enc}`, undefined, signal);
          showSummary(detail);
          await refreshShadow();
        } catch {
          // Shown on the next success.
        }
      }, 1000);
    };
    const ticker = window.setInterval(() => {
      tiles.tick();
      const lp = stats.querySelector<HTMLElement>('.js-last-poll');
      if (lp?.dataset.ts) setText(lp, ago(Number(lp.dataset.ts)));
    }, 1000);
    signal.addEventListener('abort', () => {
      clearInterval(ticker);
      if (pending !== undefined) clearTimeout(pending);
    });
    liveStream(
      name,
      {
        onEvent: (e) => {
          if (e.type === 'values') tiles.update(e.properties);
          else if (e.type === 'lifecycle') {
            lifecycle = [...lifecycle, e.entry].slice(-100);
            showLifecycle(lifecycle);
            refresh();
          } else refresh();
        },
        onOpen: refresh,
        onState: (up) => {
          connection.className = `live-state ${up ? 'is-live' : 'is-down'}`;
          setText(connection, up ? 'live' : 'reconnecting…');
        },
      },
      signal,
    );
  };
  void start();
}
