/**
 * Calls the gateway's REST API. The bearer token, when the gateway has one, lives in
 * sessionStorage (gone when the tab closes); a 401 asks the user for it once and retries.
 */
import type { ApiErrorBody } from './types.ts';

const KEY = 'fieldgate.token';

/** A non-2xx answer, with the API's JSON error when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | undefined,
    /** The parsed JSON of the answer, whatever its shape. */
    readonly raw: unknown,
  ) {
    super(body?.error.message ?? `HTTP ${status}`);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, t);
}

/** Shows the token prompt; resolves once a new token was entered. Set by main.ts. */
let askToken: (refused: boolean) => Promise<void> = () => Promise.reject(new Error('no token prompt'));
let pending: Promise<void> | undefined;

export function onTokenNeeded(fn: (refused: boolean) => Promise<void>): void {
  askToken = fn;
}

/** Waits for the user to give a token; concurrent 401s share one prompt. */
export function needToken(): Promise<void> {
  pending ??= askToken(token() !== null).finally(() => {
    pending = undefined;
  });
  return pending;
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** GET/POST JSON; throws ApiError on a non-2xx answer (after asking for a token on 401). */
export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, {
      method,
      headers: { accept: 'application/json', ...authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    if (res.status === 401 && attempt < 5) {
      await needToken();
      continue;
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new ApiError(res.status, isErrorBody(json) ? json : undefined, json);
    return json as T;
  }
}

function isErrorBody(x: unknown): x is ApiErrorBody {
  return typeof x === 'object' && x !== null && 'error' in x && typeof (x as { error: unknown }).error === 'object';
}

/** A problem in the configuration on disk, as the API reports it. */
export interface ConfigIssue {
  file: string;
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * What a reload would change (`/config/plan`) or did change (`/config/reload`): device names
 * per fate, or the issues that made the gateway refuse the configuration (HTTP 422).
 */
export type ReloadResult =
  | { ok: true; added: string[]; removed: string[]; changed: string[]; unchanged: string[] }
  | { ok: false; issues: ConfigIssue[] };

/** POSTs to a config endpoint whose 422 answer carries issues in the same shape as its 200. */
async function configCall(path: string, signal?: AbortSignal): Promise<ReloadResult> {
  try {
    return await api<ReloadResult>('POST', path, undefined, signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422 && typeof e.raw === 'object' && e.raw !== null && 'issues' in e.raw) return e.raw as ReloadResult;
    throw e;
  }
}

/** What a reload would change now; nothing is applied. */
export function planConfig(signal?: AbortSignal): Promise<ReloadResult> {
  return configCall('/api/v1/config/plan', signal);
}

/** Loads the configuration on disk and applies it (only changed devices restart). */
export function reloadConfig(signal?: AbortSignal): Promise<ReloadResult> {
  return configCall('/api/v1/config/reload', signal);
}
