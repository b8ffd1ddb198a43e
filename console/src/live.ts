/**
 * Reads the gateway's server-sent event stream with fetch() (EventSource cannot send the bearer
 * token) and reconnects with a growing delay when it drops. On every (re)connect `onOpen` runs,
 * so that a page can reload what it may have missed.
 */
import { authHeaders, needToken } from './api.ts';
import type { LiveEvent } from './types.ts';

export interface StreamHandlers {
  onEvent(e: LiveEvent): void;
  onOpen?(): void;
  onState?(connected: boolean): void;
}

/** Parses SSE text into `{event, data}` messages; returns the unparsed rest. */
export function parseSse(buffer: string, emit: (event: string, data: string) => void): string {
  const parts = buffer.split(/\r?\n\r?\n/);
  const rest = parts.pop() ?? '';
  for (const block of parts) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) emit(event, data.join('\n'));
  }
  return rest;
}

/** Streams `/api/v1/events` (of one device, of some event types, when given) until `signal` aborts. */
export function liveStream(device: string | undefined, handlers: StreamHandlers, signal: AbortSignal, types?: readonly string[]): void {
  const q = new URLSearchParams();
  if (device) q.set('device', device);
  if (types) q.set('types', types.join(','));
  const url = `/api/v1/events${q.toString() !== '' ? `?${q}` : ''}`;
  let delay = 500;
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const res = await fetch(url, { headers: { accept: 'text/event-stream', ...authHeaders() }, signal, cache: 'no-store' });
        if (res.status === 401) {
          await needToken();
          continue;
        }
        if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer = parseSse(buffer + value, (event, data) => {
            if (event === 'ready') {
              delay = 500;
              handlers.onState?.(true);
              handlers.onOpen?.();
              return;
            }
            try {
              handlers.onEvent(JSON.parse(data) as LiveEvent);
            } catch (e) {
              console.error('bad live event', e);
            }
          });
        }
      } catch {
        if (signal.aborted) return;
      }
      handlers.onState?.(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
}
