/** Small shared pieces of the console's look: badges, cards, stat tiles, empty and error states. */
import { h } from './dom.ts';

export type Tone = 'ok' | 'bad' | 'warn' | 'idle' | 'info';

export function badge(text: string, tone: Tone, extra: Record<string, string> = {}): HTMLSpanElement {
  return h('span', { class: `badge badge-${tone}`, ...extra }, h('span', { class: 'badge-dot' }), text);
}

/** The online/offline badge of a device (`null` = not polled yet). */
export function onlineBadge(online: boolean | null): HTMLSpanElement {
  return online === null ? badge('Pending', 'idle', { 'data-state': 'pending' }) : online ? badge('Online', 'ok', { 'data-state': 'online' }) : badge('Offline', 'bad', { 'data-state': 'offline' });
}

/** Link state machine states as tones. */
export function linkTone(state: string): Tone {
  if (state === 'online') return 'ok';
  if (state === 'backoff' || state === 'closed') return 'bad';
  if (state === 'connecting' || state === 'closing') return 'warn';
  return 'idle';
}

export function card(title: string | Node, body: Node | Node[], actions?: Node): HTMLElement {
  return h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h2', null, title), actions ?? null), h('div', { class: 'card-body' }, body));
}

export function stat(label: string, value: string | Node, tone?: Tone): HTMLElement {
  return h('div', { class: `stat${tone ? ` stat-${tone}` : ''}` }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
}

export function empty(text: string): HTMLElement {
  return h('div', { class: 'empty' }, text);
}

export function errorBox(e: unknown): HTMLElement {
  return h('div', { class: 'alert alert-bad', role: 'alert' }, e instanceof Error ? e.message : String(e));
}

export function pageHead(title: string | Node, sub?: Node | string | null, actions?: Node | null): HTMLElement {
  return h('div', { class: 'page-head' }, h('div', null, h('h1', null, title), sub ? h('div', { class: 'page-sub' }, sub) : null), actions ?? null);
}
