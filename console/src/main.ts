/**
 * The console's shell: sidebar navigation, a hash router (#/devices, #/devices/<name>,
 * #/drivers, #/config), the gateway health pill, and the token prompt shown when the API
 * answers 401.
 */
import { api, ApiError, onTokenNeeded, setToken } from './api.ts';
import { fill, h, setText } from './dom.ts';
import { configPage } from './pages/config.ts';
import { devicePage } from './pages/device.ts';
import { devicesPage } from './pages/devices.ts';
import { driversPage } from './pages/drivers.ts';
import type { Health } from './types.ts';

type Page = (root: HTMLElement, params: Record<string, string>, signal: AbortSignal) => void;

const routes: { pattern: RegExp; keys: string[]; page: Page; nav: string }[] = [
  { pattern: /^#\/devices\/([^/]+)$/, keys: ['name'], page: devicePage, nav: 'devices' },
  { pattern: /^#\/devices$/, keys: [], page: devicesPage, nav: 'devices' },
  { pattern: /^#\/drivers$/, keys: [], page: driversPage, nav: 'drivers' },
  { pattern: /^#\/config$/, keys: [], page: configPage, nav: 'config' },
];


function navItem(id: string, label: string, href: string): HTMLAnchorElement {
  return h('a', { class: 'nav-item', href, dataset: { nav: id } }, label);
}

function tokenPrompt(refused: boolean): Promise<void> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'password', class: 'field', id: 'token-input', autocomplete: 'current-password', placeholder: 'Bearer token', required: true });
    const dialog = h(
      'div',
      { class: 'modal-backdrop' },
      h(
        'form',
        {
          class: 'modal',
          id: 'token-form',
          onsubmit: (e: Event) => {
            e.preventDefault();
            if (input.value.trim() === '') return;
            setToken(input.value.trim());
            dialog.remove();
            resolve();
          },
        },
        h('h2', null, 'This gateway needs a token'),
        h('p', { class: 'muted' }, 'Enter the API token from gateway.yaml (api.token) or FIELDGATE_API_TOKEN. It is kept in this browser tab only.'),
        refused ? h('div', { class: 'alert alert-bad' }, 'The gateway refused that token.') : null,
        h('label', { for: 'token-input', class: 'label' }, 'Token'),
        input,
        h('div', { class: 'modal-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Unlock')),
      ),
    );
    document.body.append(dialog);
    input.focus();
  });
}

function start(): void {
  const app = document.getElementById('app')!;
  const main = h('main', { class: 'content', id: 'content' });
  const health = h('div', { class: 'health' }, h('span', { class: 'health-dot' }), h('span', { class: 'health-text' }, 'checking…'));
  const nav = h('nav', { class: 'nav' }, navItem('devices', 'Devices', '#/devices'), navItem('drivers', 'Drivers & links', '#/drivers'), navItem('config', 'Configuration', '#/config'));
  fill(
    app,
    h(
      'div',
      { class: 'shell' },
      h(
        'aside',
        { class: 'sidebar' },
        h(
          'div',
          { class: 'sidebar-inner' },
          h('a', { class: 'brand', href: '#/devices' }, h('img', { src: '/console/favicon.svg', alt: '', width: 28, height: 28 }), h('span', null, 'fieldgate')),
          nav,
          health,
        ),
      ),
      main,
    ),
  );
  onTokenNeeded(tokenPrompt);

  let current: AbortController | undefined;
  const route = () => {
    const hash = location.hash || '#/devices';
    current?.abort();
    current = new AbortController();
    for (const r of routes) {
      const m = r.pattern.exec(hash);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? '')));
      for (const a of nav.querySelectorAll<HTMLElement>('.nav-item')) a.classList.toggle('active', a.dataset.nav === r.nav);
      main.scrollTop = 0;
      r.page(main, params, current.signal);
      document.title = `${params.name ?? r.nav[0]!.toUpperCase() + r.nav.slice(1)} · fieldgate`;
      return;
    }
    location.hash = '#/devices';
  };
  window.addEventListener('hashchange', route);
  route();

  const checkHealth = async () => {
    const text = health.querySelector('.health-text')!;
    try {
      const hl = await api<Health>('GET', '/health');
      health.className = `health health-${hl.status === 'ok' ? 'ok' : 'warn'}`;
      setText(text, `broker ${hl.broker} · ${hl.online}/${hl.devices} online`);
    } catch (e) {
      health.className = 'health health-bad';
      setText(text, e instanceof ApiError ? `gateway error ${e.status}` : 'gateway unreachable');
    }
  };
  void checkHealth();
  window.setInterval(() => void checkHealth(), 5000);
}

start();
